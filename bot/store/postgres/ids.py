"""The next id for tables whose ids the engine gives (incidents, outbox, suggestions,
transfers): above every id ever written, even of rows since deleted."""

from __future__ import annotations

import asyncpg

ENGINE_NUMBERED = ("incidents", "outbox", "suggestions", "transfers")


async def next_id(conn: asyncpg.Connection, table: str) -> int:
    """One more than the highest id `table` ever held: its identity sequence never falls below
    an id written (migration 1's keep_ids_above_written trigger), and its rows may hold more
    if they were copied in with the trigger off."""
    if table not in ENGINE_NUMBERED:
        raise ValueError(f"{table!r} does not take its ids from the engine")
    last = await conn.fetchval(
        f"SELECT greatest((SELECT max(id) FROM {table}), "
        f"pg_sequence_last_value(pg_get_serial_sequence('{table}', 'id')))"
    )
    return (last or 0) + 1
