"""Reconnect delays: exponential backoff with jitter, capped."""

from __future__ import annotations


def reconnect_delay(attempt: int, *, base: float, cap: float, jitter: float) -> float:
    """Seconds to wait before reconnect attempt number `attempt` (0 for the first retry).

    The ceiling doubles from `base` up to `cap`; `jitter` in [0, 1) picks a point in its upper
    half ("equal jitter"), so feeds that drop together do not all come back in the same
    instant, and no wait is shorter than half the ceiling.
    """
    ceiling = min(cap, base * 2 ** min(attempt, 32))
    return ceiling / 2 + ceiling / 2 * jitter
