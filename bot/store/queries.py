"""Read queries over the stored state. Slash commands, the API and tests read through these."""

from __future__ import annotations

from dataclasses import dataclass

import aiosqlite


@dataclass(frozen=True, slots=True)
class Level:
    """Current stock of one model at one store."""

    store: str
    model: str
    inventory: int
    last_sale_at: float
    sale_count: int


@dataclass(frozen=True, slots=True)
class StoredEvent:
    id: int
    at: float
    feed: str
    store: str
    model: str
    inventory: int


@dataclass(frozen=True, slots=True)
class DeadLetter:
    id: int
    at: float
    feed: str
    reason: str
    detail: str
    sample: str
    size: int


_LEVEL_SELECT = """
    SELECT s.name, m.name, l.inventory, l.last_sale_at, l.sale_count
    FROM levels l JOIN stores s ON s.id = l.store_id JOIN models m ON m.id = l.model_id
"""


async def levels(
    db: aiosqlite.Connection, *, store: str | None = None, model: str | None = None
) -> list[Level]:
    """Levels, lowest first, optionally for one store or one model (exact names)."""
    where, args = [], []
    if store is not None:
        where.append("s.name = ?")
        args.append(store)
    if model is not None:
        where.append("m.name = ?")
        args.append(model)
    sql = _LEVEL_SELECT + (" WHERE " + " AND ".join(where) if where else "")
    sql += " ORDER BY l.inventory, s.name, m.name"
    async with db.execute(sql, args) as cursor:
        return [Level(*row) for row in await cursor.fetchall()]


async def events(
    db: aiosqlite.Connection, *, after_id: int = 0, limit: int = 1000
) -> list[StoredEvent]:
    """Stored events in arrival order, from after `after_id`."""
    sql = """
        SELECT e.id, e.at, f.url, s.name, m.name, e.inventory
        FROM events e
        JOIN feeds f ON f.id = e.feed_id
        JOIN stores s ON s.id = e.store_id
        JOIN models m ON m.id = e.model_id
        WHERE e.id > ? ORDER BY e.id LIMIT ?
    """
    async with db.execute(sql, (after_id, limit)) as cursor:
        return [StoredEvent(*row) for row in await cursor.fetchall()]


async def first_event_id_since(db: aiosqlite.Connection, at: float) -> int | None:
    """Id of the first event received at or after `at`, or None if there is none.

    Ids grow with arrival time, so a binary search over the id range finds it with a few
    primary-key lookups and the event log needs no index on time. (If the wall clock stepped
    back, the boundary may be off by the few events received during the step.)
    """
    async with db.execute("SELECT min(id), max(id) FROM events") as cursor:
        low, high = await cursor.fetchone()
    if low is None:
        return None
    probe = "SELECT id, at FROM events WHERE id >= ? ORDER BY id LIMIT 1"
    high += 1  # the answer x is the least id with "the first event from x on is recent enough"
    while low < high:
        middle = (low + high) // 2
        async with db.execute(probe, (middle,)) as cursor:
            row = await cursor.fetchone()
        if row is not None and row[1] >= at:
            high = middle
        else:
            low = row[0] + 1 if row is not None else middle + 1
    async with db.execute(probe, (low,)) as cursor:
        row = await cursor.fetchone()
    return row[0] if row is not None else None


async def event_count(db: aiosqlite.Connection) -> int:
    async with db.execute("SELECT count(*) FROM events") as cursor:
        (count,) = await cursor.fetchone()
    return count


async def dead_letters(db: aiosqlite.Connection, *, limit: int = 100) -> list[DeadLetter]:
    """The most recent refused frames, newest first."""
    sql = """
        SELECT d.id, d.at, f.url, d.reason, d.detail, d.sample, d.size
        FROM dead_letters d JOIN feeds f ON f.id = d.feed_id
        ORDER BY d.id DESC LIMIT ?
    """
    async with db.execute(sql, (limit,)) as cursor:
        return [DeadLetter(*row) for row in await cursor.fetchall()]


async def bad_frame_counts(db: aiosqlite.Connection) -> dict[str, int]:
    """Refused frames ever counted, by reason, over all feeds."""
    sql = "SELECT reason, sum(count) FROM bad_frame_counts GROUP BY reason"
    async with db.execute(sql) as cursor:
        return dict(await cursor.fetchall())
