"""What people read (slash commands, the App Home, the REST API), from PostgreSQL: one class made
of the reads of each kind of thing, through a pool of reader connections. The same answers, in
the same order, as bot/store/sqlite/reads/ (names compare byte-wise: COLLATE "C").

Lists of names go in as one array parameter (`= ANY($1)`), never as a list of placeholders, so
each read is one of a few statement texts and asyncpg's statement cache stays small."""

from __future__ import annotations

import asyncpg

from bot.store.postgres.reads.alerts import AlertReads
from bot.store.postgres.reads.events import EventReads
from bot.store.postgres.reads.levels import LevelReads
from bot.store.postgres.reads.pages import PageReads
from bot.store.postgres.reads.transfers import TransferReads


class PostgresReads(LevelReads, EventReads, AlertReads, TransferReads, PageReads):
    """Every read, each on a connection of the pool for its time."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    async def ping(self) -> None:
        """The database answers a trivial question."""
        await self._pool.fetchval("SELECT 1")
