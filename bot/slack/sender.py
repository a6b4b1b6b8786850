"""The sender: delivers committed outbox rows to Slack (or the console), each exactly once.

One task per channel works through that channel's lane (bot.core.delivery) in order. Before a
post or reply goes out, the attempt is recorded; after it, the message's place in Slack. If the
answer was lost (timeout, 5xx, a crash mid-call), the next attempt first looks for the message
by the outbox id in its metadata, so a retry never posts it twice. The sender writes only its
own tables (deliveries, messages), in small transactions of its own.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import aiosqlite

from bot.core.delivery import BLOCKED_PROBE, Delivery, Lane
from bot.core.throttle import LogThrottle
from bot.slack.payload import render_payload
from bot.slack.transport import (
    AuthRefused,
    ChannelRefused,
    Posted,
    RateLimited,
    Rejected,
    Retry,
    Transport,
)
from bot.store.processor import OutboxRow
from bot.store.sqlite import connect as database

log = logging.getLogger(__name__)

STOP_GRACE = 5.0  # seconds a call under way may take to finish at shutdown


class Sender:
    """Start it, hand it committed rows with `enqueue`, stop it. Rows not yet delivered at
    stop stay in the outbox and go out at the next start."""

    def __init__(
        self,
        database_path: Path,
        transport: Transport,
        *,
        min_interval: float = 1.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._path = database_path
        self.transport = transport
        self._min_interval = min_interval
        self._clock = clock
        self._db: aiosqlite.Connection | None = None
        self._lanes: dict[str, Lane] = {}
        self._wake: dict[str, asyncio.Event] = {}
        self._workers: dict[str, asyncio.Task[None]] = {}
        self._busy: set[str] = set()
        self._stopping = False
        self._locations: dict[int, Posted] = {}
        self._auth_refused: str | None = None
        self._auth_probe_at = 0.0
        self._idle = asyncio.Condition()
        self._throttle = LogThrottle(300.0)
        self.counts: Counter[tuple[str, str]] = Counter()  # (op, outcome) -> calls

    async def start(self) -> None:
        """Open the sender's connection and queue every row not yet delivered."""
        self._db = await database.connect(self._path)
        async with self._db.execute(
            "SELECT o.id, o.channel, o.op, o.incident_id, o.payload, d.attempts, "
            "d.first_attempt_at, o.created_at "
            "FROM outbox o LEFT JOIN deliveries d ON d.outbox_id = o.id "
            "WHERE d.state IS NULL OR d.state = 'trying' ORDER BY o.id"
        ) as cursor:
            rows = await cursor.fetchall()
        for outbox_id, channel, op, incident_id, payload, attempts, first, created in rows:
            # A row tried before a restart may have reached Slack: look before sending again.
            self._add(
                channel,
                Delivery(
                    outbox_id,
                    op,
                    incident_id,
                    payload,
                    attempts or 0,
                    first,
                    uncertain=bool(attempts),
                    created_at=created,
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
        """Rows not yet delivered, in all channels (including a call under way)."""
        return sum(len(lane.queue) for lane in self._lanes.values())

    def oldest_pending_at(self) -> float | None:
        """When the oldest row not yet delivered was committed (None if none waits)."""
        heads = [lane.queue[0].created_at for lane in self._lanes.values() if lane.queue]
        return min(heads, default=None)

    def problems(self) -> dict[str, str]:
        """What Slack refuses now: channel -> reason, and "*" for the token."""
        found = {lane.channel: lane.blocked for lane in self._lanes.values() if lane.blocked}
        if self._auth_refused:
            found["*"] = self._auth_refused
        return found

    async def wait_idle(self) -> None:
        """Wait until every queued row is delivered or given up (wrap in a timeout)."""
        async with self._idle:
            await self._idle.wait_for(lambda: self.pending() == 0)

    async def stop(self) -> None:
        """Let calls under way finish (a few seconds at most), then stop."""
        self._stopping = True
        workers = list(self._workers.values())
        for channel, task in self._workers.items():
            if channel not in self._busy:
                task.cancel()  # waiting: nothing under way to lose
        if workers:
            _, late = await asyncio.wait(workers, timeout=STOP_GRACE)
            for task in late:
                task.cancel()
            await asyncio.gather(*workers, return_exceptions=True)
        self._workers.clear()
        if self._db is not None:
            await self._db.close()
            self._db = None

    # -- inside -----------------------------------------------------------------------------

    def _add(self, channel: str, delivery: Delivery) -> None:
        lane = self._lanes.get(channel)
        if lane is None:
            lane = self._lanes[channel] = Lane(channel, min_interval=self._min_interval)
            self._wake[channel] = asyncio.Event()
        lane.add(delivery)
        self._wake[channel].set()
        if channel not in self._workers:
            self._workers[channel] = asyncio.create_task(self._work(lane), name=f"send {channel}")

    async def _work(self, lane: Lane) -> None:
        wake = self._wake[lane.channel]
        while not self._stopping:
            now = self._clock()
            for dropped in lane.superseded():
                await self._finish(dropped, "superseded", None, now)
            step = lane.next(now)
            if step is None or isinstance(step, float):
                await self._notify_idle()
                wake.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(wake.wait(), step)
                continue
            if self._auth_refused and now < self._auth_probe_at:
                await asyncio.sleep(self._auth_probe_at - now)
                continue
            self._busy.add(lane.channel)
            try:
                await self._deliver(lane, step, now)
            finally:
                self._busy.discard(lane.channel)
                lane.finished(self._clock(), step.op)

    async def _deliver(self, lane: Lane, d: Delivery, now: float) -> None:
        payload = render_payload(json.loads(d.payload))
        lane.started(now)
        outcome = "sent"
        try:
            await self._send(lane.channel, d, payload, now)
            self._auth_refused = None
            await self._finish(lane.done(), "sent", None, now)
        except RateLimited as error:
            outcome = "rate_limited"
            lane.rate_limited(now, error.retry_after)
        except Retry as error:
            outcome = "retried"
            wait = lane.retry_later(now, uncertain=error.uncertain)
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
            if self._throttle.admit(f"rejected {error}", now):
                log.error(
                    "Slack rejected a message; it is dropped",
                    extra={
                        "channel": lane.channel,
                        "op": d.op,
                        "incident": d.incident_id,
                        "error": str(error),
                    },
                )
            await self._finish(lane.done(), "failed", str(error), now)
        except ChannelRefused as error:
            outcome = "refused"
            lane.queue[0].attempts -= 1  # not the message's fault
            if lane.block(now, str(error)):
                log.error(
                    "Slack refuses this channel; its alerts wait until it accepts them",
                    extra={
                        "channel": lane.channel,
                        "error": str(error),
                        "waiting": len(lane.queue),
                        "next_try_in_s": BLOCKED_PROBE,
                        "hint": _CHANNEL_HINTS.get(str(error), ""),
                    },
                )
        except AuthRefused as error:
            outcome = "refused"
            lane.queue[0].attempts -= 1
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
        self.counts[(d.op, outcome)] += 1

    async def _send(self, channel: str, d: Delivery, payload: dict, now: float) -> None:
        """Make the delivery's call; raises what the transport raises."""
        if d.op == "post":
            posted = await self._post_once(channel, d, payload, None, now)
            await self._remember(d.incident_id, posted)
            return
        where = await self._location(d.incident_id)
        if where is None:
            raise Rejected("its message was never posted")
        if d.op == "reply":
            await self._post_once(where.channel_id, d, payload, where.ts, now)
            return
        try:
            await self.transport.update(where.channel_id, where.ts, payload)
        except Rejected as error:
            if str(error) != "message_not_found":
                raise
            # Someone deleted the message: post the incident afresh.
            posted = await self._post_once(channel, d, payload, None, now)
            await self._remember(d.incident_id, posted)

    async def _post_once(
        self, channel: str, d: Delivery, payload: dict, thread_ts: str | None, now: float
    ) -> Posted:
        """Post (or reply) unless an earlier attempt already did."""
        if d.uncertain:
            try:
                found = await self.transport.find(
                    channel, d.outbox_id, since=d.first_attempt_at or now, thread_ts=thread_ts
                )
            except (Rejected, ChannelRefused, AuthRefused) as error:
                found = None
                if self._throttle.admit(f"find {error}", now):
                    log.warning(
                        "cannot look for an earlier attempt; sending again may show it twice",
                        extra={
                            "channel": channel,
                            "error": str(error),
                            "hint": "give the app channels:history and groups:history, and "
                            "use channel IDs, not names",
                        },
                    )
            if found is not None:
                log.info(
                    "found the message an earlier attempt posted",
                    extra={"channel": channel, "outbox_id": d.outbox_id},
                )
                return found
        if d.first_attempt_at is None:
            d.first_attempt_at = now
        await self._write(
            "INSERT INTO deliveries (outbox_id, state, attempts, first_attempt_at) "
            "VALUES (?, 'trying', ?, ?) ON CONFLICT (outbox_id) DO UPDATE SET "
            "attempts = excluded.attempts",
            (d.outbox_id, d.attempts, d.first_attempt_at),
        )
        if thread_ts is None:
            return await self.transport.post(channel, payload, d.outbox_id)
        return await self.transport.reply(channel, thread_ts, payload, d.outbox_id)

    async def _remember(self, incident_id: int, posted: Posted) -> None:
        self._locations[incident_id] = posted
        await self._write(
            "INSERT OR REPLACE INTO messages (incident_id, channel_id, ts) VALUES (?, ?, ?)",
            (incident_id, posted.channel_id, posted.ts),
        )

    async def _location(self, incident_id: int) -> Posted | None:
        found = self._locations.get(incident_id)
        if found is None and self._db is not None:
            async with self._db.execute(
                "SELECT channel_id, ts FROM messages WHERE incident_id = ?", (incident_id,)
            ) as cursor:
                row = await cursor.fetchone()
            if row is not None:
                found = self._locations[incident_id] = Posted(*row)
        return found

    async def _finish(self, d: Delivery, state: str, error: str | None, now: float) -> None:
        await self._write(
            "INSERT INTO deliveries (outbox_id, state, attempts, first_attempt_at, done_at, "
            "error) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (outbox_id) DO UPDATE SET "
            "state = excluded.state, attempts = excluded.attempts, done_at = excluded.done_at, "
            "error = excluded.error",
            (d.outbox_id, state, d.attempts, d.first_attempt_at, now, error),
        )

    async def _write(self, sql: str, args: tuple) -> None:
        # One statement in autocommit mode: SQLite holds the write lock only while it runs. An
        # explicit BEGIN ... COMMIT held it across two turns of the event loop, which a busy
        # feed makes milliseconds long, and the writer's next batch waited on it.
        assert self._db is not None
        await self._db.execute(sql, args)

    async def _notify_idle(self) -> None:
        async with self._idle:
            self._idle.notify_all()


_CHANNEL_HINTS = {
    "not_in_channel": "invite the bot to the channel (/invite @the bot)",
    "channel_not_found": "check the channel ID (ALERT_CHANNEL, OPS_CHANNEL or /thresholds)",
    "is_archived": "unarchive the channel or move its rules",
    "channel_is_archived": "unarchive the channel or move its rules",
}
