"""Who leads, when several bots share one PostgreSQL database: the process holding a session
advisory lock on a connection of its own (never through a pooler that mixes sessions).

Taking the lead raises `leadership.term` in the same session; the leader's batches and Slack
calls are tied to that term (fencing: a batch checks it in its transaction, bot/store/postgres/
write.py), so an old leader that wakes from a freeze can neither commit nor post.

The lock's session is ended by the server after `session_timeout` of silence
(`idle_session_timeout`), so a frozen leader loses the lock within seconds; a heartbeat keeps a
live leader's session busy and confirms its term. The leader's own view is a lease: it trusts
its lead for `lease` seconds after the last confirmation, less than the server waits, so that a
leader frozen long enough to be replaced knows it may have been before it acts again."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import time
from collections.abc import Callable

import asyncpg
from pydantic import SecretStr

from bot.store.postgres.connect import connect

log = logging.getLogger(__name__)

LEAD_LOCK = int.from_bytes(b"invlead", "big")  # MIGRATION_LOCK is another key
SESSION_TIMEOUT = 3.0  # seconds of silence after which the server ends the lock's session


def process_name() -> str:
    """How pg_stat_activity and the leadership table name this process: host and pid."""
    return f"{socket.gethostname()} {os.getpid()}"


class Leadership:
    """`wait_to_lead()`, then `valid()` before acting; `lost` is set once the lead is gone for
    sure (the lock's connection broke, or another process raised the term)."""

    def __init__(
        self,
        url: str | SecretStr,
        *,
        name: str | None = None,
        session_timeout: float = SESSION_TIMEOUT,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._url = url
        self.name = name or process_name()
        self.session_timeout = session_timeout
        self.lease = session_timeout / 2  # trust a confirmation this long
        self._beat_every = self.lease / 3
        self._monotonic = monotonic
        self.term = 0
        self.since: float | None = None  # wall-clock time the lead was taken
        self.lost = asyncio.Event()
        self._conn: asyncpg.Connection | None = None
        self._confirmed = float("-inf")
        self._beat_heard = asyncio.Event()
        self._beating: asyncio.Task[None] | None = None

    async def try_to_lead(self) -> int | None:
        """Take the lead if no process holds it now: the term, or None."""
        return await self._take(wait=False)

    async def wait_to_lead(self) -> int:
        """Wait until this process holds the lock (a standby waits here), then take the next
        term; returns it. Raises ConnectError if the server cannot be reached."""
        term = await self._take(wait=True)
        assert term is not None
        return term

    async def _take(self, *, wait: bool) -> int | None:
        settings = {"idle_session_timeout": f"{int(self.session_timeout * 1000)}ms"}
        conn = await connect(self._url, name=f"{self.name} leadership", settings=settings)
        try:
            if wait:
                # Blocking on the lock keeps the session active: idle_session_timeout counts
                # only the time a session sits idle, which is the leader's once it holds it.
                await conn.execute("SELECT pg_advisory_lock($1)", LEAD_LOCK)
            elif not await conn.fetchval("SELECT pg_try_advisory_lock($1)", LEAD_LOCK):
                await conn.close()
                return None
            # Waits while an old leader's batch still holds the row (FOR SHARE) until its
            # session is ended: no batch of the old term can commit after this returns.
            self.term = await conn.fetchval(
                "UPDATE leadership SET term = term + 1, leader = $1, since = $2 WHERE id = 1 "
                "RETURNING term",
                self.name,
                time.time(),
            )
        except BaseException:
            conn.terminate()
            raise
        self._conn, self.since = conn, time.time()
        self._confirmed = self._monotonic()
        self._beating = asyncio.create_task(self._beat(), name="leadership heartbeat")
        log.warning("leading", extra={"term": self.term, "leader": self.name})
        return self.term

    def valid(self) -> bool:
        """The lead is still ours as far as we can tell now: confirmed within the lease."""
        return not self.lost.is_set() and self._monotonic() - self._confirmed < self.lease

    async def sure(self) -> None:
        """Return once the lead is valid (at once, mostly); wait for the heartbeat's next
        confirmation while it is not. Never returns once the lead is lost: the leader is
        stopped then, and with it whatever waits here."""
        while not self.valid():
            self._beat_heard.clear()
            await self._beat_heard.wait()

    async def release(self) -> None:
        """Give the lead up (at shutdown): the lock goes with the session."""
        if self._beating is not None:
            self._beating.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._beating
        if self._conn is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._conn.close(), 2)
            self._conn.terminate()
            self._conn = None

    async def _beat(self) -> None:
        assert self._conn is not None
        while True:
            await asyncio.sleep(self._beat_every)
            try:
                term = await asyncio.wait_for(
                    self._conn.fetchval("SELECT term FROM leadership WHERE id = 1"), self.lease
                )
            except Exception as error:  # the session or the server is gone (or too slow to
                # confirm within the lease): the lead is given up rather than risked
                self._lose(f"the leadership connection failed: {type(error).__name__}: {error}")
                return
            if term != self.term:
                self._lose(f"term {term} was taken by another process")
                return
            self._confirmed = self._monotonic()
            self._beat_heard.set()

    def _lose(self, why: str) -> None:
        log.error("no longer leading", extra={"term": self.term, "why": why})
        self.lost.set()
