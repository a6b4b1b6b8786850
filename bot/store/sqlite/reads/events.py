"""The event log and the refused frames."""

from __future__ import annotations

from collections.abc import AsyncIterator, Collection

import aiosqlite

from bot.core.replay import Sale
from bot.store.rows import DeadLetter, StoredEvent


class EventReads:
    """Reads of the event log and the dead letters."""

    _db: aiosqlite.Connection

    async def events(self, *, after_id: int = 0, limit: int = 1000) -> list[StoredEvent]:
        """Stored events in arrival order, from after `after_id`."""
        sql = """
            SELECT e.id, e.at, f.url, s.name, m.name, e.inventory
            FROM events e
            JOIN feeds f ON f.id = e.feed_id
            JOIN stores s ON s.id = e.store_id
            JOIN models m ON m.id = e.model_id
            WHERE e.id > ? ORDER BY e.id LIMIT ?
        """
        async with self._db.execute(sql, (after_id, limit)) as cursor:
            return [StoredEvent(*row) for row in await cursor.fetchall()]

    async def first_event_id_since(self, at: float) -> int | None:
        """Id of the first event received at or after `at`, or None if there is none.

        Ids grow with arrival time, so a binary search over the id range finds it with a few
        primary-key lookups and the event log needs no index on time. (If the wall clock stepped
        back, the boundary may be off by the few events received during the step.)
        """
        async with self._db.execute("SELECT min(id), max(id) FROM events") as cursor:
            low, high = await cursor.fetchone()
        if low is None:
            return None
        probe = "SELECT id, at FROM events WHERE id >= ? ORDER BY id LIMIT 1"
        high += 1  # the answer x is the least id with "the first event from x on is recent enough"
        while low < high:
            middle = (low + high) // 2
            async with self._db.execute(probe, (middle,)) as cursor:
                row = await cursor.fetchone()
            if row is not None and row[1] >= at:
                high = middle
            else:
                low = row[0] + 1 if row is not None else middle + 1
        async with self._db.execute(probe, (low,)) as cursor:
            row = await cursor.fetchone()
        return row[0] if row is not None else None

    async def event_count(self) -> int:
        async with self._db.execute("SELECT count(*) FROM events") as cursor:
            (count,) = await cursor.fetchone()
        return count

    async def dead_letters(self, *, limit: int = 100) -> list[DeadLetter]:
        """The most recent refused frames, newest first."""
        sql = """
            SELECT d.id, d.at, f.url, d.reason, d.detail, d.sample, d.size
            FROM dead_letters d JOIN feeds f ON f.id = d.feed_id
            ORDER BY d.id DESC LIMIT ?
        """
        async with self._db.execute(sql, (limit,)) as cursor:
            return [DeadLetter(*row) for row in await cursor.fetchall()]

    async def bad_frame_counts(self) -> dict[str, int]:
        """Refused frames ever counted, by reason, over all feeds."""
        sql = "SELECT reason, sum(count) FROM bad_frame_counts GROUP BY reason"
        async with self._db.execute(sql) as cursor:
            return dict(await cursor.fetchall())

    async def sales_since(
        self,
        since: float,
        *,
        stores: Collection[str] | None = None,
        models: Collection[str] | None = None,
        limit: int,
        chunk: int = 10_000,
    ) -> tuple[AsyncIterator[list[Sale]], bool]:
        """Stored sales received since `since`, oldest first, optionally within a scope, in
        lists of at most `chunk`: at most `limit` (the latest ones), and whether there were
        more. Memory stays that of one chunk however many sales there are."""
        first = await self.first_event_id_since(since)
        if first is None:
            return _nothing(), False
        where, args = ["e.id >= ?"], [first]
        for column, table, names in (
            ("store_id", "stores", stores),
            ("model_id", "models", models),
        ):
            if names is not None:
                marks = ", ".join("?" * len(names))
                where.append(f"e.{column} IN (SELECT id FROM {table} WHERE name IN ({marks}))")
                args.extend(names)
        # Only the latest `limit`: they start after the (limit + 1)-th newest, if there is one.
        sql = f"SELECT e.id FROM events e WHERE {' AND '.join(where)} ORDER BY e.id DESC "
        async with self._db.execute(sql + "LIMIT 1 OFFSET ?", [*args, limit]) as cursor:
            older = await cursor.fetchone()
        if older is not None:
            where.append("e.id > ?")
            args.append(older[0])
        sql = f"""
            SELECT e.at, s.name, m.name, e.inventory FROM events e
            JOIN stores s ON s.id = e.store_id JOIN models m ON m.id = e.model_id
            WHERE {" AND ".join(where)} ORDER BY e.id
        """
        return self._chunks(sql, args, chunk), older is not None

    async def _chunks(self, sql: str, args: list, size: int) -> AsyncIterator[list[Sale]]:
        async with self._db.execute(sql, args) as cursor:
            while rows := await cursor.fetchmany(size):
                yield rows


async def _nothing() -> AsyncIterator[list[Sale]]:
    return
    yield
