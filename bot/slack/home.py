"""The App Home: open alerts, the lowest stock and the worst shortages a transfer would help,
drawn fresh each time someone opens it."""

from __future__ import annotations

import time
from collections.abc import Callable

from slack_sdk.models.blocks import ContextBlock, DividerBlock, HeaderBlock, MarkdownTextObject
from slack_sdk.models.views import View

from bot.commands.replies import ago, section_blocks
from bot.core.velocity import describe_pace
from bot.mrkdwn import date, escape, icon
from bot.store.reads import Reads
from bot.store.rows import more

LISTED = 15
TRANSFERS_LISTED = 5


class Home:
    def __init__(self, reads: Reads, clock: Callable[[], float] = time.time) -> None:
        self._reads = reads
        self._clock = clock

    async def view(self) -> dict:
        """The home tab as it stands now, as Slack's views.publish takes it."""
        now = self._clock()
        incidents = await self._reads.open_incidents()
        lowest = await self._reads.lowest_levels(limit=LISTED)
        alert_lines = []
        for i in incidents[:LISTED]:
            name = " at ".join(n for n in (i.model, i.store) if n) or i.kind.value
            state = "out of stock" if i.level == 0 and i.severity else f"{i.level} left"
            if i.level is None:
                state = i.kind.value.replace("_", " ")
            where = f"<#{i.channel}> · {ago(i.fired_at, now)}"
            alert_lines.append(f"{icon(i.severity)} `#{i.id}` {escape(name)}: {state} in {where}")
        if len(incidents) > LISTED:
            alert_lines.append(f"… and {len(incidents) - LISTED} more: `/alerts` in each channel.")
        stock_lines = [
            f"`{r.inventory:>4}` {escape(r.model)} at {escape(r.store)} · "
            f"{describe_pace(r.inventory, r.rate(now).risk)} · {ago(r.last_sale_at, now)}"
            for r in lowest
        ]
        suggested, total = await self._reads.suggestions(limit=TRANSFERS_LISTED)
        transfer_lines = [f"`S{s.id}` {escape(s.suggestion.why)}" for s in suggested]
        if total > len(suggested):
            transfer_lines.append(f"… and {more(total, len(suggested))} more: `/transfers`.")
        # Sections within Slack's limits whatever the names (escaped, a name of & is 5 times
        # as long as it looks).
        blocks = [
            HeaderBlock(text="Inventory"),
            *section_blocks(f"*Open alerts ({len(incidents)})*", alert_lines or ["None."]),
            DividerBlock(),
            *section_blocks("*Lowest stock*", stock_lines or ["Nothing is low."]),
            DividerBlock(),
            *section_blocks(
                "*Transfers that would help*",
                transfer_lines or ["None: no store is short where another has plenty."],
            ),
            ContextBlock(
                elements=[
                    MarkdownTextObject(
                        text=f"Updated {date(now, fallback='just now')} · `/stock`, `/alerts`, "
                        "`/thresholds`, `/transfers` in any channel"
                    )
                ]
            ),
        ]
        return View(type="home", blocks=blocks).to_dict()
