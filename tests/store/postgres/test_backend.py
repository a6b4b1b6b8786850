"""What the PostgreSQL store does that SQLite's has no need to: survive its server going away in
the middle of a batch, never write a batch twice, drop whole days of events for retention (and
wait for a reader holding them), and make tomorrow's partition ahead."""

from __future__ import annotations

import asyncio
import logging
import time

import asyncpg
import pytest

from bot.core.events import SaleEvent
from bot.store.batch import Batch
from bot.store.postgres.backend import PostgresBackend
from bot.store.postgres.errors import Fenced
from bot.store.postgres.partitions import DAY
from bot.store.writer import Writer
from tests.helpers import eventually
from tests.postgres import PostgresServer, Unavailable, _unavailable


def sale(n: int, at: float) -> SaleEvent:
    return SaleEvent(f"S{n % 50}", f"M{n % 40}", n, at, "ws://feed/")


def one_sale_batch(store_id: int = 1, inventory: int = 5) -> Batch:
    """A batch as the writer prepares it: one sale at store `store_id` (new) of model 1 (new
    with store 1), on feed 1."""
    now = time.time()
    names = {"feeds": (1, "ws://feed/"), "stores": (store_id, f"S{store_id}"), "models": (1, "M")}
    return Batch(
        events=[],
        bad=[],
        new_names=[
            (table, [(id_, name, now)])
            for table, (id_, name) in names.items()
            if table == "stores" or store_id == 1
        ],
        event_rows=[(now, 1, store_id, 1, inventory)],
        level_rows=[(store_id, 1, inventory, now, 1, now, 1.0, 0.0, 1.0, 0.0)],
        model_pace_rows=[],
        dead_rows=[],
        bad_counts=[],
    )


@pytest.fixture
async def store(migrated_postgres_url):
    opened = PostgresBackend(migrated_postgres_url)
    await opened.open()
    yield opened
    await opened.close()


@pytest.fixture
def own_server():
    """A server of the test's own, which it may crash without harm to the others."""
    try:
        server = PostgresServer()
    except Unavailable as why:
        _unavailable(str(why))
    server.start()
    # As a server in the field: a commit is on disk (in the WAL) before it is acknowledged.
    # The test servers skip that for speed, and a crash would lose acknowledged commits.
    server.admin("ALTER SYSTEM SET synchronous_commit = on")
    server.admin("SELECT pg_reload_conf()")
    server.admin("CHECKPOINT")  # what came before (the bot's role) on disk too
    yield server
    server.stop()


class Retries(logging.Handler):
    """Counts the writer's "retrying" lines, and lets a test wait for the first."""

    def __init__(self) -> None:
        super().__init__()
        self.seen = asyncio.Event()
        self.count = 0

    def emit(self, record: logging.LogRecord) -> None:
        if record.getMessage() == "database write failed; retrying":
            self.count += 1
            self.seen.set()


async def test_a_server_crashing_mid_batch_loses_nothing_and_writes_nothing_twice(own_server):
    url = own_server.url(own_server.create_database(template=own_server.migrated_template()))
    store = PostgresBackend(url)
    await store.open()
    writer = Writer(
        store, queue_size=50_000, batch_size=500, dead_letter_limit=10, retention_days=30
    )
    retries = Retries()
    logging.getLogger("bot.store.writer").addHandler(retries)
    total, now = 20_000, time.time()
    try:
        await writer.start()
        for n in range(total):
            writer.queue.put_nowait(sale(n, now))
        await asyncio.wait_for(writer.wait_for(lambda s: s.batches >= 3), 30)
        own_server.crash()  # batches are being written back to back: one is under way
        await asyncio.wait_for(retries.seen.wait(), 30)
        own_server.start_again()
        await asyncio.wait_for(writer.wait_for(lambda s: s.events == total), 60)
        await writer.stop()
    finally:
        logging.getLogger("bot.store.writer").removeHandler(retries)
        await store.close()

    conn = await asyncpg.connect(url)
    try:
        stored = [n for (n,) in await conn.fetch("SELECT inventory FROM events ORDER BY id")]
        sold = await conn.fetchval("SELECT sum(sale_count) FROM levels")
    finally:
        await conn.close()
    assert stored == list(range(total))  # every sale once, in order
    assert sold == total
    assert retries.count >= 1


async def test_a_batch_retried_after_its_commit_landed_is_not_written_again(store):
    batch = one_sale_batch()
    await store.write(batch)
    # The writer calls write() again with the same batch when the first call raised, as when
    # the connection dropped with COMMIT on its way: the batch is found committed.
    await store.write(batch)

    reads = await store.reads()
    assert await reads.event_count() == 1
    assert [lv.sale_count for lv in await reads.levels()] == [1]


async def test_retention_drops_whole_days_and_waits_for_a_reader_holding_them(
    store, migrated_postgres_url
):
    now = time.time()
    writer = Writer(store, queue_size=100, batch_size=100, dead_letter_limit=10, retention_days=2)
    await writer.start()
    for days_ago in (4, 3, 1, 0):
        await writer.submit(sale(days_ago, now - days_ago * DAY))
    await writer.stop()  # its sweep ran with the stop: days 4 and 3 are gone

    reads = await store.reads()
    assert [e.inventory for e in await reads.events()] == [1, 0]
    reader = await asyncpg.connect(migrated_postgres_url)
    try:
        async with reader.transaction():
            await reader.fetch("SELECT * FROM events")  # holds every partition while open
            started = time.perf_counter()
            assert await store.sweep(now) == (0, True)  # try again soon
            assert time.perf_counter() - started < 5
        dropped, more = await store.sweep(now)
    finally:
        await reader.close()
    assert (dropped, more) == (1, False)  # yesterday's day, whole
    assert [e.inventory for e in await reads.events()] == [0]


async def test_maintenance_makes_tomorrows_partition(store, migrated_postgres_url):
    tomorrow = time.strftime("events_%Y%m%d", time.gmtime(time.time() + DAY))
    conn = await asyncpg.connect(migrated_postgres_url)
    try:
        await conn.execute(f"DROP TABLE {tomorrow}")
        maintaining = asyncio.create_task(store.maintain())
        try:
            await eventually(
                lambda: conn.fetchval("SELECT to_regclass($1) IS NOT NULL", tomorrow),
                what=f"{tomorrow} made again",
            )
        finally:
            maintaining.cancel()
            with pytest.raises(asyncio.CancelledError):
                await maintaining
    finally:
        await conn.close()


async def test_a_writer_whose_term_has_passed_writes_nothing(store, migrated_postgres_url):
    conn = await asyncpg.connect(migrated_postgres_url)
    try:
        await conn.execute("UPDATE leadership SET term = 4")
        store.term = 4
        await store.write(one_sale_batch(1))
        await conn.execute("UPDATE leadership SET term = 5")  # another process took the lead

        with pytest.raises(Fenced, match="term 5; this writer's: 4"):
            await store.write(one_sale_batch(2))

        assert await conn.fetchval("SELECT count(*) FROM events") == 1
        assert await conn.fetchval("SELECT count(*) FROM stores") == 1
    finally:
        await conn.close()


async def test_each_batch_tells_a_standby_its_newest_event_at_commit(store, migrated_postgres_url):
    listener = await asyncpg.connect(migrated_postgres_url)
    heard: asyncio.Queue[str] = asyncio.Queue()
    await listener.add_listener("events", lambda *args: heard.put_nowait(args[-1]))
    try:
        await store.write(one_sale_batch(1))
        assert await asyncio.wait_for(heard.get(), 10) == "1"
        await store.write(one_sale_batch(2))  # new names: the same batch shape, a second sale
        assert await asyncio.wait_for(heard.get(), 10) == "2"
    finally:
        await listener.close()
