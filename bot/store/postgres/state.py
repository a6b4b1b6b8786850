"""The state the bot runs from, read back from PostgreSQL at start: the alert engine as the last
run left it, the name maps, every shelf's pace, the next outbox id."""

from __future__ import annotations

import asyncpg

from bot.core.alerting.engine import AlertEngine, EngineSettings
from bot.core.velocity import Pace, PaceBook
from bot.store.codec import (
    INCIDENT_COLUMNS,
    RULE_COLUMNS,
    SUGGESTION_COLUMNS,
    TRANSFER_COLUMNS,
)
from bot.store.postgres.ids import next_id
from bot.store.restore import (
    RESTORED_INCIDENTS,
    EngineRows,
    engine_from_rows,
    settle_model_paces,
)

NAME_COLUMNS = (("feeds", "url"), ("stores", "name"), ("models", "name"))
PACE_CHUNK = 50_000  # levels fetched a round trip while loading paces


async def name_rows(conn: asyncpg.Connection) -> dict[str, list[tuple[int, str]]]:
    """(id, name) of every feed, store and model, by table."""
    return {
        table: [tuple(row) for row in await conn.fetch(f"SELECT id, {column} FROM {table}")]
        for table, column in NAME_COLUMNS
    }


async def load_paces(conn: asyncpg.Connection, book: PaceBook) -> int:
    """Load every stored shelf's and model's pace into `book`, for the writer to keep; returns
    the newest event they count (a standby follows the log from there).

    Made for a million levels: the levels come by id, without joining their names (the ids are
    mapped here, from maps of a few thousand names), through a cursor a chunk at a time, so
    neither the server nor this process holds all the rows at once. One snapshot for both."""
    async with conn.transaction(isolation="repeatable_read", readonly=True):
        stores = dict(await conn.fetch("SELECT id, name FROM stores"))
        models = dict(await conn.fetch("SELECT id, name FROM models"))
        shelves = book.shelves
        cursor = await conn.cursor(
            "SELECT model_id, store_id, fast_sold, fast_hours, slow_sold, slow_hours, "
            "last_sale_at, (inventory > 0)::integer, inventory FROM levels ORDER BY model_id"
        )
        last_model, shelf = None, {}
        while chunk := await cursor.fetch(PACE_CHUNK):
            for model_id, store_id, *pace in chunk:
                if model_id != last_model:
                    last_model = model_id
                    shelf = shelves.setdefault(models[model_id], {})
                shelf[stores[store_id]] = Pace(*pace)
        for model_id, *pace in await conn.fetch(
            "SELECT model_id, fast_sold, fast_hours, slow_sold, slow_hours, at, stocked "
            "FROM model_paces"
        ):
            book.models[models[model_id]] = Pace(*pace)
        newest = await conn.fetchval("SELECT coalesce(max(id), 0) FROM events")
    settle_model_paces(book)
    return newest


async def load_engine(
    conn: asyncpg.Connection,
    settings: EngineSettings,
    *,
    now: float,
    paces: PaceBook | None = None,
) -> AlertEngine:
    """The engine as the last run left it (bot/store/restore.py builds it from these rows)."""
    async with conn.transaction(isolation="repeatable_read", readonly=True):
        found = EngineRows(
            channels=await conn.fetch("SELECT id, stores, models, quiet_hours FROM channels"),
            rules=await conn.fetch(f"SELECT {RULE_COLUMNS} FROM rules"),
            last_incident_id=await conn.fetchval("SELECT max(id) FROM incidents"),
            next_suggestion_id=await next_id(conn, "suggestions"),
            next_transfer_id=await next_id(conn, "transfers"),
            suggestions=await conn.fetch(f"SELECT {SUGGESTION_COLUMNS} FROM suggestions"),
            transfers=await conn.fetch(
                f"SELECT {TRANSFER_COLUMNS} FROM transfers "
                "WHERE status = 'accepted' OR coalesce(closed_at, at) > $1",
                now - settings.transfers.block_for,
            ),
            incidents=await conn.fetch(
                f"SELECT {INCIDENT_COLUMNS} FROM incidents WHERE {RESTORED_INCIDENTS}"
            ),
            machines=await conn.fetch(
                "SELECT channel, store, model, side, state FROM alert_machines"
            ),
            mutes=await conn.fetch(
                "SELECT channel, kind, store, model, muted_by, muted_at, muted_until FROM mutes"
            ),
            notifiers=await conn.fetch("SELECT channel, state FROM notifiers"),
        )
    return engine_from_rows(found, settings, paces=paces)


async def next_outbox_id(conn: asyncpg.Connection) -> int:
    return await next_id(conn, "outbox")
