"""Health of one feed connection as a small state machine: disconnected, live or stale.

The feed client reports what happens (connected, a message, disconnected) and a ticker reports
the time; each call returns the transition it caused, if any, for logs, alerts and /readyz.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class FeedState(StrEnum):
    DISCONNECTED = "disconnected"
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
    """Tracks one feed. `stale_after` seconds without a message on an open connection is stale."""

    def __init__(self, url: str, *, stale_after: float, now: float) -> None:
        self.url = url
        self.stale_after = stale_after
        self.state = FeedState.DISCONNECTED
        self.since = now
        self.last_message_at: float | None = None
        self.connected_at: float | None = None
        self.messages = 0
        self.connects = 0
        self.last_error = "not connected yet"

    def connected(self, now: float) -> Transition | None:
        self.connected_at = now
        self.connects += 1
        return self._move(FeedState.LIVE, now, "connected")

    def message(self, now: float) -> Transition | None:
        self.last_message_at = now
        self.messages += 1
        if self.state is FeedState.LIVE:
            return None
        return self._move(FeedState.LIVE, now, "messages are flowing again")

    def disconnected(self, now: float, reason: str) -> Transition | None:
        self.connected_at = None
        self.last_error = reason
        return self._move(FeedState.DISCONNECTED, now, reason)

    def tick(self, now: float) -> Transition | None:
        if self.state is not FeedState.LIVE or self.connected_at is None:
            return None
        last = max(self.connected_at, self.last_message_at or self.connected_at)
        if now - last < self.stale_after:
            return None
        return self._move(FeedState.STALE, now, f"no message for {now - last:.0f} s")

    def unhealthy_for(self, now: float) -> float:
        """Seconds the feed has been disconnected or stale; 0 while live."""
        return 0.0 if self.state is FeedState.LIVE else now - self.since

    def _move(self, state: FeedState, now: float, detail: str) -> Transition | None:
        if state is self.state:
            return None
        transition = Transition(self.url, self.state, state, now, detail)
        self.state, self.since = state, now
        return transition
