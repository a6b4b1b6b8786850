"""The event log and the refused frames. The log is partitioned by day of `at`: a read "since T"
says `at >= T`, so the server reads only the days since T (partition pruning)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Collection

import asyncpg

from bot.core.replay import Sale
from bot.store.postgres.reads.levels import name_filter
from bot.store.rows import DeadLetter, StoredEvent

EVENT_SELECT = """
    SELECT e.id, e.at, f.url, s.name, m.name, e.inventory FROM events e
    JOIN feeds f ON f.id = e.feed_id JOIN stores s ON s.id = e.store_id
    JOIN models m ON m.id = e.model_id
"""


class EventReads:
    """Reads of the event log and the dead letters."""

    _pool: asyncpg.Pool

    async def events(self, *, after_id: int = 0, limit: int = 1000) -> list[StoredEvent]:
        """Stored events in arrival order, from after `after_id`."""
        rows = await self._pool.fetch(
            f"{EVENT_SELECT} WHERE e.id > $1 ORDER BY e.id LIMIT $2", after_id, limit
        )
        return [StoredEvent(*row) for row in rows]

    async def first_event_id_since(self, at: float) -> int | None:
        """Id of the first event received at or after `at`, or None if there is none: through
        the index on `at`, in the partitions from `at`'s day on."""
        return await self._pool.fetchval(
            "SELECT id FROM events WHERE at >= $1 ORDER BY at, id LIMIT 1", at
        )

    async def event_count(self) -> int:
        return await self._pool.fetchval("SELECT count(*) FROM events")

    async def dead_letters(self, *, limit: int = 100) -> list[DeadLetter]:
        """The most recent refused frames, newest first."""
        rows = await self._pool.fetch(
            "SELECT d.id, d.at, f.url, d.reason, d.detail, d.sample, d.size "
            "FROM dead_letters d JOIN feeds f ON f.id = d.feed_id ORDER BY d.id DESC LIMIT $1",
            limit,
        )
        return [DeadLetter(*row) for row in rows]

    async def bad_frame_counts(self) -> dict[str, int]:
        """Refused frames ever counted, by reason, over all feeds."""
        rows = await self._pool.fetch(
            "SELECT reason, sum(count)::bigint FROM bad_frame_counts GROUP BY reason"
        )
        return dict(rows)

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
        lists of at most `chunk` (through a cursor: memory stays that of one chunk): at most
        `limit` (the latest ones), and whether there were more."""
        where, args = ["e.at >= $1"], [since]
        for column, table, names in (
            ("e.store_id", "stores", stores),
            ("e.model_id", "models", models),
        ):
            found = name_filter(column, table, None, names, args)
            if found is not None:
                where.append(found)
        # Only the latest `limit`: they start after the (limit + 1)-th newest, if there is one.
        older = await self._pool.fetchval(
            f"SELECT e.id FROM events e WHERE {' AND '.join(where)} "
            f"ORDER BY e.id DESC LIMIT 1 OFFSET ${len(args) + 1}",
            *args,
            limit,
        )
        if older is not None:
            args.append(older)
            where.append(f"e.id > ${len(args)}")
        sql = (
            "SELECT e.at, s.name, m.name, e.inventory FROM events e "
            "JOIN stores s ON s.id = e.store_id JOIN models m ON m.id = e.model_id "
            f"WHERE {' AND '.join(where)} ORDER BY e.id"
        )
        return self._chunks(sql, args, chunk), older is not None

    async def _chunks(self, sql: str, args: list, size: int) -> AsyncIterator[list[Sale]]:
        # One connection of the pool, in one read-only transaction, for as long as the caller
        # reads: a server-side cursor lives in its transaction.
        async with self._pool.acquire() as conn, conn.transaction(readonly=True):
            cursor = await conn.cursor(sql, *args)
            while rows := await cursor.fetch(size):
                yield [tuple(row) for row in rows]
