"""The state the bot runs from, read back from SQLite at start: the alert engine as the last run
left it, the name maps, every shelf's pace, the next outbox id."""

from __future__ import annotations

import aiosqlite

from bot.core.alerting.engine import AlertEngine, EngineSettings
from bot.core.velocity import Pace, PaceBook
from bot.store.codec import (
    INCIDENT_COLUMNS,
    RULE_COLUMNS,
    SUGGESTION_COLUMNS,
    TRANSFER_COLUMNS,
)
from bot.store.restore import (
    RESTORED_INCIDENTS,
    EngineRows,
    engine_from_rows,
    settle_model_paces,
)


async def name_rows(db: aiosqlite.Connection) -> dict[str, list[tuple[int, str]]]:
    """(id, name) of every feed, store and model, by table."""
    found = {}
    for table, column in (("feeds", "url"), ("stores", "name"), ("models", "name")):
        async with db.execute(f"SELECT id, {column} FROM {table}") as cursor:
            found[table] = [tuple(row) for row in await cursor.fetchall()]
    return found


async def load_paces(db: aiosqlite.Connection, book: PaceBook) -> None:
    """Load every stored shelf's and model's pace into `book`, for the writer to keep."""
    async with db.execute(
        "SELECT s.name, m.name, l.fast_sold, l.fast_hours, l.slow_sold, l.slow_hours, "
        "l.last_sale_at, l.inventory > 0, l.inventory FROM levels l "
        "JOIN stores s ON s.id = l.store_id JOIN models m ON m.id = l.model_id"
    ) as cursor:
        async for store, model, *pace in cursor:
            book.shelves.setdefault(model, {})[store] = Pace(*pace)
    async with db.execute(
        "SELECT m.name, p.fast_sold, p.fast_hours, p.slow_sold, p.slow_hours, p.at, p.stocked "
        "FROM model_paces p JOIN models m ON m.id = p.model_id"
    ) as cursor:
        async for model, *pace in cursor:
            book.models[model] = Pace(*pace)
    settle_model_paces(book)


async def load_engine(
    db: aiosqlite.Connection,
    settings: EngineSettings,
    *,
    now: float,
    paces: PaceBook | None = None,
) -> AlertEngine:
    """The engine as the last run left it (bot/store/restore.py builds it from these rows)."""

    async def rows(sql: str, args: tuple = ()) -> list:
        async with db.execute(sql, args) as cursor:
            return list(await cursor.fetchall())

    (last_id,) = (await rows("SELECT max(id) FROM incidents"))[0]
    found = EngineRows(
        channels=await rows("SELECT id, stores, models, quiet_hours FROM channels"),
        rules=await rows(f"SELECT {RULE_COLUMNS} FROM rules"),
        last_incident_id=last_id,
        next_suggestion_id=await _next_id(db, "suggestions"),
        next_transfer_id=await _next_id(db, "transfers"),
        suggestions=await rows(f"SELECT {SUGGESTION_COLUMNS} FROM suggestions"),
        transfers=await rows(
            f"SELECT {TRANSFER_COLUMNS} FROM transfers "
            "WHERE status = 'accepted' OR coalesce(closed_at, at) > ?",
            (now - settings.transfers.block_for,),
        ),
        incidents=await rows(
            f"SELECT {INCIDENT_COLUMNS} FROM incidents WHERE {RESTORED_INCIDENTS}"
        ),
        machines=await rows("SELECT * FROM alert_machines"),
        mutes=await rows(
            "SELECT channel, kind, store, model, muted_by, muted_at, muted_until FROM mutes"
        ),
        notifiers=await rows("SELECT channel, state FROM notifiers"),
    )
    return engine_from_rows(found, settings, paces=paces)


async def next_outbox_id(db: aiosqlite.Connection) -> int:
    return await _next_id(db, "outbox")


async def _next_id(db: aiosqlite.Connection, table: str) -> int:
    # The highest id, not the count. Only suggestions are ever deleted, and their table is
    # AUTOINCREMENT (migration 5): sqlite_sequence remembers ids whose rows are gone.
    async with db.execute(
        f"SELECT max(coalesce((SELECT max(id) FROM {table}), 0), "
        "coalesce((SELECT seq FROM sqlite_sequence WHERE name = ?), 0))",
        (table,),
    ) as cursor:
        (last,) = await cursor.fetchone()
    return last + 1
