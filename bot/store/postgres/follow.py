"""A standby's warm copy of what the leader keeps in memory and would cost seconds to reload:
every shelf's pace (1,000,000 shelves take about 5 s to read back cold). The standby reads the
event log as it grows, woken by the leader's batches (NOTIFY events) and every second, and
counts each sale as the leader's writer did. Rules, incidents and alert machines are small:
they are read when the standby takes the lead."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import deque
from collections.abc import Callable

import asyncpg
from pydantic import SecretStr

from bot.core.events import SaleEvent
from bot.core.velocity import PaceBook
from bot.store.postgres.connect import connect

LOOK_EVERY = 1.0  # seconds between looks at the log, whatever the notifications
CHUNK = 5_000  # events read at a time

_NEW_EVENTS = """
    SELECT e.id, e.at, f.url, s.name, m.name, e.inventory FROM events e
    JOIN feeds f ON f.id = e.feed_id JOIN stores s ON s.id = e.store_id
    JOIN models m ON m.id = e.model_id
    WHERE e.id > $1 ORDER BY e.id LIMIT $2
"""


class Backlog:
    """The leader's announcements of commits the copy has not read yet, with when each was
    heard: the copy's lag is the age of the oldest (under a steady load, how far behind the
    copy runs, not how long it has been running behind)."""

    def __init__(self) -> None:
        self._unread: deque[tuple[int, float]] = deque()  # (newest event, heard at)

    def heard(self, newest: int, at: float, *, read: int) -> None:
        """The leader committed up to event `newest`; the copy has read up to `read`."""
        if newest > read:
            self._unread.append((newest, at))

    def read(self, upto: int) -> None:
        """The copy has read every event up to `upto`."""
        while self._unread and self._unread[0][0] <= upto:
            self._unread.popleft()

    def lag(self, now: float) -> float:
        return max(0.0, now - self._unread[0][1]) if self._unread else 0.0


class Follower:
    """Keeps `paces` current from the event log after event `after`; `run()` until cancelled,
    `catch_up()` to read what is left (when taking the lead, once the old leader is fenced)."""

    def __init__(
        self,
        url: str | SecretStr,
        paces: PaceBook,
        *,
        after: int,
        name: str,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._url = url
        self.paces = paces
        self.after = after  # the last event counted
        self._name = name
        self._clock = clock
        self._woken = asyncio.Event()
        self._conn: asyncpg.Connection | None = None
        self._backlog = Backlog()

    async def run(self) -> None:
        self._conn = await connect(self._url, name=f"{self._name} follower")
        try:
            await self._conn.add_listener("events", self._heard)
            while True:
                if await self._read() == CHUNK:
                    continue  # more is waiting
                self._woken.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._woken.wait(), LOOK_EVERY)
        finally:
            conn, self._conn = self._conn, None
            await conn.close()

    async def catch_up(self) -> None:
        """Count every event committed so far."""
        self._conn = await connect(self._url, name=f"{self._name} follower")
        try:
            while await self._read() == CHUNK:
                pass
        finally:
            conn, self._conn = self._conn, None
            await conn.close()

    def lag(self, now: float) -> float:
        """Seconds since the leader announced the oldest commit not read yet (0: caught up)."""
        return self._backlog.lag(now)

    async def _read(self) -> int:
        assert self._conn is not None
        rows = await self._conn.fetch(_NEW_EVENTS, self.after, CHUNK)
        if rows:
            self.paces.record(
                SaleEvent(store, model, inventory, at, feed)
                for _, at, feed, store, model, inventory in rows
            )
            self.after = rows[-1]["id"]
        self._backlog.read(self.after)
        return len(rows)

    def _heard(self, _conn: object, _pid: int, _channel: str, payload: str) -> None:
        with contextlib.suppress(ValueError):
            self._backlog.heard(int(payload), self._clock(), read=self.after)
        self._woken.set()
