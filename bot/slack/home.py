"""The App Home, per person: the open alerts of the channels they are in (the only alerts they may
see), with the same buttons as in the channel; the lowest stock of the stores they follow
(picked in the view, saved per person); the transfers that would help there; and the rules of
their channels, each with a button that opens its rules form.

Times are Slack dates, not "4 min ago", and the view carries a digest of what it shows (the
"Updated" line aside): the same data draws the same view, so a view is published again only
when what it shows changed (bot/slack/home_refresh.py)."""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ContextBlock,
    DividerBlock,
    ExternalDataMultiSelectElement,
    HeaderBlock,
    MarkdownTextObject,
    SectionBlock,
)
from slack_sdk.models.views import View

from bot.commands.replies import section_blocks
from bot.commands.thresholds import OPEN_FORM
from bot.core.alerting.incidents import Incident
from bot.core.rules import MAX_FOLLOWED
from bot.core.velocity import describe_pace
from bot.mrkdwn import date, escape, icon
from bot.slack.render import incident_buttons
from bot.slack.rules_modal import option
from bot.store.reads import Reads
from bot.store.rows import more

FOLLOW = "home_stores"  # the select of the stores a person follows
WITH_BUTTONS = 10  # alerts shown with their buttons; the rest as lines
LISTED = 15
TRANSFERS_LISTED = 5
CHANNELS_LISTED = 10


class Channels(Protocol):
    """Which channels a person is in (bot/slack/directory.py Memberships)."""

    async def channels(self, user: str) -> frozenset[str]: ...


@dataclass(frozen=True)
class Drawn:
    """A person's home view, with what it depends on."""

    view: dict
    digest: str  # of what it shows, not of when it was drawn
    channels: frozenset[str] | None  # the channels whose alerts it shows (None: all)
    stores: tuple[str, ...]  # the stores it follows


class Home:
    """Draws a person's home view; `members` says which channels they are in (None: every
    channel, where no Slack can be asked)."""

    def __init__(
        self,
        reads: Reads,
        clock: Callable[[], float] = time.time,
        members: Channels | None = None,
    ) -> None:
        self._reads = reads
        self._clock = clock
        self._members = members

    async def view(self, user: str = "") -> dict:
        """The view as Slack's views.publish takes it."""
        return (await self.draw(user)).view

    async def draw(self, user: str) -> Drawn:
        channels = await self._members.channels(user) if self._members is not None else None
        stores = tuple(await self._reads.home_stores(user)) if user else ()
        incidents = [
            i
            for i in await self._reads.open_incidents()
            if channels is None or i.channel in channels
        ]
        blocks: list[Block | dict] = [HeaderBlock(text="Inventory")]
        blocks += self._alerts(incidents)
        blocks.append(DividerBlock())
        blocks += await self._stores(stores)
        blocks.append(DividerBlock())
        blocks += await self._transfers(stores)
        blocks.append(DividerBlock())
        blocks += await self._rules(channels)
        shown = [b if isinstance(b, dict) else b.to_dict() for b in blocks]
        digest = hashlib.sha256(json.dumps(shown, sort_keys=True).encode()).hexdigest()
        footer = ContextBlock(
            elements=[
                MarkdownTextObject(
                    text=f"Updated {date(self._clock(), fallback='just now')} · `/stock`, "
                    "`/alerts`, `/thresholds`, `/transfers` in any channel"
                )
            ]
        )
        view = View(type="home", blocks=[*shown, footer.to_dict()][:100]).to_dict()
        return Drawn(view, digest, channels, stores)

    def _alerts(self, incidents: list[Incident]) -> list[Block | dict]:
        title = f"*Open alerts in your channels ({len(incidents)})*"
        if not incidents:
            return [*section_blocks(title, ["None."])]
        blocks: list[Block | dict] = [*section_blocks(title, [])]
        for i in incidents[:WITH_BUTTONS]:
            blocks.append(SectionBlock(text=MarkdownTextObject(text=_alert_line(i))))
            blocks.append(incident_buttons(i))  # the buttons of the alert's own message
        rest = [_alert_line(i) for i in incidents[WITH_BUTTONS:LISTED]]
        if len(incidents) > LISTED:
            rest.append(f"… and {len(incidents) - LISTED} more: `/alerts` in each channel.")
        if rest:
            blocks += section_blocks("", rest)
        return blocks

    async def _stores(self, stores: tuple[str, ...]) -> list[Block]:
        picker = ExternalDataMultiSelectElement(
            action_id=FOLLOW,
            placeholder="Stores to follow",
            min_query_length=0,
            max_selected_items=MAX_FOLLOWED,
            initial_options=[option(s, s) for s in stores] or None,
        )
        blocks: list[Block] = [
            SectionBlock(text=MarkdownTextObject(text="*Lowest stock at the stores you follow*")),
            ActionsBlock(block_id="follow", elements=[picker]),
        ]
        if not stores:
            return blocks + section_blocks("", ["Pick stores above to follow their stock."])
        now = self._clock()
        lines = [
            f"`{r.inventory:>4}` {escape(r.model)} at {escape(r.store)} · "
            f"{describe_pace(r.inventory, r.rate(now).risk)} · last sale "
            f"{date(r.last_sale_at, '{time}')}"
            for r in await self._reads.lowest_levels(stores=stores, limit=LISTED)
        ]
        return blocks + section_blocks("", lines or ["No sales seen at those stores yet."])

    async def _transfers(self, stores: tuple[str, ...]) -> list[Block]:
        suggested, total = await self._reads.suggestions(
            stores=stores or None, limit=TRANSFERS_LISTED
        )
        lines = [f"`S{s.id}` {escape(s.suggestion.why)}" for s in suggested]
        if total > len(suggested):
            lines.append(f"… and {more(total, len(suggested))} more: `/transfers`.")
        where = " to or from your stores" if stores else ""
        return section_blocks(
            f"*Transfers that would help{where}*",
            lines or ["None: no store is short where another has plenty."],
        )

    async def _rules(self, channels: frozenset[str] | None) -> list[Block]:
        configured = [
            c for c in await self._reads.channels() if channels is None or c.id in channels
        ]
        blocks: list[Block] = [*section_blocks("*Alert rules of your channels*", [])]
        for channel in configured[:CHANNELS_LISTED]:
            count = len(channel.rules)
            blocks.append(
                SectionBlock(
                    text=MarkdownTextObject(text=f"<#{channel.id}>: {count} rules"),
                    accessory=ButtonElement(
                        text="Change rules", action_id=OPEN_FORM, value=channel.id
                    ),
                )
            )
        if not configured:
            blocks += section_blocks("", ["None of your channels has rules yet."])
        return blocks


def _alert_line(i: Incident) -> str:
    name = " at ".join(n for n in (i.model, i.store) if n) or i.kind.value
    state = "out of stock" if i.level == 0 and i.severity else f"{i.level} left"
    if i.level is None:
        state = i.kind.value.replace("_", " ")
    acked = f" · acknowledged by <@{i.acked_by}>" if i.acked_by else ""
    return (
        f"{icon(i.severity)} `#{i.id}` {escape(name)}: {state} in <#{i.channel}> "
        f"since {date(i.fired_at, '{time}')}{acked}"
    )
