"""The Slack calls that deliver one outbox row, each paced by its method's budget.

A post or reply whose earlier attempt may have reached Slack is looked for first (by the
outbox id in the message's metadata) and posted only if it is not there; if Slack will not let
the bot look, the row waits (ChannelRefused) rather than risk showing the alert twice. An edit
of a message someone deleted posts the incident afresh. Blocks Slack refuses on their own are
sent again as the text alone. The transport's errors (bot/slack/transport.py) go up to the
sender, which decides what the row does next.
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from collections.abc import Awaitable, Callable

from bot.core.delivery import Budgets, Delivery, Lane
from bot.slack.errors import BLOCKS_REFUSED
from bot.slack.transport import (
    AuthRefused,
    ChannelRefused,
    Posted,
    Rejected,
    SlackTransport,
    Transport,
)
from bot.store.deliveries import Deliveries

log = logging.getLogger(__name__)


class SlackCalls:
    """Makes the calls of a delivery; see the module docstring."""

    def __init__(
        self,
        transport: Transport,
        deliveries: Deliveries,
        budgets: Budgets,
        clock: Callable[[], float],
        leading: Callable[[], Awaitable[None]] | None = None,
    ) -> None:
        self.transport = transport
        self._leading = leading
        self.deliveries = deliveries
        self.budgets = budgets
        self._clock = clock
        if isinstance(transport, SlackTransport):
            transport.pace = self.pace  # look-ups and joins spend the same budgets
        self._locations: dict[int, Posted] = {}
        self.made: Counter[str] = Counter()  # Slack method -> calls made

    async def make(self, lane: Lane, d: Delivery, payload: dict, now: float) -> None:
        """The row's calls, done; `d.where` says where a post put its message."""
        if d.op == "update":
            where = await self._location(d.incident_id)
            try:
                lane.started(d, now)
                await self._plain_if_refused(
                    lambda p: self.transport.update(where.channel_id, where.ts, p), payload
                )
            except Rejected as error:
                if str(error) != "message_not_found":
                    raise
                # Someone deleted the message: post the incident afresh.
                d.where = await self._post_once(lane, lane.channel, d, payload, None, now)
        elif d.op == "reply":
            where = await self._location(d.incident_id)
            await self._post_once(lane, where.channel_id, d, payload, where.ts, now)
        else:
            d.where = await self._post_once(lane, lane.channel, d, payload, None, now)
        if d.where is not None:
            self._locations[d.incident_id] = Posted(*d.where)

    async def pace(self, method: str) -> None:
        """Wait until the method's budget allows a call, then spend it: every Slack call the
        transport makes comes through here, whatever its channel. Nothing is called while the
        process is not sure it leads (a leader that just woke from a freeze, whose lead is
        being confirmed, or was lost: then the leader stops the sender)."""
        while True:
            # The lead is checked again after every wait for the budget, which may outlast the
            # lead's lease: from the check to the spend nothing else runs.
            if self._leading is not None:
                await self._leading()
            now = self._clock()
            wait = self.budgets.wait(method, now)
            if wait <= 0:
                break
            await asyncio.sleep(wait)  # the budget frees up at a known time: nothing to wake on
        self.budgets.spend(method, now)
        self.made[method] += 1

    async def _post_once(
        self,
        lane: Lane,
        channel: str,
        d: Delivery,
        payload: dict,
        thread_ts: str | None,
        now: float,
    ) -> tuple[str, str]:
        """Post (or reply) unless an earlier attempt already did; where the message is."""
        looked = d.uncertain
        if looked:
            lane.started(d, now)  # an attempt, even if it finds the message and posts nothing
            try:
                found = await self.transport.find(
                    channel, d.outbox_id, since=d.first_attempt_at or now, thread_ts=thread_ts
                )
            except (Rejected, ChannelRefused, AuthRefused) as error:
                # Posting without looking could show the alert twice: the row waits, and the
                # channel is reported, until Slack lets the bot look.
                raise ChannelRefused(str(error)) from None
            if found is not None:
                log.info(
                    "found the message an earlier attempt posted",
                    extra={"channel": channel, "outbox_id": d.outbox_id},
                )
                return found.channel_id, found.ts
        if d.first_attempt_at is None:
            d.first_attempt_at = now
        await self.deliveries.trying(d.outbox_id, d.attempts + (not looked), d.first_attempt_at)
        if not looked:
            lane.started(d, now)
        if thread_ts is None:
            posted = await self._plain_if_refused(
                lambda p: self.transport.post(channel, p, d.outbox_id), payload
            )
        else:
            posted = await self._plain_if_refused(
                lambda p: self.transport.reply(channel, thread_ts, p, d.outbox_id), payload
            )
        return posted.channel_id, posted.ts

    async def _plain_if_refused(self, call: Callable[[dict], Awaitable], payload: dict):
        """Make the call; if Slack refuses only its blocks, make it again with the text alone,
        so the alert still reaches people (Slack said no, so nothing was posted twice)."""
        try:
            return await call(payload)
        except Rejected as error:
            if str(error) not in BLOCKS_REFUSED or not payload.get("blocks"):
                raise
            log.error(
                "Slack refused a message's blocks; sending its text alone",
                extra={"error": str(error)},
            )
            return await call({**payload, "blocks": []})

    async def _location(self, incident_id: int) -> Posted:
        """Where the incident's message is; Rejected if it was never posted."""
        found = self._locations.get(incident_id)
        if found is None:
            row = await self.deliveries.location(incident_id)
            if row is None:
                raise Rejected("its message was never posted")
            found = self._locations[incident_id] = Posted(*row)
        return found
