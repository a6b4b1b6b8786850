"""Starts the bot's tasks in one event loop, watches them, and shuts down in order."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable

import aiosqlite
from websockets.asyncio.server import Server

from bot.config import Settings
from bot.feed.client import FeedClient
from bot.feed.simulator import SimulatorOptions, serve_feed, server_url
from bot.store import db as database
from bot.store.writer import Tick, Writer

log = logging.getLogger(__name__)

TICK_SECONDS = 1.0
PROGRESS_EVERY = 30.0


class Bot:
    """The running bot: `start()`, then `run_until(stop)`, then `stop()` (always)."""

    def __init__(self, settings: Settings, *, clock: Callable[[], float] = time.time) -> None:
        self.settings = settings
        self.clock = clock
        self.db: aiosqlite.Connection | None = None
        self.writer: Writer | None = None
        self.feeds: list[FeedClient] = []
        self.simulator: Server | None = None
        self._feed_tasks: list[asyncio.Task[None]] = []
        self._background: list[asyncio.Task[None]] = []

    async def start(self) -> None:
        """Open the database (migrating it), start the writer, the feeds and the ticker."""
        s = self.settings
        self.db = await database.connect(s.database_path)
        await database.migrate(self.db)
        self.writer = Writer(
            self.db,
            queue_size=s.writer_queue_size,
            batch_size=s.writer_batch_size,
            dead_letter_limit=s.dead_letter_limit,
            retention_days=s.event_retention_days,
            clock=self.clock,
        )
        await self.writer.start()
        urls = list(s.feed_urls)
        if not urls:
            self.simulator = await serve_feed(
                SimulatorOptions(mode=s.simulator_mode), "127.0.0.1", 0
            )
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
        self._feed_tasks = [
            asyncio.create_task(feed.run(), name=f"feed {feed.url}") for feed in self.feeds
        ]
        self._background = [
            asyncio.create_task(self._tick_forever(), name="ticker"),
            asyncio.create_task(database.checkpoint_forever(s.database_path), name="checkpoint"),
        ]
        log.info("bot started", extra={"database": str(s.database_path), "feeds": len(urls)})

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
        """Stop reading, write what was read, close the database. Safe to call twice."""
        await _cancel(self._feed_tasks)
        if self.simulator is not None:
            self.simulator.close()
            await self.simulator.wait_closed()
            self.simulator = None
        await _cancel(self._background)
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
        if self.db is not None:
            await self.db.close()
            self.db = None

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
                        "queued": writer.queue.qsize(),
                    },
                )
                last_progress, last_events = now, events


async def _cancel(tasks: list[asyncio.Task[None]]) -> None:
    for task in tasks:
        task.cancel()
    for task in tasks:
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await task
    tasks.clear()
