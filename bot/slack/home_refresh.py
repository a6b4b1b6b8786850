"""Keeps open App Homes current. A person who opened their Home in the last `active_for` seconds
is watched: when an alert of one of their channels changes (an outbox row of that channel
commits) or one of the stores they follow sells, their view is drawn again and published if
what it shows changed, no sooner than `every` seconds after their last publish, and within
the workspace's budget for views.publish (Tier 4: 100 a minute). What no commit says (a new
plan of transfers, a rule changed elsewhere) is caught by drawing each watched view again
every RECHECK seconds; the digest keeps an unchanged view from being sent again."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Sequence

from slack_sdk.errors import SlackApiError

from bot.core.delivery import Budgets, Limit
from bot.core.events import SaleEvent
from bot.slack.home import Drawn, Home
from bot.store.batch import OutboxRow

log = logging.getLogger(__name__)

PUBLISH = "views.publish"
LIMIT = Limit(100)  # views.publish is Tier 4: 100+ a minute for the workspace
RECHECK = 60.0


class HomeRefresher:
    """Start `run` as a task; tell it what happens (`opened`, `outbox`, `sold`)."""

    def __init__(
        self,
        home: Home,
        client,
        *,
        active_for: float = 600.0,
        every: float = 5.0,
        clock: Callable[[], float] = time.time,
        budgets: Budgets | None = None,
    ) -> None:
        self._home = home
        self._client = client
        self._active_for = active_for
        self._every = every
        self._clock = clock
        self._budgets = budgets or Budgets({PUBLISH: LIMIT})
        self._opened: dict[str, float] = {}  # user -> when they last opened the Home
        self._shown: dict[str, Drawn] = {}  # user -> what their published view shows
        self._published_at: dict[str, float] = {}
        self._due: dict[str, float] = {}  # user -> draw again at or after this time
        self._wake = asyncio.Event()
        self._done = asyncio.Condition()
        self.published: dict[str, int] = {}  # user -> views published (tests and metrics)
        self.rounds = 0

    def opened(self, user: str) -> None:
        """`user` opened their Home: publish it now, then keep it current."""
        self._opened[user] = self._clock()
        self._due[user] = 0.0
        self._wake.set()

    def outbox(self, rows: list[OutboxRow]) -> None:
        """Alert messages committed: the Homes showing those channels are due."""
        touched = {row.channel for row in rows}
        self._mark(lambda drawn: drawn.channels is None or bool(drawn.channels & touched))

    def sold(self, events: Sequence[SaleEvent], now: float) -> None:
        """Sales committed (a writer commit hook): the Homes following those stores are due."""
        if not any(drawn.stores for drawn in self._shown.values()):
            return
        stores = {event.store for event in events}
        self._mark(lambda drawn: bool(stores.intersection(drawn.stores)))

    def due(self, user: str) -> float | None:
        """When `user`'s view is to be drawn again (None: not watched)."""
        return self._due.get(user)

    async def wait_for(self, predicate: Callable[[HomeRefresher], bool]) -> None:
        """Wait until `predicate(self)` holds after a round (wrap in a timeout)."""
        async with self._done:
            await self._done.wait_for(lambda: predicate(self))

    async def run(self) -> None:
        """Runs for ever: draws and publishes the Homes that are due."""
        while True:
            now = self._clock()
            self._forget_idle(now)
            for user in [u for u, at in self._due.items() if at <= now]:
                del self._due[user]
                await self._refresh(user)
            async with self._done:
                self.rounds += 1
                self._done.notify_all()
            upcoming = min(self._due.values(), default=now + RECHECK)
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), max(0.05, upcoming - self._clock()))

    def _mark(self, shows: Callable[[Drawn], bool]) -> None:
        now = self._clock()
        for user, drawn in self._shown.items():
            if user in self._opened and shows(drawn):
                after = self._published_at.get(user, 0.0) + self._every
                self._due[user] = min(self._due.get(user, after), max(now, after))
                self._wake.set()

    def _forget_idle(self, now: float) -> None:
        for user, at in list(self._opened.items()):
            if now - at > self._active_for:
                del self._opened[user]
                self._due.pop(user, None)
                self._shown.pop(user, None)

    async def _refresh(self, user: str) -> None:
        if user not in self._opened:
            return
        self._due.setdefault(user, self._clock() + RECHECK)  # looked at again in a while
        try:
            drawn = await self._home.draw(user)
        except Exception:
            log.exception("could not draw an App Home")
            return
        shown = self._shown.get(user)
        if shown is not None and shown.digest == drawn.digest:
            self._shown[user] = drawn  # the same view, perhaps other channels or stores
            return
        while True:
            wait = self._budgets.wait(PUBLISH, self._clock())
            if wait <= 0:
                break
            await asyncio.sleep(wait)  # the budget frees up at a known time: nothing to wake on
        self._budgets.spend(PUBLISH, self._clock())
        try:
            await self._client.views_publish(user_id=user, view=drawn.view)
        except SlackApiError as error:
            data = error.response.data
            code = data.get("error", "") if isinstance(data, dict) else ""
            log.warning("could not publish an App Home", extra={"error": code})
            return
        self._shown[user] = drawn
        self._published_at[user] = self._clock()
        self.published[user] = self.published.get(user, 0) + 1
