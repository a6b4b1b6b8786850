"""What only the leading process runs: the alert engine, the writer and its processor, the
sender, the feeds, the ticker, the planner, the store's upkeep, and (with PostgreSQL) the inbox
of changes other processes hand over. A process that does not lead answers people, keeps warm
(bot/store/postgres/follow.py) and waits to lead.

`start(term)` loads the state and starts everything; `stop()` stops it in order (the feeds
first, then the writer, which flushes what was read, then the sender). Its tasks run under a
supervisor of its own, so losing the lead stops all of them at once."""

from __future__ import annotations

import asyncio
import gc
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Protocol

from websockets.asyncio.server import Server

from bot.config import Settings, read_locations
from bot.core.alerting.actions import Action, DefaultRule
from bot.core.alerting.engine import AlertEngine, EngineSettings
from bot.core.events import SaleEvent
from bot.core.feed_health import Transition
from bot.core.transfers.plan import PlanSettings
from bot.core.velocity import PaceBook
from bot.feed.client import FeedClient
from bot.feed.simulator import SimulatorOptions, serve_feed, server_url
from bot.parts import default_thresholds
from bot.planner import Planner
from bot.slack.sender import Sender
from bot.slack.transport import Transport
from bot.store.batch import OutboxRow
from bot.store.deliveries import Deliveries
from bot.store.processor import AlertingProcessor, Submitted
from bot.store.writer import BatchStore, Tick, Writer
from bot.supervisor import Supervisor

log = logging.getLogger(__name__)

TICK_SECONDS = 0.5  # how finely gates, grouping windows and snoozes see time pass
PROGRESS_EVERY = 30.0


class LeaderStore(BatchStore, Protocol):
    """What the leader needs of its store, besides what its writer needs."""

    async def load_engine(
        self, settings: EngineSettings, *, now: float, paces: PaceBook | None = None
    ) -> AlertEngine: ...

    async def next_outbox_id(self) -> int: ...

    def deliveries(self) -> Deliveries: ...

    async def maintain(self) -> None: ...


class Leader:
    """The leading process's parts; see the module docstring."""

    def __init__(
        self,
        settings: Settings,
        store: LeaderStore,
        transport: Transport,
        *,
        engine_settings: EngineSettings,
        simulator: SimulatorOptions,
        clock: Callable[[], float] = time.time,
        leading: Callable[[], Awaitable[None]] | None = None,
        committed: Callable[[list[SaleEvent], float], None] | None = None,
        outbox: Callable[[list[OutboxRow]], None] | None = None,
    ) -> None:
        self.settings = settings
        self.store = store
        self.transport = transport
        self.engine_settings = engine_settings
        self.clock = clock
        self.term = 0
        self.engine: AlertEngine | None = None
        self.sender: Sender | None = None
        self.writer: Writer | None = None
        self.planner: Planner | None = None
        self.feeds: list[FeedClient] = []
        self.simulator: Server | None = None
        self.supervisor: Supervisor | None = None
        self._simulator_options = simulator
        self._leading = leading
        self._committed = committed
        self._outbox = outbox
        self._late_puts: set[asyncio.Task[None]] = set()

    async def start(
        self,
        term: int,
        *,
        paces: PaceBook | None = None,
        failed: asyncio.Future[str] | None = None,
    ) -> None:
        """Take the lead for `term`: load the state (keeping `paces` if a standby kept them
        warm), start the sender, the writer, the feeds, the ticker and the planner. A vital
        task's failure sets `failed` (the bot's, so that it stops)."""
        s, self.term = self.settings, term
        self.supervisor = Supervisor(failed)
        self.engine = await self.store.load_engine(self.engine_settings, now=self.clock())
        processor = AlertingProcessor(self.engine, next_outbox_id=await self.store.next_outbox_id())
        # The sender loads what an earlier leader left undelivered before the writer can commit
        # anything new, so no row is queued twice.
        self.sender = Sender(
            self.store.deliveries(), self.transport, clock=self.clock, leading=self._leading
        )
        await self.sender.start()
        processor.outbox_listeners.append(self.sender.enqueue)
        if self._outbox is not None:
            processor.outbox_listeners.append(self._outbox)
        self.writer = Writer(
            self.store,
            queue_size=s.writer_queue_size,
            batch_size=s.writer_batch_size,
            dead_letter_limit=s.dead_letter_limit,
            retention_days=s.event_retention_days,
            clock=self.clock,
            processor=processor,
            paces=paces,
        )
        await self.writer.start()
        if self._committed is not None:
            self.writer.commit_hooks.append(self._committed)
        self.engine.paces = self.writer.paces
        _tune_garbage_collector()
        if s.alert_channel:
            await self.apply(DefaultRule(s.alert_channel, default_thresholds(s)))
        await self._start_feeds()
        self.planner = Planner(
            self.writer.paces,
            self.engine,
            self.apply,
            settings=PlanSettings(min_quantity=s.transfer_min_quantity),
            locations=read_locations(s.store_locations_file) if s.store_locations_file else None,
            every=s.transfer_plan_seconds,
            default_low=s.default_low,
            clock=self.clock,
        )
        self.writer.commit_hooks.append(self.planner.sold)
        supervisor = self.supervisor
        supervisor.watch("writer", self.writer.task)
        supervisor.run("ticker", self._tick_forever)
        supervisor.run("store maintenance", self.store.maintain)
        supervisor.run("transfer planner", self.planner.run)

    async def apply(self, action: Action) -> object:
        """Apply `action` in the writer, in order with the feed; return what the engine made of
        it once committed (or raise its Refusal)."""
        return await self.submit(action, self.clock())

    async def submit(self, action: Action, at: float, request: int | None = None) -> object:
        """`action` as asked at `at` (by request `request` of another process, whose answer
        the writer's batch records)."""
        if self.writer is None:
            raise RuntimeError("not leading")
        future = asyncio.get_running_loop().create_future()
        await self.writer.submit(Submitted(action, at, future, request))
        return await future

    async def stop(self) -> None:
        """Stop reading the feeds, write what was read, let the sender finish its calls."""
        if self.supervisor is not None:
            await self.supervisor.stop()  # the feeds, the ticker, the planner, upkeep
        if self.simulator is not None:
            self.simulator.close()
            await self.simulator.wait_closed()
            self.simulator = None
        if self._late_puts:
            await asyncio.gather(*self._late_puts, return_exceptions=True)
        writer_task = self.writer.task if self.writer is not None else None
        if writer_task is not None and not writer_task.done():
            await self.writer.stop()
            stats = self.writer.stats
            log.info(
                "writer flushed",
                extra={
                    "received": sum(feed.health.messages for feed in self.feeds),
                    "events": stats.events,
                    "bad_frames": stats.bad_frames,
                },
            )
        if self.sender is not None:
            await self.sender.stop()

    async def _start_feeds(self) -> None:
        """A client per feed URL (the built-in simulator's if none is set)."""
        s = self.settings
        assert self.writer is not None
        assert self.supervisor is not None
        urls = list(s.feed_urls)
        if not urls:
            self.simulator = await serve_feed(self._simulator_options, "127.0.0.1", 0)
            urls = [server_url(self.simulator)]
            log.info(
                "no FEED_URLS set: reading the built-in simulator", extra={"mode": s.simulator_mode}
            )
        self.feeds = [
            FeedClient(
                url,
                self.writer.offer,
                stale_after=s.feed_stale_after_seconds,
                ping_interval=s.feed_ping_interval_seconds,
                reconnect_max=s.feed_reconnect_max_seconds,
                clock=self.clock,
            )
            for url in urls
        ]
        for feed in self.feeds:
            feed.transitions.append(self._feed_changed)
            # The engine learns of each feed now, so one that never connects is noticed too.
            state = feed.health.state
            self._feed_changed(
                Transition(feed.name, state, state, self.clock(), "not connected yet")
            )
            self.supervisor.run(f"feed {feed.name}", feed.run)

    def _feed_changed(self, transition: Transition) -> None:
        # Through the writer like everything the engine hears, so its effects commit in order.
        assert self.writer is not None
        waiting = self.writer.offer(transition)
        if waiting is not None:
            task = asyncio.ensure_future(waiting)
            self._late_puts.add(task)
            task.add_done_callback(self._late_puts.discard)

    async def _tick_forever(self) -> None:
        assert self.writer is not None
        writer, last_progress, last_events = self.writer, self.clock(), 0
        while True:
            await asyncio.sleep(TICK_SECONDS)
            now = self.clock()
            for feed in self.feeds:
                feed.tick(now)
            writer.queue.put_nowait(Tick(now))  # skipped when full: the writer is busy anyway
            if now - last_progress >= PROGRESS_EVERY:
                events = writer.stats.events
                log.info(
                    "progress",
                    extra={
                        "events": events,
                        "per_s": round((events - last_events) / (now - last_progress), 1),
                        "bad_frames": writer.stats.bad_frames,
                        "feeds_live": sum(feed.live for feed in self.feeds),
                        "queued": len(writer.queue),
                        "to_send": self.sender.pending() if self.sender else 0,
                    },
                )
                last_progress, last_events = now, events


def _tune_garbage_collector() -> None:
    """The cyclic garbage collector rescans every long-lived object (name maps, alert state)
    over and over: measured with bench/ingest.py, it took 15-20% of the time at full load.
    What exists after start-up is moved out of its reach, and young collections run every
    50,000 allocations instead of every 700: almost everything the bot allocates is freed by
    reference counting anyway, and the few cycles (asyncio's) still get collected."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(50_000, 20, 50)
