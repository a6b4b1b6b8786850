"""The single writer: drains a bounded queue in batches, one SQLite transaction per batch.

Feed clients `submit` events and bad frames; when the queue is full they wait, so memory stays
bounded and nothing is dropped. Names are mapped to ids in memory and new ones join the maps
only once their transaction has committed.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import aiosqlite

from bot.core.events import BadFrame, SaleEvent
from bot.core.velocity import PaceBook
from bot.store.batch_queue import BatchQueue
from bot.store.name_ids import NameIds
from bot.store.queries import first_event_id_since, load_paces

log = logging.getLogger(__name__)

RETENTION_EVERY = 60.0  # seconds between sweeps of the event log
RETENTION_CHUNK = 20_000  # rows deleted per transaction, to keep each sweep short


@dataclass(frozen=True, slots=True)
class Tick:
    """The time passing, from the runtime's ticker: lets timed work run when the feed is quiet."""

    at: float


_STOP = object()

Item = object  # SaleEvent, BadFrame, Tick, or anything the processor takes
CommitHook = Callable[[Sequence[SaleEvent], float], None]


class BatchProcessor(Protocol):
    """More work done on each batch, written in the batch's own transaction."""

    def prepare(self, items: Sequence[object], now: float) -> Any:
        """Decide, in memory, what the batch changes; None if nothing. Called once a batch."""

    async def persist(self, db: aiosqlite.Connection, prepared: Any) -> None:
        """Write `prepared` inside the open transaction (may run again if it is retried)."""

    def committed(self, prepared: Any) -> None:
        """The transaction holding `prepared` committed."""

    def failed(self, prepared: Any, error: BaseException) -> None:
        """The batch will never be written."""


@dataclass(slots=True)
class WriterStats:
    """What the writer has committed since it started."""

    events: int = 0
    bad_frames: int = 0
    bad_by_reason: Counter[str] = field(default_factory=Counter)
    batches: int = 0
    last_batch_size: int = 0
    last_commit_at: float = 0.0


_UPSERT_LEVEL = """
    INSERT INTO levels (store_id, model_id, inventory, last_sale_at, sale_count, first_seen_at,
                        fast_sold, fast_hours, slow_sold, slow_hours)
    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
    ON CONFLICT (store_id, model_id) DO UPDATE SET
        inventory = excluded.inventory,
        last_sale_at = excluded.last_sale_at,
        sale_count = levels.sale_count + excluded.sale_count,
        fast_sold = excluded.fast_sold,
        fast_hours = excluded.fast_hours,
        slow_sold = excluded.slow_sold,
        slow_hours = excluded.slow_hours
"""
_UPSERT_MODEL_PACE = "INSERT OR REPLACE INTO model_paces VALUES (?, ?, ?, ?, ?, ?, ?)"
_INSERT_EVENT = (
    "INSERT INTO events (at, feed_id, store_id, model_id, inventory) VALUES (?, ?, ?, ?, ?)"
)
_INSERT_DEAD = (
    "INSERT INTO dead_letters (at, feed_id, reason, detail, sample, size) VALUES (?, ?, ?, ?, ?, ?)"
)
_COUNT_BAD = """
    INSERT INTO bad_frame_counts (feed_id, reason, count, last_at) VALUES (?, ?, ?, ?)
    ON CONFLICT (feed_id, reason) DO UPDATE SET
        count = bad_frame_counts.count + excluded.count, last_at = excluded.last_at
"""


@dataclass(slots=True)
class _Batch:
    """The rows one transaction writes, prepared once so a retry writes the same thing."""

    events: list[SaleEvent]
    bad: list[BadFrame]
    new_names: list[tuple[str, list[tuple[int, str, float]]]]
    event_rows: list[tuple[float, int, int, int, int]]
    level_rows: list[tuple]
    model_pace_rows: list[tuple]
    dead_rows: list[tuple]
    bad_counts: list[list]
    processed: Any = None  # the processor's rows, if any

    @property
    def has_rows(self) -> bool:
        return bool(self.event_rows or self.dead_rows or self.processed is not None)


class Writer:
    """Owns the only write connection. Start it, submit items, stop it to flush."""

    def __init__(
        self,
        db: aiosqlite.Connection,
        *,
        queue_size: int,
        batch_size: int,
        dead_letter_limit: int,
        retention_days: float,
        clock: Callable[[], float] = time.time,
        processor: BatchProcessor | None = None,
    ) -> None:
        self._db = db
        self._processor = processor
        self._batch_size = batch_size
        self._dead_letter_limit = dead_letter_limit
        self._retention_seconds = retention_days * 86_400
        self._clock = clock
        self._next_sweep = 0.0
        self.queue: BatchQueue[Item | object] = BatchQueue(queue_size)
        self.stats = WriterStats()
        self.commit_hooks: list[CommitHook] = []
        self._changed = asyncio.Condition()
        self._task: asyncio.Task[None] | None = None
        self._feeds = self._stores = self._models = NameIds("feeds", "url", [])
        self.paces = PaceBook()  # every shelf's pace, kept here with its level; others read it

    async def start(self) -> None:
        """Load the name maps and the paces, and start draining the queue."""
        self._feeds = NameIds("feeds", "url", await self._rows("SELECT id, url FROM feeds"))
        self._stores = NameIds("stores", "name", await self._rows("SELECT id, name FROM stores"))
        self._models = NameIds("models", "name", await self._rows("SELECT id, name FROM models"))
        await load_paces(self._db, self.paces)
        self._task = asyncio.create_task(self._run(), name="writer")

    def offer(self, item: Item) -> Awaitable[None] | None:
        """Queue one item: None if it is queued, else an awaitable to wait on while the queue is
        full. Either way the item will be written, even if the waiter is cancelled: a shutdown
        never loses a frame the feed client already read. The feed's hot path calls this."""
        return None if self.queue.put_nowait(item) else self.queue.put(item)

    async def submit(self, item: Item) -> None:
        """Queue one item, waiting while the queue is full."""
        await self.queue.put(item)

    async def stop(self) -> None:
        """Write everything submitted so far, then stop. Call after the producers stopped."""
        if self._task is None:
            return
        if not self._task.done():
            await self.queue.put(_STOP)
        await self._task

    @property
    def task(self) -> asyncio.Task[None] | None:
        """The draining task, for a supervisor to watch; it only ends on stop or failure."""
        return self._task

    async def wait_for(self, predicate: Callable[[WriterStats], bool]) -> None:
        """Wait until `predicate(stats)` holds after some commit (wrap in a timeout)."""
        async with self._changed:
            await self._changed.wait_for(lambda: predicate(self.stats))

    async def _rows(self, sql: str) -> list[tuple[int, str]]:
        async with self._db.execute(sql) as cursor:
            return [tuple(row) for row in await cursor.fetchall()]

    async def _run(self) -> None:
        # A batch commits in a task of its own, one at a time and in order, while the feed
        # clients go on filling the queue. It overlaps less with preparing the next batch than
        # it looks: the task starts only when this one next waits, and each statement resumes
        # on a turn of the event loop (README, "What is not done yet").
        committing: asyncio.Task[None] | None = None
        try:
            while True:
                batch = await self.queue.get_batch(self._batch_size)
                stopping = batch[-1] is _STOP
                items = [item for item in batch if item is not _STOP]
                prepared = None
                if self._processor is not None or any(type(i) is not Tick for i in items):
                    prepared = self._prepare(items)
                if committing is not None:
                    await committing
                    committing = None
                if prepared is not None and prepared.has_rows:
                    committing = asyncio.create_task(self._commit(prepared, len(items)))
                if stopping or self._clock() >= self._next_sweep:
                    if committing is not None:
                        await committing
                        committing = None
                    await self._sweep_if_due()
                if stopping:
                    return
        finally:
            if committing is not None and not committing.done():
                committing.cancel()

    async def _commit(self, batch: _Batch, size: int) -> None:
        delay = 1.0
        while True:
            try:
                await self._persist(batch)
                break
            except BaseException as error:
                if not isinstance(error, sqlite3.OperationalError):
                    if self._processor is not None and batch.processed is not None:
                        self._processor.failed(batch.processed, error)
                    raise
                # Disk full, I/O error, a lock held too long by another program: the batch is
                # kept and retried; meanwhile the queue fills and the feed waits.
                log.error(
                    "database write failed; retrying",
                    extra={"error": str(error), "retry_in_s": delay, "batch": size},
                )
                await asyncio.sleep(delay)
                delay = min(delay * 2, 30.0)
        if batch.processed is not None:
            self._processor.committed(batch.processed)

        now = self._clock()
        stats = self.stats
        stats.events += len(batch.events)
        stats.bad_frames += len(batch.bad)
        for bad in batch.bad:
            stats.bad_by_reason[bad.reason.value] += 1
        stats.batches += 1
        stats.last_batch_size = size
        stats.last_commit_at = now
        for hook in self.commit_hooks:
            hook(batch.events, now)
        async with self._changed:
            self._changed.notify_all()

    def _prepare(self, items: Sequence[object]) -> _Batch:
        feeds, stores, models = self._feeds, self._stores, self._models
        store_ids, model_ids, feed_ids = stores.ids, models.ids, feeds.ids
        events: list[SaleEvent] = []
        bad: list[BadFrame] = []
        event_rows: list[tuple[float, int, int, int, int]] = []
        levels: dict[tuple[int, int], list] = {}
        for item in items:
            if type(item) is SaleEvent:
                at = item.at
                # The maps answer almost every lookup; new names take the slow path once.
                store_id = store_ids.get(item.store) or stores.id_for(item.store, at)
                model_id = model_ids.get(item.model) or models.id_for(item.model, at)
                feed_id = feed_ids.get(item.feed) or feeds.id_for(item.feed, at)
                key = (store_id, model_id)
                event_rows.append((at, feed_id, store_id, model_id, item.inventory))
                level = levels.get(key)
                if level is None:
                    levels[key] = [store_id, model_id, item.inventory, at, 1, at, item]
                else:
                    level[2], level[3] = item.inventory, at
                    level[4] += 1
                events.append(item)
            elif type(item) is BadFrame:
                bad.append(item)

        dead_rows = []
        counts: dict[tuple[int, str], list] = {}
        for b in bad:
            key = (feeds.id_for(b.feed, b.at), b.reason.value)
            dead_rows.append((b.at, key[0], key[1], b.detail, b.sample, b.size))
            entry = counts.setdefault(key, [*key, 0, b.at])
            entry[2] += 1
            entry[3] = b.at
        new_names = [
            (names.insert_sql, new)
            for names in (feeds, stores, models)
            if (new := names.take_new())
        ]
        paces = self.paces
        sold = paces.record(events)
        # Paces as they stand now: the next batch changes them while this one commits.
        shelves, pooled = paces.shelves, paces.models
        level_rows = []
        for store_id, model_id, inventory, at, count, first_at, last in levels.values():
            p = shelves[last.model][last.store]
            level_rows.append(
                (
                    store_id,
                    model_id,
                    inventory,
                    at,
                    count,
                    first_at,
                    p.fast_sold,
                    p.fast_hours,
                    p.slow_sold,
                    p.slow_hours,
                )
            )
        model_pace_rows = [
            (model_ids[m], *pooled[m].sums(), pooled[m].at, pooled[m].stocked) for m in sold
        ]
        processed = None
        if self._processor is not None:
            processed = self._processor.prepare(items, self._clock())
        return _Batch(
            events=events,
            bad=bad,
            new_names=new_names,
            event_rows=event_rows,
            level_rows=level_rows,
            model_pace_rows=model_pace_rows,
            dead_rows=dead_rows[-self._dead_letter_limit :],
            bad_counts=list(counts.values()),
            processed=processed,
        )

    async def _persist(self, batch: _Batch) -> None:
        db = self._db
        await db.execute("BEGIN IMMEDIATE")
        try:
            for sql, rows in batch.new_names:
                await db.executemany(sql, rows)
            if batch.event_rows:
                await db.executemany(_INSERT_EVENT, batch.event_rows)
                await db.executemany(_UPSERT_LEVEL, batch.level_rows)
                await db.executemany(_UPSERT_MODEL_PACE, batch.model_pace_rows)
            if batch.dead_rows:
                await db.executemany(_INSERT_DEAD, batch.dead_rows)
                await db.execute(
                    "DELETE FROM dead_letters WHERE id <= (SELECT max(id) FROM dead_letters) - ?",
                    (self._dead_letter_limit,),
                )
                await db.executemany(_COUNT_BAD, batch.bad_counts)
            if batch.processed is not None:
                await self._processor.persist(db, batch.processed)
            await db.execute("COMMIT")
        except BaseException:
            if db.in_transaction:
                await db.execute("ROLLBACK")
            raise

    async def _sweep_if_due(self) -> None:
        now = self._clock()
        if now < self._next_sweep:
            return
        self._next_sweep = now + RETENTION_EVERY
        db = self._db
        try:
            keep_from = await first_event_id_since(db, now - self._retention_seconds)
            async with db.execute("SELECT min(id), max(id) FROM events") as cursor:
                oldest, newest = await cursor.fetchone()
            if oldest is None:
                return
            end = min(newest + 1 if keep_from is None else keep_from, oldest + RETENTION_CHUNK)
            cursor = await db.execute("DELETE FROM events WHERE id < ?", (end,))
            deleted = cursor.rowcount
        except sqlite3.OperationalError as error:
            log.warning("event retention sweep failed", extra={"error": str(error)})
            return
        if deleted:
            log.info("deleted old events", extra={"events": deleted})
        if end == oldest + RETENTION_CHUNK:
            # More may be waiting: come back soon rather than in a minute.
            self._next_sweep = now + 1.0
