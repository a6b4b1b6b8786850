"""What people read (slash commands, the App Home, the REST API), from SQLite: one class made of
the reads of each kind of thing, on a connection that opened the file read-only."""

from __future__ import annotations

import aiosqlite

from bot.store.sqlite.reads.alerts import AlertReads
from bot.store.sqlite.reads.events import EventReads
from bot.store.sqlite.reads.levels import LevelReads
from bot.store.sqlite.reads.pages import PageReads
from bot.store.sqlite.reads.transfers import TransferReads


class SqliteReads(LevelReads, EventReads, AlertReads, TransferReads, PageReads):
    """Every read, on one read-only connection."""

    def __init__(self, db: aiosqlite.Connection) -> None:
        self._db = db

    async def ping(self) -> None:
        """The database answers a trivial question."""
        await self._db.execute_fetchall("SELECT 1")
