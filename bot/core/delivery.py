"""Delivery policy for one Slack channel: the order, pace and retries of its calls.

A lane holds a channel's outbox rows in order and makes one call at a time. Messages (posts and
thread replies) go out at most one a second, measured from the previous message's answer:
Slack shows about one message per second per channel and hides bursts. Edits (chat.update) are
not messages and are not held back by that pace. The lane honours Retry-After on a 429, backs
off on server and network errors, and stops calling a channel Slack refuses (not_in_channel,
channel_not_found, ...) until a probe in a few minutes, rather than retrying in a storm. An edit
that a later edit of the same message supersedes is skipped.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

MIN_INTERVAL = 1.0  # seconds between two calls to one channel
BACKOFF_START = 2.0
BACKOFF_CAP = 120.0
BLOCKED_PROBE = 300.0  # seconds before trying a refused channel again


@dataclass(slots=True)
class Delivery:
    """One outbox row on its way to Slack."""

    outbox_id: int
    op: str  # post | update | reply
    incident_id: int
    payload: str
    attempts: int = 0
    first_attempt_at: float | None = None
    # An earlier attempt may have reached Slack (timeout, 5xx, crash): look before posting.
    uncertain: bool = False
    created_at: float = 0.0  # when the row was committed


class Lane:
    """The deliveries of one channel; see the module docstring. Times are passed in."""

    def __init__(self, channel: str, *, min_interval: float = MIN_INTERVAL) -> None:
        self.channel = channel
        self.min_interval = min_interval
        self.queue: deque[Delivery] = deque()
        self.next_at = 0.0  # no call before this time (backoff, Retry-After, probes)
        self.next_message_at = 0.0  # no post or reply before this time (the pace)
        self.blocked: str | None = None  # why Slack refuses this channel, while it does
        self.last_call_at: float | None = None

    def add(self, delivery: Delivery) -> None:
        self.queue.append(delivery)

    def next(self, now: float) -> Delivery | float | None:
        """The delivery to make now, or how many seconds to wait, or None if idle."""
        if not self.queue:
            return None
        head = self.queue[0]
        ready = self.next_at if head.op == "update" else max(self.next_at, self.next_message_at)
        if now < ready:
            return ready - now
        return head

    def superseded(self) -> list[Delivery]:
        """Take the edits at the head that a later edit of the same message replaces."""
        dropped = []
        while self.queue and self.queue[0].op == "update":
            head = self.queue[0]
            if not any(
                d.op == "update" and d.incident_id == head.incident_id for d in list(self.queue)[1:]
            ):
                break
            dropped.append(self.queue.popleft())
        return dropped

    def started(self, now: float) -> None:
        """A call for the head is going out now."""
        self.queue[0].attempts += 1
        self.last_call_at = now

    def finished(self, now: float, op: str) -> None:
        """The call for an `op` came back, whatever the outcome. After a message the next one
        waits `min_interval` from now: measured from the answer, two messages reach Slack at
        least that far apart."""
        if op != "update":
            self.next_message_at = max(self.next_message_at, now + self.min_interval)

    def done(self) -> Delivery:
        """The head was delivered, or failed for good: take it off."""
        self.blocked = None
        return self.queue.popleft()

    def rate_limited(self, now: float, retry_after: float) -> None:
        self.next_at = max(self.next_at, now + retry_after)

    def retry_later(self, now: float, *, uncertain: bool) -> float:
        """A server or network error: back off (doubling per attempt). Returns the wait."""
        head = self.queue[0]
        head.uncertain = head.uncertain or uncertain
        wait = min(BACKOFF_CAP, BACKOFF_START * 2 ** max(0, head.attempts - 1))
        self.next_at = max(self.next_at, now + wait)
        return wait

    def block(self, now: float, reason: str) -> bool:
        """Slack refuses the channel itself. True the first time (tell someone), then False."""
        first = self.blocked != reason
        self.blocked = reason
        self.next_at = now + BLOCKED_PROBE
        return first
