"""The event log's day partitions: made ahead, dropped whole for retention (migration 1 holds
the SQL functions; these are what the writer's sweep calls)."""

from __future__ import annotations

import asyncpg

DAY = 86_400.0


async def add_event_partitions(
    conn: asyncpg.Connection, now: float, *, days_ahead: int = 1
) -> list[str]:
    """Make sure events has a partition for the UTC day of `now` and the `days_ahead` after it;
    return the names of those it created. Raises asyncpg.LockNotAvailableError if a long reader
    kept the table over a second: try again at the next sweep."""
    rows = await conn.fetch("SELECT events_add_partitions($1, $2)", now, days_ahead)
    return [name for (name,) in rows]


async def drop_event_partitions(conn: asyncpg.Connection, before: float) -> list[str]:
    """Drop the partitions of events whose whole day is before `before` (epoch seconds, e.g.
    now - EVENT_RETENTION_DAYS * DAY); return their names, oldest first. Raises
    asyncpg.LockNotAvailableError like add_event_partitions."""
    rows = await conn.fetch("SELECT events_drop_partitions($1)", before)
    return [name for (name,) in rows]
