"""The sender's records in PostgreSQL: which outbox rows were tried, delivered or given up, and
where each incident's message is in Slack. The methods and meaning of the sender's Deliveries
(bot/store/deliveries.py), as SqliteDeliveries has them; each record is one statement in
autocommit, through a small pool of its own, so a record never holds a lock across a Slack
call and the channels' senders record at once."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeVar

import asyncpg
from pydantic import SecretStr

from bot.store.deliveries import StorageError, Undelivered
from bot.store.postgres.connect import READER_SETTINGS, create_pool
from bot.store.postgres.errors import BROKEN_CONNECTION, TRANSIENT

T = TypeVar("T")


class PostgresDeliveries:
    """The sender's records in the bot's PostgreSQL database, through a pool of their own."""

    def __init__(self, url: str | SecretStr, *, pool_size: int = 2) -> None:
        self._url = url
        self._pool_size = pool_size
        self._pool: asyncpg.Pool | None = None

    async def open(self) -> None:
        """Open the pool (the database is migrated already); ConnectError if it cannot."""
        self._pool = await create_pool(
            self._url,
            name="inventory-bot sender",
            settings=READER_SETTINGS,
            min_size=1,
            max_size=self._pool_size,
        )

    async def close(self) -> None:
        if self._pool is not None:
            await self._pool.close()
            self._pool = None

    async def undelivered(self) -> list[Undelivered]:
        """Every outbox row neither sent, superseded nor given up, oldest first."""
        rows = await self._call(
            lambda pool: pool.fetch(
                "SELECT o.id, o.channel, o.op, o.incident_id, o.payload, "
                "coalesce(d.attempts, 0), d.first_attempt_at, o.created_at "
                "FROM outbox o LEFT JOIN deliveries d ON d.outbox_id = o.id "
                "WHERE d.state IS NULL OR d.state = 'trying' ORDER BY o.id"
            )
        )
        return [Undelivered(*row) for row in rows]

    async def trying(self, outbox_id: int, attempts: int, first_attempt_at: float) -> None:
        """A call for the row is about to go out: after a crash, it may have reached Slack."""
        await self._call(
            lambda pool: pool.execute(
                "INSERT INTO deliveries (outbox_id, state, attempts, first_attempt_at) "
                "VALUES ($1, 'trying', $2, $3) ON CONFLICT (outbox_id) DO UPDATE SET "
                "attempts = excluded.attempts",
                outbox_id,
                attempts,
                first_attempt_at,
            )
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
        await self._call(
            lambda pool: pool.execute(
                "INSERT INTO deliveries (outbox_id, state, attempts, first_attempt_at, done_at, "
                "error) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (outbox_id) DO UPDATE SET "
                "state = excluded.state, attempts = excluded.attempts, "
                "done_at = excluded.done_at, error = excluded.error",
                outbox_id,
                state,
                attempts,
                first_attempt_at,
                done_at,
                error,
            )
        )

    async def remember(self, incident_id: int, channel_id: str, ts: str) -> None:
        """Where the incident's message is in Slack (a re-post replaces it)."""
        await self._call(
            lambda pool: pool.execute(
                "INSERT INTO messages (incident_id, channel_id, ts) VALUES ($1, $2, $3) "
                "ON CONFLICT (incident_id) DO UPDATE SET "
                "channel_id = excluded.channel_id, ts = excluded.ts",
                incident_id,
                channel_id,
                ts,
            )
        )

    async def location(self, incident_id: int) -> tuple[str, str] | None:
        """(channel id, ts) of the incident's message, or None if it was never posted."""
        row = await self._call(
            lambda pool: pool.fetchrow(
                "SELECT channel_id, ts FROM messages WHERE incident_id = $1", incident_id
            )
        )
        return (row[0], row[1]) if row else None

    async def _call(self, statement: Callable[[asyncpg.Pool], Awaitable[T]]) -> T:
        if self._pool is None:
            raise StorageError("the sender's database pool is not open")
        try:
            return await statement(self._pool)
        except (*TRANSIENT, *BROKEN_CONNECTION) as error:
            # Lost connection, shutting down, lock timeout, disk full: all may pass. The pool
            # drops a broken connection and makes another at the next call.
            raise StorageError(str(error)) from error
