"""The running bot in one event loop: the parts every process runs (the store's reads, the HTTP
server with the REST API, health and metrics, and Slack's way in), and the leader's parts
(bot/leading.py) while this process leads. With SQLite it is the only process and leads from
the start; with PostgreSQL it leads if no other process does, else stands by
(bot/succession.py). `start()`, then `run_until(stop)`, then `stop()`, which shuts down in
order."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable

from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_sdk.http_retry.builtin_async_handlers import AsyncRateLimitErrorRetryHandler

from bot.api.health import Health
from bot.api.metrics import Metrics
from bot.api.routes import Api
from bot.commands.dispatch import Commands
from bot.commands.request import Context
from bot.config import Settings
from bot.core.alerting.actions import Action
from bot.core.alerting.engine import AlertEngine
from bot.core.feed_health import FeedHealth
from bot.feed.client import FeedClient
from bot.feed.simulator import SimulatorOptions
from bot.leading import Leader
from bot.observed import delivery_check, readings, role_check
from bot.parts import engine_settings, slack_client
from bot.planner import Planner
from bot.slack.app import build_app
from bot.slack.directory import Memberships, SlackPeople
from bot.slack.home import Home
from bot.slack.home_refresh import HomeRefresher
from bot.slack.listeners.background import Background
from bot.slack.sender import Sender
from bot.slack.transport import ConsoleTransport, SlackTransport, Transport
from bot.store.batch import OutboxRow
from bot.store.postgres.backend import PostgresBackend
from bot.store.postgres.leadership import Leadership
from bot.store.postgres.signatures import SeenSignatures
from bot.store.reads import Reads
from bot.store.sqlite.backend import SqliteBackend
from bot.store.writer import Writer
from bot.succession import Succession
from bot.supervisor import Supervisor
from bot.web import WebServer

log = logging.getLogger(__name__)


class Bot:
    """The running bot; see the module docstring."""

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
        self.clock = clock
        url = settings.database_url
        self.store: PostgresBackend | SqliteBackend
        leadership: Leadership | None = None
        if url is None:
            self.store = SqliteBackend(settings.database_path)
        else:
            self.store = PostgresBackend(url)
            # Other processes may lead: every Slack call waits until the lead is sure.
            leadership = Leadership(url)
        if transport is None:
            token = settings.slack_bot_token
            transport = SlackTransport(slack_client(settings)) if token else ConsoleTransport()
        self.leader = Leader(
            settings,
            self.store,
            transport,
            engine_settings=self.engine_settings,
            simulator=simulator or SimulatorOptions(mode=settings.simulator_mode),
            clock=clock,
            leading=leadership.sure if leadership else None,
            committed=self._committed,
            outbox=self._outbox,
        )
        self.succession: Succession | None = None
        if isinstance(self.store, PostgresBackend) and url and leadership:
            self.succession = Succession(url, self.store, self.leader, leadership, clock=clock)
        self.reads: Reads | None = None  # for commands and the App Home
        self.commands: Commands | None = None
        self.homes: HomeRefresher | None = None  # App Homes kept current (with a Slack token)
        self.web: WebServer | None = None
        self.signatures: SeenSignatures | None = None  # with PostgreSQL in HTTP mode
        self.socket: AsyncSocketModeHandler | None = None
        self.slack_work = Background()
        self.supervisor: Supervisor | None = None
        self.health: Health | None = None
        self.metrics = Metrics(readings(self), clock)

    # What the leader runs, read by commands, health, metrics and the tests.
    @property
    def writer(self) -> Writer | None:
        return self.leader.writer

    @property
    def engine(self) -> AlertEngine | None:
        return self.leader.engine

    @property
    def sender(self) -> Sender | None:
        return self.leader.sender

    @property
    def planner(self) -> Planner | None:
        return self.leader.planner

    @property
    def feeds(self) -> list[FeedClient]:
        return self.leader.feeds

    async def start(self) -> None:
        """Open the store (migrating it), take the lead (load the alert state, start the
        sender, the writer, the feeds, the ticker), then serve people."""
        self.supervisor = Supervisor()
        await self.store.open()
        if self.succession is None:
            await self.leader.start(term=0, failed=self.supervisor.failed)
        else:
            await self.succession.start(self.supervisor.failed)
        await self._start_serving()
        if self.succession is not None:
            # Vital: a leader that loses the lead stops the process (exit 1), to come back as
            # a standby.
            self.supervisor.run("succession", self.succession.run, vital=True)
        s = self.settings
        transport = self.leader.transport
        log.info(
            "bot started",
            extra={
                "role": self.succession.role.value if self.succession else "leader",
                "database": self.store.shown,
                "feeds": len(self.feeds),
                "slack": s.slack_api_url
                if isinstance(transport, SlackTransport)
                else type(transport).__name__,
            },
        )

    async def apply(self, action: Action) -> object:
        """Apply `action` in the leader's writer (this process's or the leading one's), in
        order with the feed; return what the engine made of it once committed (or raise its
        Refusal)."""
        if self.succession is not None:
            return await self.succession.apply(action)
        return await self.leader.apply(action)

    async def run_until(self, stop: asyncio.Event) -> int:
        """Run until `stop` is set (0) or a task the bot cannot live without fails (1)."""
        if self.supervisor is None:
            raise RuntimeError("start() the bot first")
        stopper = asyncio.create_task(stop.wait(), name="stop signal")
        failed = self.supervisor.failed  # the leader's tasks report here too
        await asyncio.wait({stopper, failed}, return_when=asyncio.FIRST_COMPLETED)
        stopper.cancel()
        return 1 if failed.done() else 0  # the supervisor logged why

    async def stop(self) -> None:
        """Stop taking requests, stop leading (the feeds, then the writer flushes what was
        read, then the sender finishes its calls), close the store. Safe to call twice."""
        if self.socket is not None:
            await self.socket.close_async()
            self.socket = None
        if self.web is not None:
            await self.web.stop()
            self.web = None
        if self.signatures is not None:
            await self.signatures.close()
            self.signatures = None
        # Replies and button changes under way finish first: they need the writer.
        await self.slack_work.wait(within=5.0)
        if self.supervisor is not None:
            await self.supervisor.stop()
        await self.leader.stop()
        if self.succession is not None:
            await self.succession.close()
        await self.store.close()
        self.reads = None

    async def _start_serving(self) -> None:
        """Commands (on reads of their own), the HTTP server, and Slack's way in: Socket Mode,
        or /slack/events on the HTTP server."""
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
                people=SlackPeople(slack_client(s)) if s.slack_bot_token else None,
                unavailable=self.store.unavailable,
            )
        )
        self.web = WebServer(s.http_host, s.http_port)
        # The API reads on its own connection: a long page never delays a slash command.
        api_reads = await self.store.reads()
        token = s.api_token.get_secret_value() if s.api_token else None
        Api(api_reads, token=token, clock=self.clock).mount(self.web.app)
        self.health = Health(
            api_reads.ping,
            self._feed_healths,
            slack_check=slack_client(s).auth_test if s.slack_bot_token else None,
            slack_problems=lambda: self.sender.problems() if self.sender else {},
            delivery=lambda now: delivery_check(self.sender, now, s.outbox_max_age_seconds),
            role=(lambda now: role_check(self.succession, now)) if self.succession else None,
            clock=self.clock,
        )
        self.health.mount(self.web.app)
        self.metrics.mount(self.web.app)
        self.commands.answered.append(self.metrics.answered)
        if s.slack_bot_token is not None:
            await self._start_slack()
        await self.web.start()

    async def _start_slack(self) -> None:
        s = self.settings
        client = slack_client(s)
        # Replies and App Home views may meet a 429: wait as told and try again.
        client.retry_handlers.append(AsyncRateLimitErrorRetryHandler(max_retry_count=2))
        http = s.slack_mode == "http"
        secret = s.slack_signing_secret.get_secret_value() if s.slack_signing_secret else None
        assert self.commands is not None
        assert self.reads is not None
        assert self.web is not None
        members = Memberships(client, clock=self.clock)
        self.homes = HomeRefresher(
            Home(self.reads, self.clock, members),
            client,
            active_for=s.home_active_minutes * 60,
            every=s.home_refresh_seconds,
            clock=self.clock,
        )
        assert self.supervisor is not None
        self.supervisor.run("App Home refresh", self.homes.run)
        app = build_app(
            client,
            signing_secret=secret if http else None,
            commands=self.commands,
            background=self.slack_work,
            homes=self.homes,
            people=self.commands.context.people,
            members=members,
        )
        if http:
            if s.database_url is not None:  # other replicas may be reached with a replay
                self.signatures = SeenSignatures(s.database_url)
                await self.signatures.open()
            shared = self.signatures.first_time if self.signatures else None
            self.web.mount_slack(app, signing_secret=secret or "", shared=shared)
        else:
            assert s.slack_app_token is not None  # the settings check it
            self.socket = AsyncSocketModeHandler(app, s.slack_app_token.get_secret_value())
            await self.socket.connect_async()
            log.info("connected to Slack in Socket Mode")

    def _committed(self, events, at: float) -> None:
        self.metrics.committed(events, at)
        if self.homes is not None:
            self.homes.sold(events, at)

    def _outbox(self, rows: list[OutboxRow]) -> None:
        if self.homes is not None:  # an alert changed: the App Homes showing it are due
            self.homes.outbox(rows)

    def _feed_healths(self) -> list[tuple[str, FeedHealth]]:
        return [(feed.name, feed.health) for feed in self.feeds]
