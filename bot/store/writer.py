"""The single writer: drains a bounded queue in batches, one transaction per batch (in SQLite or
PostgreSQL: the store writes each batch in its own SQL).

Feed clients `submit` events and bad frames; when the queue is full they wait, so memory stays
bounded and nothing is dropped. Names are mapped to ids in memory and new ones join the maps
only once their transaction has committed.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from bot.core.events import BadFrame, SaleEvent
from bot.core.velocity import PaceBook
from bot.store.batch import AlertRows, Batch
from bot.store.batch_queue import BatchQueue
from bot.store.name_ids import NameIds

log = logging.getLogger(__name__)

RETENTION_EVERY = 60.0  # seconds between sweeps of the event log


@dataclass(frozen=True, slots=True)
class Tick:
    """The time passing, from the runtime's ticker: lets timed work run when the feed is quiet."""

    at: float


_STOP = object()

Item = object  # SaleEvent, BadFrame, Tick, or anything the processor takes
CommitHook = Callable[[Sequence[SaleEvent], float], None]


class BatchStore(Protocol):
    """Where the writer's batches go (bot/store/sqlite, bot/store/postgres)."""

    # Errors a retry may cure: a lock held too long, a full disk, a lost connection.
    transient: tuple[type[BaseException], ...]

    async def name_rows(self) -> dict[str, list[tuple[int, str]]]:
        """(id, name) of every feed, store and model, by table."""

    async def load_paces(self, book: PaceBook) -> None:
        """Every stored shelf's and model's pace, into `book`."""

    async def write(self, batch: Batch) -> None:
        """Write `batch` in one transaction (may run again for the same batch if it failed)."""

    async def sweep(self, before: float) -> tuple[int, bool]:
        """Delete (some of) the events received before `before`: how many, and whether more
        are due soon."""


class BatchProcessor(Protocol):
    """More work done on each batch, written in the batch's own transaction."""

    def prepare(self, items: Sequence[object], now: float) -> AlertRows | None:
        """Decide, in memory, what the batch changes; None if nothing. Called once a batch."""

    def committed(self, prepared: AlertRows) -> None:
        """The transaction holding `prepared` committed."""

    def failed(self, prepared: AlertRows, error: BaseException) -> None:
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


class Writer:
    """Owns the only write connection. Start it, submit items, stop it to flush."""

    def __init__(
        self,
        store: BatchStore,
        *,
        queue_size: int,
        batch_size: int,
        dead_letter_limit: int,
        retention_days: float,
        clock: Callable[[], float] = time.time,
        processor: BatchProcessor | None = None,
        paces: PaceBook | None = None,
    ) -> None:
        self._store = store
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
        self._feeds = self._stores = self._models = NameIds("feeds", [])
        # Every shelf's pace, kept here with its level; others read it. Given (a standby kept
        # them warm) or loaded at start.
        self.paces = PaceBook() if paces is None else paces
        self._load_paces = paces is None

    async def start(self) -> None:
        """Load the name maps and the paces, and start draining the queue."""
        rows = await self._store.name_rows()
        self._feeds = NameIds("feeds", rows["feeds"])
        self._stores = NameIds("stores", rows["stores"])
        self._models = NameIds("models", rows["models"])
        if self._load_paces:
            await self._store.load_paces(self.paces)
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

    async def _commit(self, batch: Batch, size: int) -> None:
        delay = 1.0
        while True:
            try:
                await self._store.write(batch)
                break
            except BaseException as error:
                if not isinstance(error, self._store.transient):
                    if self._processor is not None and batch.alerts is not None:
                        self._processor.failed(batch.alerts, error)
                    raise
                # Disk full, I/O error, a lock held too long by another program: the batch is
                # kept and retried; meanwhile the queue fills and the feed waits.
                log.error(
                    "database write failed; retrying",
                    extra={"error": str(error), "retry_in_s": delay, "batch": size},
                )
                await asyncio.sleep(delay)
                delay = min(delay * 2, 30.0)
        if batch.alerts is not None:
            self._processor.committed(batch.alerts)

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

    def _prepare(self, items: Sequence[object]) -> Batch:
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
            (names.table, new) for names in (feeds, stores, models) if (new := names.take_new())
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
        alerts = None
        if self._processor is not None:
            alerts = self._processor.prepare(items, self._clock())
        return Batch(
            events=events,
            bad=bad,
            new_names=new_names,
            event_rows=event_rows,
            level_rows=level_rows,
            model_pace_rows=model_pace_rows,
            dead_rows=dead_rows[-self._dead_letter_limit :],
            bad_counts=list(counts.values()),
            alerts=alerts,
            dead_letter_limit=self._dead_letter_limit,
        )

    async def _sweep_if_due(self) -> None:
        now = self._clock()
        if now < self._next_sweep:
            return
        self._next_sweep = now + RETENTION_EVERY
        try:
            deleted, more = await self._store.sweep(now - self._retention_seconds)
        except self._store.transient as error:
            log.warning("event retention sweep failed", extra={"error": str(error)})
            return
        if deleted:
            log.info("deleted old events", extra={"events": deleted})
        if more:
            # More may be waiting: come back soon rather than in a minute.
            self._next_sweep = now + 1.0
