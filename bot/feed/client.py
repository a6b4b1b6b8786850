"""The feed client: one task per feed URL, reading sale frames into the writer for ever.

It reconnects with capped exponential backoff and jitter, pings to notice dead links, tracks
staleness, and validates every frame. Nothing a feed sends can stop it: bad frames are counted,
logged without flooding the log and dead-lettered; a failure of any kind ends in a reconnect.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections import Counter, deque
from collections.abc import Awaitable, Callable
from typing import Any

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed
from websockets.frames import CloseCode, Frame, Opcode

from bot.core.backoff import reconnect_delay
from bot.core.events import BadFrame, SaleEvent, parse_frame, too_large
from bot.core.feed_health import FeedHealth, FeedState, Transition
from bot.core.secrets import shown_url
from bot.core.throttle import LogThrottle

log = logging.getLogger(__name__)

# Frames up to this size are read and then refused by the validator, which keeps the link and
# dead-letters them; a larger one makes the WebSocket layer close the link (code 1009).
WS_MAX_FRAME_BYTES = 4 * 1024 * 1024
RECONNECT_BASE_SECONDS = 0.5
BAD_FRAME_LOG_WINDOW = 60.0

# Hands an item to the writer: None once queued, or an awaitable while the queue is full.
Offer = Callable[[SaleEvent | BadFrame], Awaitable[None] | None]


class _FeedConnection(ClientConnection):
    """Notes whether each message came as a binary frame.

    The client reads payloads as bytes (recv(decode=False)) so that invalid UTF-8 in one text
    frame is one refused frame; websockets' own decoding would close the connection (1007) and
    lose the rest of a websocketd stream. Reading bytes hides the frame type, hence this note.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.binary_messages: deque[bool] = deque()

    def process_event(self, event: Any) -> None:
        if type(event) is Frame:
            opcode = event.opcode
            if opcode is Opcode.TEXT:
                self.binary_messages.append(False)
            elif opcode is Opcode.BINARY:
                self.binary_messages.append(True)
        super().process_event(event)


class FeedClient:
    """Reads one feed URL into `submit`. `run()` returns only when cancelled. `name` is the
    URL with its credentials hidden: every report uses it, only the connection uses `url`."""

    def __init__(
        self,
        url: str,
        offer: Offer,
        *,
        stale_after: float,
        ping_interval: float,
        reconnect_max: float,
        clock: Callable[[], float] = time.time,
        jitter: Callable[[], float] = random.random,
    ) -> None:
        self.url, self.name = url, shown_url(url)
        self.health = FeedHealth(self.name, stale_after=stale_after, now=clock())
        self.bad_frames: Counter[str] = Counter()
        self.failed_attempts = 0
        self._offer = offer
        self._ping_interval = ping_interval
        self._reconnect_max = reconnect_max
        self._clock = clock
        self._jitter = jitter
        self._throttle = LogThrottle(BAD_FRAME_LOG_WINDOW)
        self.transitions: list[Callable[[Transition], None]] = [_log_transition]

    async def run(self) -> None:
        """Connect, read, reconnect; for ever, until cancelled."""
        attempt = 0
        while True:
            try:
                async with connect(
                    self.url,
                    create_connection=_FeedConnection,
                    compression=None,  # deflate halves throughput for ~70-byte frames
                    max_size=WS_MAX_FRAME_BYTES,
                    ping_interval=self._ping_interval,
                    ping_timeout=self._ping_interval,
                    open_timeout=10,
                    close_timeout=2,
                ) as ws:
                    self._report(self.health.connected(self._clock()))
                    before = self.health.messages
                    try:
                        await self._receive(ws)
                    finally:
                        # Only a link that carried messages resets the backoff: a server that
                        # accepts and hangs up at once must not be retried in a tight loop.
                        if self.health.messages > before:
                            attempt = 0
            except ConnectionClosed as closed:
                reason = await self._closed(closed)
            except Exception as error:  # any failure of the link means: reconnect
                reason = f"{type(error).__name__}: {error}" if str(error) else type(error).__name__
                reason = reason.replace(self.url, self.name)  # websockets quotes a bad URL
            delay = reconnect_delay(
                attempt, base=RECONNECT_BASE_SECONDS, cap=self._reconnect_max, jitter=self._jitter()
            )
            self._report(self.health.disconnected(self._clock(), reason))
            if attempt > 0:
                self.failed_attempts += 1
            # Log the first failure and then at attempts 1, 2, 4, 8, ...: a feed down for a day
            # writes a few dozen lines, not one every 30 seconds.
            if attempt & (attempt - 1) == 0:
                log.warning(
                    "feed unreachable; retrying",
                    extra={
                        "url": self.name,
                        "reason": reason,
                        "attempt": attempt + 1,
                        "retry_in_s": round(delay, 2),
                    },
                )
            attempt += 1
            await asyncio.sleep(delay)

    def tick(self, now: float) -> None:
        """Let time pass: marks the feed stale after its silence limit, flushes log counts."""
        self._report(self.health.tick(now))
        suppressed = self._throttle.summary(now)
        if suppressed:
            log.warning(
                "more bad frames",
                extra={"url": self.name, **{f"bad_{k}": v for k, v in sorted(suppressed.items())}},
            )

    @property
    def live(self) -> bool:
        return self.health.state is FeedState.LIVE

    async def _receive(self, ws: _FeedConnection) -> None:
        kinds, clock, name, health = ws.binary_messages, self._clock, self.name, self.health
        offer = self._offer
        while True:
            data = await ws.recv(decode=False)
            now = clock()
            item = parse_frame(data, binary=kinds.popleft(), at=now, feed=name)
            transition = health.message(now)
            if transition is not None:
                self._report(transition)
            if type(item) is BadFrame:
                self._bad(item)
            waiting = offer(item)
            if waiting is not None:
                await waiting

    async def _closed(self, closed: ConnectionClosed) -> str:
        if closed.sent is not None and closed.sent.code == CloseCode.MESSAGE_TOO_BIG:
            bad = too_large(WS_MAX_FRAME_BYTES, at=self._clock(), feed=self.name)
            self._bad(bad)
            waiting = self._offer(bad)
            if waiting is not None:
                await waiting
        return str(closed)

    def _bad(self, bad: BadFrame) -> None:
        self.bad_frames[bad.reason] += 1
        if self._throttle.admit(bad.reason, bad.at):
            log.warning(
                "bad frame",
                extra={
                    "url": self.name,
                    "reason": bad.reason.value,
                    "detail": bad.detail,
                    "sample": bad.sample[:80],
                },
            )

    def _report(self, transition: Transition | None) -> None:
        if transition is not None:
            for listener in self.transitions:
                listener(transition)


def _log_transition(t: Transition) -> None:
    down = t.after in (FeedState.DISCONNECTED, FeedState.STALE)
    level = logging.WARNING if down else logging.INFO
    log.log(level, f"feed {t.after.value}", extra={"url": t.url, "detail": t.detail})
