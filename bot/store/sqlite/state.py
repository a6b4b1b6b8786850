"""The state the bot runs from, read back from SQLite at start: the alert engine as the last run
left it, the name maps, every shelf's pace, the next outbox id."""

from __future__ import annotations

import aiosqlite
import orjson

from bot.core.alerting.engine import AlertEngine, EngineSettings
from bot.core.alerting.incidents import Shown
from bot.core.alerting.machine import Side
from bot.core.rules import Channel, RuleBook, Scope
from bot.core.transfers.book import TransferBook
from bot.core.velocity import Pace, PaceBook, pooled
from bot.store.codec import (
    INCIDENT_COLUMNS,
    RULE_COLUMNS,
    SUGGESTION_COLUMNS,
    TRANSFER_COLUMNS,
    incident_from_row,
    machine_from_json,
    quiet_hours,
    rule_from_row,
    scope_names,
    suggestion_from_row,
    transfer_from_row,
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
    # A database from before paces were kept (migration 4) has shelves but no model paces, and
    # one written before this check may have miscounted: a model's pace must count exactly its
    # shelves holding stock, or a shelf selling out would make the count negative.
    for model, stores in book.shelves.items():
        if model not in book.models:
            book.models[model] = pooled(stores.values())
        else:
            book.models[model].stocked = sum(shelf.stocked for shelf in stores.values())


async def load_engine(
    db: aiosqlite.Connection,
    settings: EngineSettings,
    *,
    now: float,
    paces: PaceBook | None = None,
) -> AlertEngine:
    """The engine as the last run left it: rules, open incidents, machines, mutes, notifiers,
    suggestions and the transfers that still matter (open, or closed lately)."""
    book = RuleBook()
    async with db.execute("SELECT id, stores, models, quiet_hours FROM channels") as cursor:
        for channel_id, stores, models, quiet in await cursor.fetchall():
            book.channels[channel_id] = Channel(
                channel_id,
                Scope(scope_names(stores), scope_names(models)),
                quiet_hours(quiet),
            )
    async with db.execute(f"SELECT {RULE_COLUMNS} FROM rules") as cursor:
        for row in await cursor.fetchall():
            rule = rule_from_row(row)
            book.channel(rule.channel).rules[(rule.store, rule.model)] = rule
    async with db.execute("SELECT max(id) FROM incidents") as cursor:
        (last_id,) = await cursor.fetchone()
    transfers = TransferBook(
        settings.transfers,
        next_suggestion_id=await _next_id(db, "suggestions"),
        next_transfer_id=await _next_id(db, "transfers"),
    )
    async with db.execute(f"SELECT {SUGGESTION_COLUMNS} FROM suggestions") as cursor:
        suggestions = [suggestion_from_row(row) for row in await cursor.fetchall()]
    async with db.execute(
        f"SELECT {TRANSFER_COLUMNS} FROM transfers "
        "WHERE status = 'accepted' OR coalesce(closed_at, at) > ?",
        (now - settings.transfers.block_for,),
    ) as cursor:
        recent = [transfer_from_row(row) for row in await cursor.fetchall()]
    transfers.restore(suggestions, recent)
    engine = AlertEngine(
        book, settings, next_id=(last_id or 0) + 1, transfers=transfers, paces=paces
    )
    waiting = (Shown.WAITING.value, Shown.HELD.value)
    async with db.execute(
        f"SELECT {INCIDENT_COLUMNS} FROM incidents WHERE resolved_at IS NULL "
        f"OR shown IN {waiting} OR id IN "
        "(SELECT parent_id FROM incidents WHERE resolved_at IS NULL AND parent_id IS NOT NULL)"
    ) as cursor:
        incidents = [incident_from_row(row) for row in await cursor.fetchall()]
    async with db.execute("SELECT * FROM alert_machines") as cursor:
        machines = [
            ((channel, store, model, Side(side)), machine_from_json(Side(side), state))
            for channel, store, model, side, state in await cursor.fetchall()
        ]
    async with db.execute(
        "SELECT channel, kind, store, model, muted_by, muted_at, muted_until FROM mutes"
    ) as cursor:
        mutes = [
            ((c, k, s, m), (by, at, until)) for c, k, s, m, by, at, until in await cursor.fetchall()
        ]
    async with db.execute("SELECT channel, state FROM notifiers") as cursor:
        notifiers = [(channel, orjson.loads(state)) for channel, state in await cursor.fetchall()]
    engine.restore(incidents=incidents, machines=machines, mutes=mutes, notifiers=notifiers)
    return engine


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
