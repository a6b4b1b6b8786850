"""The single writer: batches, levels, the event log, dead letters, retention, backpressure; on
SQLite and on PostgreSQL (the `database` fixture runs each test on both)."""

import asyncio
import logging

import pytest

from bot.core.events import BadFrame, Reason, SaleEvent
from bot.store.writer import Tick, Writer
from tests.helpers import eventually

FEED = "ws://feed/"


def sale(store: str, model: str, inventory: int, at: float = 1000.0) -> SaleEvent:
    return SaleEvent(store, model, inventory, at, FEED)


def bad(n: int, at: float = 1000.0) -> BadFrame:
    return BadFrame(Reason.NOT_JSON, "not JSON", f"junk {n}", 6, at, FEED)


@pytest.fixture
async def store(database):
    opened = database.new()
    await opened.open()
    yield opened
    await opened.close()


@pytest.fixture
def db(database):
    """The database itself, for what a test does behind the writer's back."""
    return database


@pytest.fixture
async def reads(store):
    return await store.reads()


@pytest.fixture
async def make_writer(store):
    writers = []

    async def make(**options) -> Writer:
        values = {
            "queue_size": 100,
            "batch_size": 10,
            "dead_letter_limit": 1000,
            "retention_days": 30,
            "clock": lambda: 1000.0,
        }
        values.update(options)
        writer = Writer(store, **values)
        writers.append(writer)
        return writer

    yield make
    for writer in writers:
        if writer.task is not None and not writer.task.done():
            await writer.stop()


async def test_levels_hold_the_last_sale_and_count_every_sale(db, make_writer, reads):
    writer = await make_writer()
    await writer.start()
    for item in [
        sale("A", "X", 9, 1.0),
        sale("A", "X", 8, 2.0),
        sale("B", "X", 40, 3.0),
        sale("A", "X", 30, 4.0),
        sale("A", "Y", 0, 5.0),
    ]:
        await writer.submit(item)
    await writer.stop()

    levels = {(lv.store, lv.model): lv for lv in await reads.levels()}
    assert {k: (lv.inventory, lv.sale_count, lv.last_sale_at) for k, lv in levels.items()} == {
        ("A", "X"): (30, 3, 4.0),
        ("B", "X"): (40, 1, 3.0),
        ("A", "Y"): (0, 1, 5.0),
    }
    assert [(e.store, e.model, e.inventory) for e in await reads.events()] == [
        ("A", "X", 9),
        ("A", "X", 8),
        ("B", "X", 40),
        ("A", "X", 30),
        ("A", "Y", 0),
    ]


async def test_a_batch_is_one_transaction_and_names_survive_a_restart(db, make_writer, reads):
    first = await make_writer(batch_size=1000, queue_size=1000)
    for i in range(250):
        first.queue.put_nowait(sale(f"S{i % 7}", f"M{i % 11}", i))
    await first.start()
    await first.stop()
    assert (first.stats.batches, first.stats.events) == (1, 250)

    second = await make_writer()
    await second.start()
    await second.submit(sale("S3", "M4", 1))
    await second.submit(sale("New store", "M4", 2))
    await second.stop()

    assert await reads.event_count() == 252
    assert await db.rows("SELECT count(*) FROM stores") == [(8,)]


async def test_bad_frames_are_dead_lettered_up_to_the_limit_and_all_counted(db, make_writer, reads):
    writer = await make_writer(dead_letter_limit=5)
    await writer.start()
    for n in range(12):
        await writer.submit(bad(n))
    await writer.submit(sale("A", "X", 1))
    await writer.stop()

    kept = await reads.dead_letters()
    assert [d.sample for d in kept] == [f"junk {n}" for n in range(11, 6, -1)]
    assert await reads.bad_frame_counts() == {"not_json": 12}
    assert await reads.event_count() == 1


async def test_old_events_are_deleted_and_levels_kept(db, make_writer, reads):
    now = 100 * 86_400.0
    writer = await make_writer(retention_days=30, clock=lambda: now)
    await writer.start()
    await writer.submit(sale("A", "X", 5, now - 31 * 86_400))
    await writer.submit(sale("A", "Y", 6, now - 29 * 86_400))
    await writer.stop()

    assert [(e.model, e.inventory) for e in await reads.events()] == [("Y", 6)]
    assert {lv.model for lv in await reads.levels()} == {"X", "Y"}


async def test_a_full_queue_makes_the_feed_wait_and_loses_nothing(db, make_writer, reads):
    writer = await make_writer(queue_size=5, batch_size=2)
    for i in range(5):
        await writer.submit(sale("A", "X", i))
    blocked = asyncio.create_task(writer.submit(sale("A", "X", 5)))
    await eventually(lambda: writer.queue.waiting == 1, what="the put waiting in line")
    assert not blocked.done()
    assert len(writer.queue) == 5

    await writer.start()
    await asyncio.wait_for(blocked, 5)
    await writer.stop()
    assert [e.inventory for e in await reads.events()] == [0, 1, 2, 3, 4, 5]


async def test_an_item_whose_submitter_is_cancelled_while_waiting_is_still_written(
    db, make_writer, reads
):
    writer = await make_writer(queue_size=1)
    await writer.submit(sale("A", "X", 1))
    waiting = asyncio.create_task(writer.submit(sale("A", "X", 2)))
    await eventually(lambda: writer.queue.waiting == 1, what="the submit waiting in line")
    waiting.cancel()
    await writer.start()
    await writer.stop()

    assert [e.inventory for e in await reads.events()] == [1, 2]


async def test_a_failed_write_is_retried_until_the_database_accepts_it(
    db, store, make_writer, caplog, reads
):
    writer = await make_writer()
    failed = asyncio.Event()

    class Spy(logging.Handler):
        def emit(self, record):
            if record.getMessage() == "database write failed; retrying":
                failed.set()

    spy = Spy()
    logging.getLogger("bot.store.writer").addHandler(spy)
    try:
        await writer.start()
        await db.refuse_writes(store)  # every write now fails, as with a full disk
        await writer.submit(sale("A", "X", 7))
        await asyncio.wait_for(failed.wait(), 5)
        await db.allow_writes(store)
        await asyncio.wait_for(writer.wait_for(lambda s: s.events == 1), 10)
    finally:
        logging.getLogger("bot.store.writer").removeHandler(spy)

    assert [(e.store, e.inventory) for e in await reads.events()] == [("A", 7)]
    assert [lv.store for lv in await reads.levels()] == ["A"]
    assert writer.task is not None
    assert not writer.task.done()


async def test_ticks_alone_write_nothing(db, make_writer):
    writer = await make_writer()
    await writer.start()
    await writer.submit(Tick(1.0))
    await writer.stop()
    assert writer.stats.batches == 0


async def test_commit_hooks_see_each_committed_batch(db, make_writer):
    writer = await make_writer(batch_size=3)
    seen = []
    writer.commit_hooks.append(lambda events, at: seen.append([e.inventory for e in events]))
    for i in range(7):
        assert writer.queue.put_nowait(sale("A", "X", i))
    await writer.start()
    await writer.stop()

    assert seen == [[0, 1, 2], [3, 4, 5], [6]]


async def test_the_first_event_since_a_time_is_found_across_gaps_in_the_ids(db, make_writer, reads):
    writer = await make_writer(clock=lambda: 50.0, retention_days=1)
    await writer.start()
    for at in range(10, 30):
        await writer.submit(sale("A", "X", at, float(at)))
    await writer.stop()
    await db.execute("DELETE FROM events WHERE id IN (3, 4, 5, 12, 13)")  # gaps

    stored = {e.id: e.at for e in await reads.events()}
    for since in [0.0, 10.0, 12.5, 14.0, 21.0, 22.0, 29.0]:
        expected = min((i for i, at in stored.items() if at >= since), default=None)
        assert await reads.first_event_id_since(since) == expected, since
    assert await reads.first_event_id_since(30.0) is None
