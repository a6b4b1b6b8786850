"""Delivery policy: the order, pace and retries of the sender's Slack calls, with times passed in.

Two things bound the calls. Slack limits each method per workspace, whatever the channel, so
each method has one `Budget` shared by every channel: at most `calls` in any `per` seconds
(chat.update, history, replies and join are Tier 3, 50 a minute; posts have a workspace-wide cap
too), and a 429 pauses that method for its Retry-After, for every channel at once. And each
channel has a `Lane` holding its outbox rows: messages (posts and thread replies) go out in
order, at most one a second, measured from the previous message's answer, since Slack shows
about one message per second per channel and hides bursts. Edits (chat.update) are not held
back by that pace, and wait only for their own budget.

A lane makes one call at a time. While it waits for a budget, rows keep arriving: an edit that a
later edit of the same message supersedes is skipped, so when edits are short only each
message's latest state is sent. What waits for one budget does not hold back what another
budget allows: a new alert is posted while edits wait for theirs. Rows of one incident keep
their order, and so do the channel's posts. The lane backs off on server and network errors,
and stops calling a channel Slack refuses (not_in_channel, channel_not_found, ...) until a probe
in a few minutes, rather than retrying in a storm.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

MIN_INTERVAL = 1.0  # seconds between two messages in one channel
BACKOFF_START = 2.0
BACKOFF_CAP = 120.0
BLOCKED_PROBE = 300.0  # seconds before trying a refused channel again
RATE_LIMITED_WAIT = 30.0  # a rate limit answered without Retry-After (ok: false rate_limited)
STORE_BACKOFF_START = 0.5  # the database refused a write (locked, full): first wait
STORE_BACKOFF_CAP = 30.0

# The Slack method each outbox operation calls.
METHODS = {"post": "chat.postMessage", "reply": "chat.postMessage", "update": "chat.update"}


@dataclass(frozen=True, slots=True)
class Limit:
    """At most `calls` calls in any `per` seconds."""

    calls: int
    per: float = 60.0


# Per method, for the whole workspace (docs.slack.dev/apis/web-api/rate-limits). Slack publishes
# no figure for the workspace-wide cap on posts ("a workspace-wide limit"); 200 a minute is well
# under what it lets through, and far over what alerts need. conversations.history and .replies
# drop to 1 a minute for commercially distributed apps outside the Marketplace: pass
# Limit(1) for those.
LIMITS = {
    "chat.postMessage": Limit(200),
    "chat.update": Limit(50),
    "conversations.history": Limit(50),
    "conversations.replies": Limit(50),
    "conversations.join": Limit(50),
}


WINDOW_MARGIN = 0.25  # seconds: calls a window apart here may reach Slack a little closer


class Budget:
    """One method's calls in one workspace: at most `limit.calls` in any `limit.per` seconds,
    and none while a rate limit pauses it. A call counts for `limit.per` + WINDOW_MARGIN
    seconds, so that network jitter cannot bring `limit.calls` + 1 within Slack's window."""

    def __init__(self, limit: Limit) -> None:
        self.limit = limit
        self._calls: deque[float] = deque()
        self.paused_until = 0.0

    def wait(self, now: float) -> float:
        """Seconds until a call may go (0: now)."""
        self._forget(now)
        wait = self.paused_until - now
        if len(self._calls) >= self.limit.calls:
            wait = max(wait, self._calls[0] + self.limit.per + WINDOW_MARGIN - now)
        return max(0.0, wait)

    def spend(self, now: float) -> None:
        """A call goes out now."""
        self._calls.append(now)

    def pause(self, now: float, seconds: float) -> None:
        """Slack said to wait `seconds` (Retry-After)."""
        self.paused_until = max(self.paused_until, now + seconds)

    def used(self, now: float) -> int:
        """Calls in the window that ends now."""
        self._forget(now)
        return len(self._calls)

    def _forget(self, now: float) -> None:
        while self._calls and self._calls[0] <= now - self.limit.per - WINDOW_MARGIN:
            self._calls.popleft()


class Budgets:
    """A Budget per Slack method, shared by every channel of the workspace. A method with no
    limit given is held only by the rate limits Slack answers."""

    def __init__(self, limits: dict[str, Limit] | None = None) -> None:
        given = LIMITS if limits is None else limits
        self._budgets = {method: Budget(limit) for method, limit in given.items()}

    def budget(self, method: str) -> Budget:
        found = self._budgets.get(method)
        if found is None:
            found = self._budgets[method] = Budget(Limit(1 << 30))
        return found

    def wait(self, method: str, now: float) -> float:
        return self.budget(method).wait(now)

    def spend(self, method: str, now: float) -> None:
        self.budget(method).spend(now)

    def pause(self, method: str, now: float, seconds: float) -> None:
        self.budget(method).pause(now, seconds)

    def usage(self, now: float) -> dict[str, tuple[int, Limit]]:
        """Per method: calls in the current window, and the limit."""
        return {m: (b.used(now), b.limit) for m, b in self._budgets.items()}

    def paused(self, now: float) -> dict[str, float]:
        """Methods a rate limit pauses now, and for how many more seconds."""
        return {m: b.paused_until - now for m, b in self._budgets.items() if b.paused_until > now}


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
    # Once set, (state, error) to record: sent, superseded or failed. No Slack call is left to
    # make for the row, only its record to write, so a retry after a database error never
    # calls Slack again.
    outcome: tuple[str, str | None] | None = None
    where: tuple[str, str] | None = None  # (channel id, ts) of the message a post made
    crashes: int = 0  # times the sender's task died while working on it


class Lane:
    """The deliveries of one channel; see the module docstring. Times are passed in."""

    def __init__(
        self, channel: str, budgets: Budgets | None = None, *, min_interval: float = MIN_INTERVAL
    ) -> None:
        self.channel = channel
        self.budgets = budgets if budgets is not None else Budgets({})
        self.min_interval = min_interval
        self.queue: deque[Delivery] = deque()
        self.next_at = 0.0  # no call before this time (backoff, probes)
        self.next_message_at = 0.0  # no post or reply before this time (the pace)
        self.blocked: str | None = None  # why Slack refuses this channel, while it does
        self.last_call_at: float | None = None
        self.store_failures = 0  # database failures in a row

    def add(self, delivery: Delivery) -> None:
        self.queue.append(delivery)

    def waiting(self) -> list[Delivery]:
        """The rows whose Slack call is still to make."""
        return [d for d in self.queue if d.outcome is None]

    def next(self, now: float) -> Delivery | float | None:
        """The delivery to make now, or how many seconds to wait, or None if idle.

        Rows of an incident go in order, and so do posts; within that, the first row whose
        budget (and, for a message, whose pace) allows it goes first.
        """
        if not self.queue:
            return None
        if now < self.next_at:
            return self.next_at - now
        soonest = float("inf")
        incidents: set[int] = set()
        post_seen = False
        for d in self.queue:
            if d.incident_id in incidents:
                continue  # an earlier row of its incident goes first
            incidents.add(d.incident_id)
            if d.outcome is not None:
                return d  # only its record is left to write
            if d.op == "post":
                if post_seen:
                    continue
                post_seen = True
            ready = max(now, now + self.budgets.wait(METHODS[d.op], now))
            if d.op != "update":
                ready = max(ready, self.next_message_at)
            if ready <= now:
                return d
            soonest = min(soonest, ready)
        return soonest - now

    def superseded(self) -> list[Delivery]:
        """Settle the edits that a later edit of the same message replaces: they are not sent,
        only recorded as superseded. Returns those newly settled."""
        latest: dict[int, Delivery] = {}
        for d in self.queue:
            if d.op == "update":
                latest[d.incident_id] = d
        dropped = [
            d
            for d in self.queue
            if d.op == "update" and d.outcome is None and latest[d.incident_id] is not d
        ]
        for d in dropped:
            d.outcome = ("superseded", None)
        return dropped

    def started(self, d: Delivery, now: float) -> None:
        """A Slack call for `d` is going out now."""
        d.attempts += 1
        self.last_call_at = now

    def finished(self, now: float, op: str) -> None:
        """The call for an `op` came back, whatever the outcome. After a message the next one
        waits `min_interval` from now: measured from the answer, two messages reach Slack at
        least that far apart."""
        if op != "update":
            self.next_message_at = max(self.next_message_at, now + self.min_interval)

    def done(self, d: Delivery) -> Delivery:
        """`d` is settled and recorded: take it off."""
        self.blocked = None
        self.queue.remove(d)
        return d

    def retry_later(self, d: Delivery, now: float, *, uncertain: bool) -> float:
        """A server or network error: back off (doubling per attempt). Returns the wait."""
        d.uncertain = d.uncertain or uncertain
        wait = min(BACKOFF_CAP, BACKOFF_START * 2 ** max(0, d.attempts - 1))
        self.next_at = max(self.next_at, now + wait)
        return wait

    def block(self, now: float, reason: str) -> bool:
        """Slack refuses the channel itself. True the first time (tell someone), then False."""
        first = self.blocked != reason
        self.blocked = reason
        self.next_at = now + BLOCKED_PROBE
        return first

    def store_failed(self, now: float) -> float:
        """The database refused to record a delivery: wait (doubling) before trying again.
        Returns the wait; the rows stay queued, each where it was."""
        wait = min(STORE_BACKOFF_CAP, STORE_BACKOFF_START * 2**self.store_failures)
        self.store_failures += 1
        self.next_at = max(self.next_at, now + wait)
        return wait

    def stored(self) -> None:
        """A record went in: the database works again."""
        self.store_failures = 0
