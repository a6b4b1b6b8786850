"""Health of one feed connection as a small state machine: disconnected, connected, live, stale.

The feed client reports what happens (connected, a message, disconnected) and a ticker reports
the time; each call returns the transition it caused, if any, for logs, alerts and /readyz.

Only a message makes a feed live: a handshake proves the server accepts connections, not that
sales flow (a proxy whose upstream is gone, a websocketd whose script exits at once). Silence is
counted from the last message (or, before any, from the first connection) across reconnects,
so a link that keeps reopening without carrying a message still turns stale.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class FeedState(StrEnum):
    DISCONNECTED = "disconnected"
    CONNECTED = "connected"  # the link is open; no message on it yet
    LIVE = "live"
    STALE = "stale"


@dataclass(frozen=True, slots=True)
class Transition:
    """The feed moved from one state to another at `at`; `detail` says why."""

    url: str
    before: FeedState
    after: FeedState
    at: float
    detail: str


class FeedHealth:
    """Tracks one feed. `stale_after` seconds without a message, on a server that answers
    (connected now, or reached since the last message), is stale. A server that cannot be
    reached at all stays disconnected: that is a different alarm with its own reason."""

    def __init__(self, url: str, *, stale_after: float, now: float) -> None:
        self.url = url
        self.stale_after = stale_after
        self.state = FeedState.DISCONNECTED
        self.since = now
        self.last_message_at: float | None = None
        self.connected_at: float | None = None
        self.messages = 0
        self.connects = 0
        # Why the feed is not live, in words (shown by /readyz after the state's name).
        self.last_error = "not connected yet"
        self._quiet_from: float | None = None  # start of the silence that counts
        self._links_since_message = 0  # connections opened since the last message
        self._not_live_since = now

    def connected(self, now: float) -> Transition | None:
        self.connected_at = now
        self.connects += 1
        self._links_since_message += 1
        if self._quiet_from is None:
            self._quiet_from = now
        if self.state is not FeedState.DISCONNECTED:
            return None  # stale stays stale until a message; see the module docstring
        self.last_error = "waiting for the first message"
        return self._move(FeedState.CONNECTED, now, "connected, waiting for the first message")

    def message(self, now: float) -> Transition | None:
        self.last_message_at = self._quiet_from = now
        self.messages += 1
        self._links_since_message = 0
        if self.state is FeedState.LIVE:
            return None
        self.last_error = ""
        detail = "messages are flowing" if self.messages == 1 else "messages are flowing again"
        return self._move(FeedState.LIVE, now, detail)

    def disconnected(self, now: float, reason: str) -> Transition | None:
        self.connected_at = None
        if self.state is FeedState.STALE:
            return None  # still silent: the stale reason stands
        self.last_error = reason
        return self._move(FeedState.DISCONNECTED, now, reason)

    def tick(self, now: float) -> Transition | None:
        if self.state is FeedState.STALE or self._quiet_from is None:
            return None
        if self.connected_at is None and not self._links_since_message:
            return None  # unreachable since its last message: disconnected says it better
        silent = now - self._quiet_from
        if silent < self.stale_after:
            return None
        detail = f"no message for {silent:.0f} s"
        if self.connected_at is None:  # links open and close without a message
            detail += (
                f" over {self._links_since_message} connection(s); "
                f"the last closed with: {self.last_error}"
            )
        self.last_error = detail
        return self._move(FeedState.STALE, now, detail)

    def unhealthy_for(self, now: float) -> float:
        """Seconds the feed has been disconnected, connected without a message, or stale;
        0 while live."""
        return 0.0 if self.state is FeedState.LIVE else now - self._not_live_since

    def _move(self, state: FeedState, now: float, detail: str) -> Transition | None:
        if state is self.state:
            return None
        if self.state is FeedState.LIVE:
            self._not_live_since = now
        transition = Transition(self.url, self.state, state, now, detail)
        self.state, self.since = state, now
        return transition
