"""PostgreSQL as the store (DATABASE_URL=postgresql://...): the writer's own connection, a pool
for people's reads, the event log in day partitions, the sender's records in a pool of theirs."""

from __future__ import annotations

import asyncio
import logging
import time

import asyncpg
from pydantic import SecretStr

from bot.core.alerting.engine import AlertEngine, EngineSettings
from bot.core.velocity import PaceBook
from bot.store.batch import Batch
from bot.store.postgres import state
from bot.store.postgres.connect import (
    READER_SETTINGS,
    WRITER_SETTINGS,
    ConnectError,
    connect,
    create_pool,
)
from bot.store.postgres.deliveries import PostgresDeliveries
from bot.store.postgres.errors import BROKEN_CONNECTION, TRANSIENT, Unreachable
from bot.store.postgres.migrate import migrate
from bot.store.postgres.partitions import DAY, add_event_partitions, drop_event_partitions
from bot.store.postgres.reads import PostgresReads
from bot.store.postgres.tidy import hide_feed_credentials
from bot.store.postgres.url import shown_url
from bot.store.postgres.write import last_batch, write_batch

log = logging.getLogger(__name__)

WRITER = "inventory-bot writer"
MAINTAIN_EVERY = 3600.0  # seconds between checks that tomorrow's partition exists


class PostgresBackend:
    """Open it, use it, close it (closes every connection and pool it opened)."""

    transient = TRANSIENT
    # What a read meets while the server cannot answer (commands tell people so).
    unavailable = TRANSIENT + BROKEN_CONNECTION

    def __init__(self, url: str | SecretStr, *, pool_size: int = 4) -> None:
        self._url = url.get_secret_value() if isinstance(url, SecretStr) else url
        self.shown = shown_url(self._url)
        self._pool_size = pool_size
        self._conn: asyncpg.Connection | None = None
        self._pool: asyncpg.Pool | None = None
        self._days: set[float] = set()  # UTC days known to have their event partition
        self._batch: Batch | None = None  # the batch being written, to know a retry
        self._number = 0  # its number in writer_progress
        # The leadership term this process leads in, when several bots share the database:
        # every batch checks it (fencing). None: one bot, no check.
        self.term: int | None = None

    async def open(self) -> None:
        """Connect (ConnectError names DATABASE_URL if not), migrate under the advisory lock,
        tidy what older versions left (feed URLs stored with their credentials)."""
        self._conn = await connect(self._url, name=WRITER, settings=WRITER_SETTINGS)
        await migrate(self._conn)
        await hide_feed_credentials(self._conn)
        self._number = await last_batch(self._conn)

    async def reads(self) -> PostgresReads:
        """Reads through the pool (opened at the first call, shared by every Reads)."""
        if self._pool is None:
            self._pool = await create_pool(
                self._url,
                name="inventory-bot reads",
                settings=READER_SETTINGS,
                max_size=self._pool_size,
            )
        return PostgresReads(self._pool)

    def deliveries(self) -> PostgresDeliveries:
        """The sender's records in this database (open() them; they have their own pool)."""
        return PostgresDeliveries(self._url)

    async def load_engine(
        self, settings: EngineSettings, *, now: float, paces: PaceBook | None = None
    ) -> AlertEngine:
        return await state.load_engine(await self._writer(), settings, now=now, paces=paces)

    async def next_outbox_id(self) -> int:
        return await state.next_outbox_id(await self._writer())

    async def name_rows(self) -> dict[str, list[tuple[int, str]]]:
        return await state.name_rows(await self._writer())

    async def load_paces(self, book: PaceBook) -> None:
        await state.load_paces(await self._writer(), book)

    async def warm_paces(self, book: PaceBook) -> int:
        """`load_paces`, for a standby: returns the newest event the paces count."""
        return await state.load_paces(await self._writer(), book)

    async def write(self, batch: Batch) -> None:
        """Write `batch` in one transaction. Called again for the same batch after a transient
        error, it first asks whether the batch committed (the connection may have dropped with
        COMMIT on its way): a batch is written once."""
        retry = batch is self._batch
        if not retry:
            self._batch, self._number = batch, self._number + 1
        conn = await self._writer()
        try:
            if retry and await last_batch(conn) >= self._number:
                return
            await self._make_partitions(conn, batch)
            await write_batch(conn, batch, self._number, self.term)
        except Exception as error:
            if (lost := _as_lost(conn, error)) is None:
                raise
            raise lost from error

    async def sweep(self, before: float) -> tuple[int, bool]:
        """Drop the event log's days that ended before `before`: (about how many events went,
        whether to come back soon: a reader held the table past the lock timeout)."""
        conn = await self._writer()
        try:
            async with conn.transaction():
                # Ids grow with arrival: the span of the dropped days' ids counts their events
                # (less any ids a failed batch used), without reading them.
                low, high = await conn.fetchrow(
                    "SELECT min(id), max(id) FROM events WHERE at < $1", before // DAY * DAY
                )
                dropped = await drop_event_partitions(conn, before)
        except asyncpg.LockNotAvailableError:
            log.info("event retention waits for a reader to let go of the event log")
            return 0, True
        except Exception as error:
            if (lost := _as_lost(conn, error)) is None:
                raise
            raise lost from error
        if not dropped:
            return 0, False
        self._days.clear()  # a late sale for a dropped day makes its partition again
        return (high - low + 1 if low is not None else 0), False

    async def maintain(self) -> None:
        """Runs for ever: makes sure today's and tomorrow's partitions exist, every hour, from a
        connection of its own (a sale at midnight never waits for its partition), and forgets
        the changes other processes handed over once answered a day ago."""
        conn: asyncpg.Connection | None = None
        try:
            while True:
                try:
                    if conn is None or conn.is_closed():
                        conn = await connect(self._url, name="inventory-bot maintenance")
                    made = await add_event_partitions(conn, time.time(), days_ahead=1)
                    if made:
                        log.info("event partitions made", extra={"partitions": made})
                    await conn.execute(
                        "DELETE FROM requests WHERE answered_at < $1", time.time() - DAY
                    )
                except (ConnectError, *TRANSIENT) as error:
                    log.warning("event partitions not checked", extra={"error": str(error)})
                await asyncio.sleep(MAINTAIN_EVERY)
        finally:
            if conn is not None:
                conn.terminate()

    async def close(self) -> None:
        if self._pool is not None:
            await self._pool.close()
            self._pool = None
        if self._conn is not None:
            if not self._conn.is_closed():
                await self._conn.close()
            self._conn = None

    async def _writer(self) -> asyncpg.Connection:
        """The writer's connection, made again if it was lost."""
        if self._conn is None:
            raise RuntimeError("open() the store first")
        if self._conn.is_closed():
            try:
                self._conn = await connect(self._url, name=WRITER, settings=WRITER_SETTINGS)
            except ConnectError as error:
                raise Unreachable(str(error)) from None
        return self._conn

    async def _make_partitions(self, conn: asyncpg.Connection, batch: Batch) -> None:
        """The partitions of the batch's days, before it goes in (a sale on a day without
        partition would be refused); usually today's, known since the first batch."""
        days = {row[0] // DAY for row in batch.event_rows} - self._days
        for day in sorted(days):
            await add_event_partitions(conn, day * DAY, days_ahead=0)
            self._days.add(day)


def _as_lost(conn: asyncpg.Connection, error: Exception) -> Unreachable | None:
    """`error` as Unreachable (transient) if the connection is lost or broken by it, the
    connection dropped so that the next attempt connects again; else None."""
    if isinstance(error, BROKEN_CONNECTION) or (
        conn.is_closed() and not isinstance(error, TRANSIENT)
    ):
        conn.terminate()
        return Unreachable(f"connection lost: {error}")
    return None
