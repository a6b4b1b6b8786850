"""Two bots (or more) on one PostgreSQL database: one leads, the others stand by.

A process that starts while another leads is a standby: it answers people from the database,
hands the changes they ask for to the leader (bot/store/postgres/handover.py), keeps every
shelf's pace warm from the event log (bot/store/postgres/follow.py) and waits on the lead's
lock. When the leader dies or freezes, the server ends its lock's session within seconds; the
standby takes the lock and the next term (which fences the old leader's writer), counts the
last events, then starts the leader's parts with the warm paces.

A leader that loses the lead (its lock's session ended, or another took the term) does not try
to step down in place: it stops with exit status 1 and its service manager starts it again,
as a standby. Kubernetes' leader election does the same; it is the one way to be sure that
nothing of the old term keeps running."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from enum import Enum

from pydantic import SecretStr

from bot.core.alerting.actions import Action
from bot.core.velocity import PaceBook
from bot.leading import Leader
from bot.store.postgres.backend import PostgresBackend
from bot.store.postgres.follow import Follower
from bot.store.postgres.handover import Asker, Inbox
from bot.store.postgres.leadership import Leadership

log = logging.getLogger(__name__)

RETRY_EVERY = 1.0  # seconds between tries while the database cannot be reached


class Role(Enum):
    STARTING = "starting"
    STANDBY = "standby"
    TAKING_OVER = "taking over"
    LEADER = "leader"


class LostLead(Exception):
    """The lead went to another process: this one must stop (and be started again)."""


class Succession:
    """`start()` leads at once if no process does, else stands by; `run()` (supervised, vital)
    waits to lead, takes over, and raises LostLead if the lead is lost; `apply()` goes to the
    leader, here or in another process."""

    def __init__(
        self,
        url: SecretStr,
        store: PostgresBackend,
        leader: Leader,
        leadership: Leadership,
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._url = url
        self._store = store
        self._leader = leader
        self.leadership = leadership
        self._clock = clock
        self.role = Role.STARTING
        self.asker = Asker(url, name=leadership.name)
        self.follower: Follower | None = None
        self.takeover_seconds: float | None = None  # how long the last takeover took
        self._failed: asyncio.Future[str] | None = None

    async def start(self, failed: asyncio.Future[str]) -> None:
        """Lead now if the lead is free; else keep warm for `run()` to take over. The leader's
        vital tasks report to `failed`."""
        self._failed = failed
        await self.asker.open()
        term = await self.leadership.try_to_lead()
        if term is not None:
            await self._lead(term, paces=None)
            return
        paces = PaceBook()
        after = await self._store.warm_paces(paces)
        self.follower = Follower(
            self._url, paces, after=after, name=self.leadership.name, clock=self._clock
        )
        self.role = Role.STANDBY
        log.warning("standing by: another process leads", extra={"events_counted": after})

    async def run(self) -> None:
        """Stand by until the lead is ours, lead, and raise LostLead once it is lost."""
        if self.role is Role.STANDBY:
            await self._stand_by()
        await self.leadership.lost.wait()
        raise LostLead(f"the lead of term {self.leadership.term} was lost")

    async def apply(self, action: Action) -> object:
        """Apply `action` where the lead is: here, or handed to the leading process."""
        if self.role is Role.LEADER:
            return await self._leader.apply(action)
        return await self.asker.ask(action, self._clock())

    def lag(self, now: float) -> float:
        """Seconds a standby's warm paces are behind the leader's log (0 when leading)."""
        return self.follower.lag(now) if self.follower and self.role is Role.STANDBY else 0.0

    async def close(self) -> None:
        """Give the lead up (the writer has stopped) and close the connections."""
        await self.leadership.release()
        await self.asker.close()

    async def _stand_by(self) -> None:
        assert self.follower is not None
        following = asyncio.create_task(self._follow(self.follower), name="follower")
        try:
            term = await self._wait_to_lead()
        finally:
            following.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await following
        started = time.monotonic()
        self.role = Role.TAKING_OVER
        # The term is ours: no batch of the old leader can commit now, so the log is complete.
        await self.follower.catch_up()
        await self._lead(term, paces=self.follower.paces)
        self.takeover_seconds = time.monotonic() - started
        log.warning(
            "took over",
            extra={"term": term, "seconds": round(self.takeover_seconds, 3)},
        )

    async def _wait_to_lead(self) -> int:
        while True:
            try:
                return await self.leadership.wait_to_lead()
            except Exception as error:  # the server is away: wait for it, still standing by
                log.warning("cannot wait for the lead now", extra={"error": str(error)})
                await asyncio.sleep(RETRY_EVERY)

    async def _follow(self, follower: Follower) -> None:
        while True:
            try:
                await follower.run()
            except Exception as error:  # the server is away: the copy falls behind, no more
                log.warning("cannot follow the event log now", extra={"error": str(error)})
                await asyncio.sleep(RETRY_EVERY)

    async def _lead(self, term: int, *, paces: PaceBook | None) -> None:
        self._store.term = term  # every batch checks it from now on (fencing)
        await self._leader.start(term, paces=paces, failed=self._failed)
        assert self._leader.supervisor is not None
        inbox = Inbox(self._url, self._leader.submit, name=self.leadership.name, term=term)
        self._leader.supervisor.run("inbox", inbox.run)
        self.role = Role.LEADER
