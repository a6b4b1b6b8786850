"""The sender: delivers committed outbox rows to Slack (or the console), each exactly once.

One task per channel works through that channel's lane (bot.core.delivery); every Slack call,
whatever its channel, first waits for its method's budget, which all channels share. Before a
post or reply goes out, the attempt is recorded; after it, the message's place in Slack. If the
answer was lost (timeout, 5xx, a crash mid-call), the next attempt looks for the message before
posting it again (bot/slack/calls.py). What each error Slack answers means for the row comes
from one table (bot/slack/errors.py).

The sender's records go through a Deliveries store (bot/store/deliveries.py). When the
database refuses a write (locked by someone else past the busy timeout, disk full), the lane
backs off and tries again, from where it was: a message Slack already has is never sent again
to get its record written. A lane's task that ends on an error nobody expected is logged with
the error and started again.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections import Counter
from collections.abc import Awaitable, Callable

from bot.core.delivery import (
    BLOCKED_PROBE,
    METHODS,
    MIN_INTERVAL,
    RATE_LIMITED_WAIT,
    Budgets,
    Delivery,
    Lane,
)
from bot.core.throttle import LogThrottle
from bot.slack.calls import SlackCalls
from bot.slack.errors import CHANNEL_HINTS, UNKNOWN_TRIES
from bot.slack.payload import render_payload
from bot.slack.transport import (
    AuthRefused,
    ChannelRefused,
    RateLimited,
    Rejected,
    Retry,
    Transport,
)
from bot.store.batch import OutboxRow
from bot.store.deliveries import Deliveries, StorageError

log = logging.getLogger(__name__)

STOP_GRACE = 5.0  # seconds a call under way may take to finish at shutdown
RESTART_AFTER = 1.0  # seconds before a lane's task that died is started again (doubling)
RESTART_CAP = 60.0
POISON_AFTER = 3  # a row its lane's task died on this many times is given up


class Sender:
    """Start it, hand it committed rows with `enqueue`, stop it. Rows not yet delivered at
    stop stay in the outbox and go out at the next start."""

    def __init__(
        self,
        deliveries: Deliveries,
        transport: Transport,
        *,
        budgets: Budgets | None = None,
        min_interval: float = MIN_INTERVAL,
        rate_limited_wait: float = RATE_LIMITED_WAIT,
        restart_after: float = RESTART_AFTER,
        unknown_tries: int = UNKNOWN_TRIES,
        clock: Callable[[], float] = time.time,
        leading: Callable[[], Awaitable[None]] | None = None,
    ) -> None:
        self.deliveries = deliveries
        self.transport = transport
        self.budgets = budgets if budgets is not None else Budgets()
        # Before each call: wait until this process is sure it leads (bot/store/postgres/
        # leadership.py); None when it is the only one.
        self._calls = SlackCalls(transport, deliveries, self.budgets, clock, leading)
        self._min_interval = min_interval
        self._rate_limited_wait = rate_limited_wait
        self._restart_after = restart_after
        self._unknown_tries = unknown_tries
        self._clock = clock
        self._lanes: dict[str, Lane] = {}
        self._wake: dict[str, asyncio.Event] = {}
        self._workers: dict[str, asyncio.Task[None]] = {}
        self._current: dict[str, Delivery] = {}  # channel -> the row its task is working on
        self._restarts: dict[str, int] = {}
        self._restart_timers: dict[str, asyncio.TimerHandle] = {}
        self._stopping = False
        self._queued: set[int] = set()  # outbox ids in a lane now
        self._auth_refused: str | None = None
        self._auth_probe_at = 0.0
        self._storage_error: str | None = None
        self._idle = asyncio.Condition()
        self._throttle = LogThrottle(300.0)
        self.counts: Counter[tuple[str, str]] = Counter()  # (op, outcome) -> deliveries
        self.storage_failures = 0  # database reads or writes that failed (and were retried)
        self.restarts = 0  # lanes' tasks started again after an unexpected error

    async def start(self) -> None:
        """Open the sender's store and queue every row not yet delivered."""
        await self.deliveries.open()
        rows = await self.deliveries.undelivered()
        for row in rows:
            # A row tried before a restart may have reached Slack: look before sending again.
            self._add(
                row.channel,
                Delivery(
                    row.outbox_id,
                    row.op,
                    row.incident_id,
                    row.payload,
                    row.attempts,
                    row.first_attempt_at,
                    uncertain=row.attempts > 0,
                    created_at=row.created_at,
                ),
            )
        if rows:
            log.info("outbox rows to deliver from before the restart", extra={"rows": len(rows)})

    def enqueue(self, rows: list[OutboxRow]) -> None:
        """Rows the writer just committed."""
        for row in rows:
            self._add(
                row.channel,
                Delivery(row.id, row.op, row.incident_id, row.payload, created_at=row.created_at),
            )

    def pending(self) -> int:
        """Rows whose Slack call is still to make, in all channels."""
        return sum(len(lane.waiting()) for lane in self._lanes.values())

    def oldest_pending_at(self) -> float | None:
        """When the oldest row whose Slack call is still to make was committed (None if none
        waits)."""
        return min(
            (d.created_at for lane in self._lanes.values() for d in lane.waiting()), default=None
        )

    def next_try(self, channel: str) -> float | None:
        """The earliest time (on the sender's clock) the channel's next Slack call may be
        made: after a refusal, minutes away. None if nothing waits for that channel."""
        lane = self._lanes.get(channel)
        if lane is None or not lane.waiting():
            return None
        return max(lane.next_at, self._auth_probe_at if self._auth_refused else 0.0)

    def problems(self) -> dict[str, str]:
        """What Slack refuses now: channel -> reason, and "*" for the token."""
        found = {lane.channel: lane.blocked for lane in self._lanes.values() if lane.blocked}
        if self._auth_refused:
            found["*"] = self._auth_refused
        return found

    @property
    def calls(self) -> Counter[str]:
        """Slack method -> calls made."""
        return self._calls.made

    def storage_problem(self) -> str | None:
        """The database error that stops the sender recording deliveries now (None if none)."""
        return self._storage_error

    async def wait_idle(self) -> None:
        """Wait until every queued row is delivered or given up, and recorded (wrap in a
        timeout)."""
        async with self._idle:
            await self._idle.wait_for(lambda: not any(lane.queue for lane in self._lanes.values()))

    async def stop(self) -> None:
        """Let calls under way finish (a few seconds at most), then stop."""
        self._stopping = True
        for timer in self._restart_timers.values():
            timer.cancel()
        workers = list(self._workers.values())
        for channel, task in self._workers.items():
            if channel not in self._current:
                task.cancel()  # waiting: nothing under way to lose
        if workers:
            _, late = await asyncio.wait(workers, timeout=STOP_GRACE)
            for task in late:
                task.cancel()
            await asyncio.gather(*workers, return_exceptions=True)
        self._workers.clear()
        await self.deliveries.close()

    # -- inside -----------------------------------------------------------------------------

    def _add(self, channel: str, delivery: Delivery) -> None:
        if delivery.outbox_id in self._queued:
            return  # handed over twice (loaded at start, then committed): one delivery
        self._queued.add(delivery.outbox_id)
        if delivery.op not in METHODS:  # written by another version, or damaged
            log.error(
                "an outbox row asks for what the sender cannot do; it is given up",
                extra={"channel": channel, "outbox_id": delivery.outbox_id, "op": delivery.op},
            )
            delivery.outcome = ("failed", f"unknown operation {delivery.op!r}")
        lane = self._lanes.get(channel)
        if lane is None:
            lane = Lane(channel, self.budgets, min_interval=self._min_interval)
            self._lanes[channel] = lane
            self._wake[channel] = asyncio.Event()
        lane.add(delivery)
        self._wake[channel].set()
        if channel not in self._workers and not self._stopping:
            self._start_worker(lane)

    def _start_worker(self, lane: Lane) -> None:
        self._restart_timers.pop(lane.channel, None)
        task = asyncio.create_task(self._work(lane), name=f"send {lane.channel}")
        self._workers[lane.channel] = task
        task.add_done_callback(lambda done: self._worker_ended(lane, done))

    def _worker_ended(self, lane: Lane, task: asyncio.Task[None]) -> None:
        """A lane's task ended. At stop that is expected; otherwise it died of an error nobody
        foresaw: say so with the error, and start it again after a pause (doubling)."""
        current = self._current.pop(lane.channel, None)
        if self._stopping:
            return
        error = None if task.cancelled() else task.exception()
        if current is not None and current.outcome is None:
            current.uncertain = True  # the call under way may have reached Slack
            current.crashes += 1
            if current.crashes >= POISON_AFTER:
                # The same row, every time: give it up so the channel's other alerts go out.
                current.outcome = ("failed", f"the sender failed on it: {error!r}")
        restarts = self._restarts.get(lane.channel, 0)
        delay = min(RESTART_CAP, self._restart_after * 2**restarts)
        self._restarts[lane.channel] = restarts + 1
        self.restarts += 1
        log.error(
            "the sender of a channel stopped on an unexpected error; starting it again",
            exc_info=error,
            extra={
                "channel": lane.channel,
                "error": repr(error) if error is not None else "cancelled",
                "restart_in_s": delay,
                "waiting": len(lane.queue),
            },
        )
        loop = asyncio.get_running_loop()
        self._restart_timers[lane.channel] = loop.call_later(delay, self._start_worker, lane)

    async def _work(self, lane: Lane) -> None:
        wake = self._wake[lane.channel]
        while not self._stopping:
            now = self._clock()
            lane.superseded()
            step = lane.next(now)
            if step is None or isinstance(step, float):
                await self._notify_idle()
                wake.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(wake.wait(), step)
                continue
            if step.outcome is None and self._auth_refused and now < self._auth_probe_at:
                await asyncio.sleep(self._auth_probe_at - now)
                continue
            # Left set if an unexpected error ends the task: _worker_ended needs to know.
            self._current[lane.channel] = step
            try:
                if step.outcome is None:
                    await self._deliver(lane, step, now)
                if step.outcome is not None:
                    await self._record(lane, step)
            except StorageError as error:
                self._stored_badly(lane, error)
            self._current.pop(lane.channel, None)

    async def _record(self, lane: Lane, d: Delivery) -> None:
        """Write what became of the row; it leaves the lane once that is written."""
        state, error = d.outcome
        if d.where is not None:
            await self.deliveries.remember(d.incident_id, *d.where)
        await self.deliveries.finish(
            d.outbox_id, state, d.attempts, d.first_attempt_at, self._clock(), error
        )
        lane.done(d)
        self._queued.discard(d.outbox_id)
        lane.stored()
        self._restarts.pop(lane.channel, None)
        if self._storage_error is not None:
            self._storage_error = None
            log.info("the sender records deliveries again", extra={"channel": lane.channel})

    def _stored_badly(self, lane: Lane, error: StorageError) -> None:
        self.storage_failures += 1
        wait = lane.store_failed(self._clock())
        self._storage_error = str(error)
        if self._throttle.admit(f"storage {error}", self._clock()):
            log.error(
                "the sender cannot use the database; it will try again",
                extra={
                    "channel": lane.channel,
                    "error": str(error),
                    "retry_in_s": wait,
                    "hint": "a long transaction elsewhere holds the database, or the disk is "
                    "full; alerts wait in the outbox meanwhile",
                },
            )

    async def _deliver(self, lane: Lane, d: Delivery, now: float) -> None:
        """Make the row's Slack call; on success or a refusal for good, settle `d.outcome`."""
        payload = render_payload(json.loads(d.payload))
        outcome = "sent"
        try:
            await self._calls.make(lane, d, payload, now)
            self._auth_refused = None
            d.outcome = ("sent", None)
        except RateLimited as error:
            outcome = "rate_limited"
            wait = error.retry_after if error.retry_after is not None else self._rate_limited_wait
            self.budgets.pause(error.method, self._clock(), wait)
            if self._throttle.admit(f"rate {error.method}", now):
                log.warning(
                    "Slack rate-limits a method; every channel waits for it",
                    extra={"method": error.method, "error": str(error), "retry_in_s": wait},
                )
        except Retry as error:
            if error.unknown and d.attempts >= self._unknown_tries:
                outcome = "failed"
                self._drop(lane, d, f"{error} (an error code not known here)", now)
            else:
                outcome = "retried"
                wait = lane.retry_later(d, now, uncertain=error.uncertain)
                if self._throttle.admit(f"retry {lane.channel}", now):
                    log.warning(
                        "Slack call failed; retrying",
                        extra={
                            "channel": lane.channel,
                            "op": d.op,
                            "error": str(error),
                            "retry_in_s": wait,
                        },
                    )
        except Rejected as error:
            outcome = "failed"
            self._drop(lane, d, str(error), now)
        except ChannelRefused as error:
            outcome = "refused"
            d.attempts = max(0, d.attempts - 1)  # not the message's fault
            if lane.block(now, str(error)):
                log.error(
                    "Slack refuses this channel; its alerts wait until it accepts them",
                    extra={
                        "channel": lane.channel,
                        "error": str(error),
                        "waiting": len(lane.queue),
                        "next_try_in_s": BLOCKED_PROBE,
                        "hint": CHANNEL_HINTS.get(str(error), ""),
                    },
                )
        except AuthRefused as error:
            outcome = "refused"
            d.attempts = max(0, d.attempts - 1)
            first = self._auth_refused != str(error)
            self._auth_refused, self._auth_probe_at = str(error), now + BLOCKED_PROBE
            if first:
                log.error(
                    "Slack refuses the bot token; nothing is sent until it accepts it",
                    extra={
                        "error": str(error),
                        "next_try_in_s": BLOCKED_PROBE,
                        "hint": "check SLACK_BOT_TOKEN and the app's scopes",
                    },
                )
        finally:
            lane.finished(self._clock(), d.op)
        self.counts[(d.op, outcome)] += 1

    def _drop(self, lane: Lane, d: Delivery, error: str, now: float) -> None:
        if self._throttle.admit(f"rejected {error}", now):
            log.error(
                "Slack rejected a message; it is dropped",
                extra={
                    "channel": lane.channel,
                    "op": d.op,
                    "incident": d.incident_id,
                    "error": error,
                },
            )
        d.outcome = ("failed", error)

    async def _notify_idle(self) -> None:
        async with self._idle:
            self._idle.notify_all()
