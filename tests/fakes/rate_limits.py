"""Slack's rate limits, modelled for the local Slack (tests/fakes/slack.py).

What Slack documents (docs.slack.dev/apis/web-api/rate-limits and the method pages): limits are
per method, per app, per workspace. chat.update, conversations.history, .replies and .join are
Tier 3, "50+ per minute, sporadic bursts welcome". chat.postMessage is special: "one message
per second per channel", short bursts above that allowed but not sustained, and a workspace-wide
limit whose figure Slack does not publish. Past a limit Slack answers HTTP 429 with an integer
Retry-After (seconds). Only calls Slack accepted count: a refused call uses nothing.

The model: a rolling window per method (at most `calls` accepted in any `per` seconds), and per
channel for posts a token bucket (one a second, `burst` in hand), so a short burst passes and
a sustained rate above one a second is refused.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass


@dataclass(frozen=True)
class Tier:
    calls: int
    per: float = 60.0


# The workspace-wide figures. Slack publishes none for posts: 300 a minute stands for "several
# hundred"; tests that need it tighter say so.
WORKSPACE = {
    "chat.postMessage": Tier(300),
    "chat.update": Tier(50),
    "conversations.history": Tier(50),
    "conversations.replies": Tier(50),
    "conversations.join": Tier(50),
    "views.open": Tier(100),  # Tier 4: "100+ per minute"
    "views.update": Tier(100),
    "views.publish": Tier(100),
    "users.conversations": Tier(50),
    "usergroups.list": Tier(20),  # Tier 2: "20+ per minute"
    "users.list": Tier(20),
}
POST_RATE = 1.0  # messages a second per channel, sustained
POST_BURST = 3.0  # messages in hand: a short burst passes


class RateLimits:
    """Decides, at time `now` (seconds, monotonic), whether Slack accepts a call."""

    def __init__(
        self,
        tiers: dict[str, Tier] | None = None,
        *,
        post_rate: float = POST_RATE,
        post_burst: float = POST_BURST,
    ) -> None:
        self.tiers = dict(WORKSPACE if tiers is None else tiers)
        self.post_rate = post_rate
        self.post_burst = post_burst
        self._accepted: dict[str, deque[float]] = {}
        self._buckets: dict[str, tuple[float, float]] = {}  # channel -> (tokens, at)

    def retry_after(self, method: str, channel: str | None, now: float) -> int | None:
        """None if the call may go now; else the whole seconds to wait, as Retry-After."""
        waits = []
        tier = self.tiers.get(method)
        if tier is not None:
            recent = self._accepted.setdefault(method, deque())
            while recent and recent[0] <= now - tier.per:
                recent.popleft()
            if len(recent) >= tier.calls:
                waits.append(recent[0] + tier.per - now)
        if method == "chat.postMessage" and channel is not None:
            tokens = self._tokens(channel, now)
            if tokens < 1.0:
                waits.append((1.0 - tokens) / self.post_rate)
        if not waits:
            return None
        return max(1, math.ceil(max(waits)))

    def accepted(self, method: str, channel: str | None, now: float) -> None:
        """The call went through: it counts against the limits."""
        if method in self.tiers:
            self._accepted.setdefault(method, deque()).append(now)
        if method == "chat.postMessage" and channel is not None:
            self._buckets[channel] = (self._tokens(channel, now) - 1.0, now)

    def _tokens(self, channel: str, now: float) -> float:
        tokens, at = self._buckets.get(channel, (self.post_burst, now))
        return min(self.post_burst, tokens + (now - at) * self.post_rate)
