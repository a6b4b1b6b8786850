"""Starts the bot's tasks in one event loop, watches them, and shuts down in order."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import time
from collections import Counter
from collections.abc import Callable

from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_sdk.http_retry.builtin_async_handlers import AsyncRateLimitErrorRetryHandler
from slack_sdk.web.async_client import AsyncWebClient
from websockets.asyncio.server import Server

from bot.api.health import Health
from bot.api.metrics import Metrics, Readings
from bot.api.routes import Api
from bot.commands.dispatch import Commands
from bot.commands.request import Context
from bot.config import Settings, read_locations
from bot.core.alerting.actions import Action, DefaultRule
from bot.core.alerting.engine import AlertEngine, EngineSettings
from bot.core.alerting.notify import NotifySettings
from bot.core.feed_health import FeedHealth, Transition
from bot.core.rules import Thresholds
from bot.core.transfers.book import TransferSettings
from bot.core.transfers.plan import PlanSettings
from bot.feed.client import FeedClient
from bot.feed.simulator import SimulatorOptions, serve_feed, server_url
from bot.planner import Planner
from bot.slack.app import build_app
from bot.slack.home import Home
from bot.slack.listeners.background import Background
from bot.slack.sender import Sender
from bot.slack.transport import ConsoleTransport, SlackTransport, Transport
from bot.store.processor import AlertingProcessor, Submitted
from bot.store.reads import Reads
from bot.store.sqlite.backend import SqliteBackend
from bot.store.writer import Tick, Writer
from bot.web import WebServer

log = logging.getLogger(__name__)

TICK_SECONDS = 0.5  # how finely gates, grouping windows and snoozes see time pass
PROGRESS_EVERY = 30.0


def engine_settings(s: Settings) -> EngineSettings:
    """The alert engine's settings, from the bot's."""
    return EngineSettings(
        notify=NotifySettings(
            group_wait=s.alert_group_seconds,
            flood_limit=s.alert_flood_limit,
            digest_every=s.alert_digest_minutes * 60,
        ),
        chain_min_stores=s.chain_min_stores,
        ops_channel=s.ops_channel,
        feed_down_after=s.feed_stale_after_seconds,
        bad_frames_per_minute=s.bad_frames_alert_per_minute,
        transfers=TransferSettings(expire_after=s.transfer_expiry_hours * 3600),
    )


def default_thresholds(s: Settings) -> Thresholds:
    return Thresholds(s.default_low, s.default_high, s.alert_gate_readings, s.alert_gate_seconds)


def slack_client(s: Settings) -> AsyncWebClient:
    """The Web API client every Slack call uses (base URL from SLACK_API_URL)."""
    token = s.slack_bot_token.get_secret_value() if s.slack_bot_token else None
    return AsyncWebClient(token=token, base_url=s.slack_api_url, timeout=s.slack_timeout_seconds)


class Bot:
    """The running bot: `start()`, then `run_until(stop)`, then `stop()` (always)."""

    def __init__(
        self,
        settings: Settings,
        *,
        clock: Callable[[], float] = time.time,
        transport: Transport | None = None,
        simulator: SimulatorOptions | None = None,
    ) -> None:
        self.settings = settings
        self.engine_settings = engine_settings(settings)
        self._simulator = simulator or SimulatorOptions(mode=settings.simulator_mode)
        self.clock = clock
        self.store = SqliteBackend(settings.database_path)
        self.writer: Writer | None = None
        self.engine: AlertEngine | None = None
        self.sender: Sender | None = None
        self.reads: Reads | None = None  # for commands and the App Home
        self.planner: Planner | None = None
        self.commands: Commands | None = None
        self.web: WebServer | None = None
        self.socket: AsyncSocketModeHandler | None = None
        self.slack_work = Background()
        self.feeds: list[FeedClient] = []
        self.simulator: Server | None = None
        self._transport = transport
        self._feed_tasks: list[asyncio.Task[None]] = []
        self._background: list[asyncio.Task[None]] = []
        self._late_puts: set[asyncio.Task[None]] = set()
        self.metrics = Metrics(self._readings(), clock)

    async def start(self) -> None:
        """Open the store (migrating it), load the alert state, start the sender, the
        writer, the feeds and the ticker."""
        s = self.settings
        await self.store.open()
        self.engine = await self.store.load_engine(self.engine_settings, now=self.clock())
        processor = AlertingProcessor(self.engine, next_outbox_id=await self.store.next_outbox_id())
        if self._transport is None:
            self._transport = (
                SlackTransport(slack_client(s)) if s.slack_bot_token else ConsoleTransport()
            )
        # The sender loads what an earlier run left undelivered before the writer can commit
        # anything new, so no row is queued twice.
        self.sender = Sender(self.store.deliveries(), self._transport, clock=self.clock)
        await self.sender.start()
        processor.outbox_listeners.append(self.sender.enqueue)
        self.writer = Writer(
            self.store,
            queue_size=s.writer_queue_size,
            batch_size=s.writer_batch_size,
            dead_letter_limit=s.dead_letter_limit,
            retention_days=s.event_retention_days,
            clock=self.clock,
            processor=processor,
        )
        await self.writer.start()
        self.writer.commit_hooks.append(self.metrics.committed)
        self.engine.paces = self.writer.paces
        _tune_garbage_collector()
        if s.alert_channel:
            await self.apply(DefaultRule(s.alert_channel, default_thresholds(s)))
        urls = await self._start_feeds()
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
        self._background = [
            asyncio.create_task(self._tick_forever(), name="ticker"),
            asyncio.create_task(self.store.maintain(), name="store maintenance"),
            asyncio.create_task(self.planner.run(), name="transfer planner"),
        ]
        await self._start_serving()
        log.info(
            "bot started",
            extra={
                "database": self.store.shown,
                "feeds": len(urls),
                "slack": s.slack_api_url
                if isinstance(self._transport, SlackTransport)
                else type(self._transport).__name__,
            },
        )

    async def _start_feeds(self) -> list[str]:
        """A client per feed URL (the built-in simulator's if none is set); returns the URLs."""
        s = self.settings
        assert self.writer is not None
        urls = list(s.feed_urls)
        if not urls:
            self.simulator = await serve_feed(self._simulator, "127.0.0.1", 0)
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
        self._feed_tasks = [
            asyncio.create_task(feed.run(), name=f"feed {feed.name}") for feed in self.feeds
        ]
        return urls

    async def _start_serving(self) -> None:
        """Commands (read from a read-only connection), the HTTP server, and Slack's way in:
        Socket Mode, or /slack/events on the HTTP server."""
        s = self.settings
        self.reads = await self.store.reads()
        self.commands = Commands(
            Context(
                self.reads,
                self.apply,
                admins=frozenset(s.admin_user_ids),
                engine_settings=self.engine_settings,
                clock=self.clock,
                unplanned=lambda model: self.planner.unplanned(model) if self.planner else None,
            )
        )
        self.web = WebServer(s.http_host, s.http_port)
        # The API reads on its own connection: a long page never delays a slash command.
        api_reads = await self.store.reads()
        token = s.api_token.get_secret_value() if s.api_token else None
        Api(api_reads, token=token, clock=self.clock).mount(self.web.app)
        Health(
            api_reads.ping,
            self._feed_healths,
            slack_check=slack_client(s).auth_test if s.slack_bot_token else None,
            slack_problems=self.sender.problems if self.sender else dict,
            clock=self.clock,
        ).mount(self.web.app)
        self.metrics.mount(self.web.app)
        self.commands.answered.append(self.metrics.answered)
        if s.slack_bot_token is not None:
            client = slack_client(s)
            # Replies and App Home views may meet a 429: wait as told and try again.
            client.retry_handlers.append(AsyncRateLimitErrorRetryHandler(max_retry_count=2))
            http = s.slack_mode == "http"
            secret = s.slack_signing_secret.get_secret_value() if s.slack_signing_secret else None
            app = build_app(
                client,
                signing_secret=secret if http else None,
                commands=self.commands,
                home=Home(self.reads, self.clock),
                background=self.slack_work,
            )
            if http:
                self.web.mount_slack(app)
            else:
                assert s.slack_app_token is not None  # the settings check it
                self.socket = AsyncSocketModeHandler(app, s.slack_app_token.get_secret_value())
                await self.socket.connect_async()
                log.info("connected to Slack in Socket Mode")
        await self.web.start()

    async def apply(self, action: Action) -> object:
        """Apply `action` in the writer, in order with the feed; return what the engine made of
        it once committed (or raise its Refusal)."""
        if self.writer is None:
            raise RuntimeError("start() the bot first")
        future = asyncio.get_running_loop().create_future()
        await self.writer.submit(Submitted(action, self.clock(), future))
        return await future

    async def run_until(self, stop: asyncio.Event) -> int:
        """Run until `stop` is set (0) or a task the bot cannot live without fails (1)."""
        if self.writer is None or self.writer.task is None:
            raise RuntimeError("start() the bot first")
        stopper = asyncio.create_task(stop.wait(), name="stop signal")
        vital = {self.writer.task, *self._feed_tasks, *self._background}
        done, _ = await asyncio.wait({stopper, *vital}, return_when=asyncio.FIRST_COMPLETED)
        stopper.cancel()
        failed = [task for task in done if task is not stopper]
        for task in failed:
            error = None if task.cancelled() else task.exception()
            log.error(
                "task ended unexpectedly; stopping",
                extra={"task": task.get_name()},
                exc_info=error,
            )
        return 1 if failed else 0

    async def stop(self) -> None:
        """Stop taking requests and reading the feed, write what was read, let the sender
        finish its calls, close the database. Safe to call twice."""
        if self.socket is not None:
            await self.socket.close_async()
            self.socket = None
        if self.web is not None:
            await self.web.stop()
            self.web = None
        # Replies and button changes under way finish first: they need the writer.
        await self.slack_work.wait(within=5.0)
        await _cancel(self._feed_tasks)
        if self.simulator is not None:
            self.simulator.close()
            await self.simulator.wait_closed()
            self.simulator = None
        await _cancel(self._background)
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
            self.sender = None
        await self.store.close()
        self.reads = None

    def _feed_healths(self) -> list[tuple[str, FeedHealth]]:
        return [(feed.name, feed.health) for feed in self.feeds]

    def _readings(self) -> Readings:
        """What /metrics reads, each when scraped: the parts exist only once started."""
        return Readings(
            writer=lambda: (self.writer.stats, len(self.writer.queue)) if self.writer else None,
            feeds=self._feed_healths,
            open_incidents=lambda: self.engine.open_incidents() if self.engine else [],
            slack_calls=lambda: self.sender.counts if self.sender else Counter(),
            outbox_pending=lambda: self.sender.pending() if self.sender else 0,
            outbox_oldest_at=lambda: self.sender.oldest_pending_at() if self.sender else None,
            transfers=lambda: self.engine.transfers if self.engine else None,
            planner_round_seconds=lambda: (
                self.planner.stats.last_round_seconds if self.planner else 0.0
            ),
        )

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


async def _cancel(tasks: list[asyncio.Task[None]]) -> None:
    for task in tasks:
        task.cancel()
    for task in tasks:
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await task
    tasks.clear()
