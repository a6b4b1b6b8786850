"""The sender's records in SQLite (see bot/store/deliveries.py for what they are)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import aiosqlite

from bot.store.deliveries import StorageError, Undelivered
from bot.store.sqlite import connect as database


class SqliteDeliveries:
    """The sender's records in the bot's SQLite database, on a connection of their own."""

    def __init__(self, path: Path, *, busy_timeout: float = 5.0) -> None:
        self.path = path
        self.busy_timeout = busy_timeout  # seconds a write waits for another's lock
        self._db: aiosqlite.Connection | None = None

    async def open(self) -> None:
        """Open the connection (the database is migrated already)."""
        self._db = await database.connect(self.path)
        await self._db.execute(f"PRAGMA busy_timeout = {int(self.busy_timeout * 1000)}")

    async def close(self) -> None:
        if self._db is not None:
            await self._db.close()
            self._db = None

    async def undelivered(self) -> list[Undelivered]:
        """Every outbox row neither sent, superseded nor given up, oldest first."""
        rows = await self._read(
            "SELECT o.id, o.channel, o.op, o.incident_id, o.payload, coalesce(d.attempts, 0), "
            "d.first_attempt_at, o.created_at "
            "FROM outbox o LEFT JOIN deliveries d ON d.outbox_id = o.id "
            "WHERE d.state IS NULL OR d.state = 'trying' ORDER BY o.id",
            (),
        )
        return [Undelivered(*row) for row in rows]

    async def trying(self, outbox_id: int, attempts: int, first_attempt_at: float) -> None:
        """A call for the row is about to go out: after a crash, it may have reached Slack."""
        await self._write(
            "INSERT INTO deliveries (outbox_id, state, attempts, first_attempt_at) "
            "VALUES (?, 'trying', ?, ?) ON CONFLICT (outbox_id) DO UPDATE SET "
            "attempts = excluded.attempts",
            (outbox_id, attempts, first_attempt_at),
        )

    async def finish(
        self,
        outbox_id: int,
        state: str,
        attempts: int,
        first_attempt_at: float | None,
        done_at: float,
        error: str | None,
    ) -> None:
        """The row is done with: state is sent, superseded or failed (with the error)."""
        await self._write(
            "INSERT INTO deliveries (outbox_id, state, attempts, first_attempt_at, done_at, "
            "error) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (outbox_id) DO UPDATE SET "
            "state = excluded.state, attempts = excluded.attempts, done_at = excluded.done_at, "
            "error = excluded.error",
            (outbox_id, state, attempts, first_attempt_at, done_at, error),
        )

    async def remember(self, incident_id: int, channel_id: str, ts: str) -> None:
        """Where the incident's message is in Slack (a re-post replaces it)."""
        await self._write(
            "INSERT OR REPLACE INTO messages (incident_id, channel_id, ts) VALUES (?, ?, ?)",
            (incident_id, channel_id, ts),
        )

    async def location(self, incident_id: int) -> tuple[str, str] | None:
        """(channel id, ts) of the incident's message, or None if it was never posted."""
        rows = await self._read(
            "SELECT channel_id, ts FROM messages WHERE incident_id = ?", (incident_id,)
        )
        return (rows[0][0], rows[0][1]) if rows else None

    async def _read(self, sql: str, args: tuple) -> list[tuple]:
        try:
            async with self._connection().execute(sql, args) as cursor:
                return list(await cursor.fetchall())
        except sqlite3.OperationalError as error:
            raise StorageError(str(error)) from error

    async def _write(self, sql: str, args: tuple) -> None:
        # One statement in autocommit mode: SQLite holds the write lock only while it runs. An
        # explicit BEGIN ... COMMIT held it across two turns of the event loop, which a busy
        # feed makes milliseconds long, and the writer's next batch waited on it.
        try:
            await self._connection().execute(sql, args)
        except sqlite3.OperationalError as error:
            # Locked past the busy timeout, disk or database full, I/O error: all may pass.
            raise StorageError(str(error)) from error

    def _connection(self) -> aiosqlite.Connection:
        if self._db is None:
            raise StorageError("the sender's database connection is not open")
        return self._db
