"""The embedded default store: one SQLite file (DATABASE_PATH) in WAL mode. The writer's
connection writes; each reader (commands, the REST API) has a connection of its own that opened
the file read-only; a checkpointer copies the WAL back off the commit path."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import aiosqlite

from bot.core.alerting.engine import AlertEngine, EngineSettings
from bot.core.velocity import PaceBook
from bot.store.batch import Batch
from bot.store.sqlite import connect, state, write
from bot.store.sqlite.deliveries import SqliteDeliveries
from bot.store.sqlite.reads import SqliteReads


class SqliteBackend:
    """Open it, use it, close it (closes every connection it opened)."""

    transient = (sqlite3.OperationalError,)  # locked too long, disk full, I/O error
    unavailable = transient  # what a read meets while the file cannot be read

    def __init__(self, path: Path) -> None:
        self.path = path
        self.shown = str(path)
        self._db: aiosqlite.Connection | None = None
        self._readers: list[aiosqlite.Connection] = []

    @property
    def db(self) -> aiosqlite.Connection:
        """The writer's connection (open() first)."""
        if self._db is None:
            raise RuntimeError("open() the store first")
        return self._db

    async def open(self) -> None:
        """Open the file (creating it and its folder), migrate it, tidy what older versions
        left (feed URLs stored with their credentials)."""
        self._db = await connect.connect(self.path)
        await connect.migrate(self._db)
        await connect.hide_feed_credentials(self._db)

    async def reads(self) -> SqliteReads:
        """Reads on a new read-only connection: a long read here never delays another's."""
        reader = await connect.connect(self.path, readonly=True)
        self._readers.append(reader)
        return SqliteReads(reader)

    async def load_engine(
        self, settings: EngineSettings, *, now: float, paces: PaceBook | None = None
    ) -> AlertEngine:
        return await state.load_engine(self.db, settings, now=now, paces=paces)

    async def next_outbox_id(self) -> int:
        return await state.next_outbox_id(self.db)

    async def name_rows(self) -> dict[str, list[tuple[int, str]]]:
        return await state.name_rows(self.db)

    async def load_paces(self, book: PaceBook) -> None:
        await state.load_paces(self.db, book)

    async def write(self, batch: Batch) -> None:
        await write.write_batch(self.db, batch)

    async def sweep(self, before: float) -> tuple[int, bool]:
        first_kept = await SqliteReads(self.db).first_event_id_since(before)
        return await write.sweep_events(self.db, first_kept)

    def deliveries(self) -> SqliteDeliveries:
        """The sender's records, on a connection the sender opens and closes."""
        return SqliteDeliveries(self.path)

    async def maintain(self) -> None:
        """Runs for ever: checkpoints the WAL from a connection of its own."""
        await connect.checkpoint_forever(self.path)

    async def close(self) -> None:
        for reader in self._readers:
            await reader.close()
        self._readers.clear()
        if self._db is not None:
            await self._db.close()
            self._db = None
