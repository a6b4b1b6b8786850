"""Rules in days of cover and rules with owners, typed, through the real writer and engine over a
database: what is saved, what alerts, and what is refused (nothing changed)."""

from __future__ import annotations

import json

import pytest

from bot.commands.people import Owner

DAY = 86_400.0


class Directory:
    """The workspace's people and groups, as the Slack side would find them."""

    owners = (Owner("S0BUYERS", "buyers", "Buyers"), Owner("U0ANA", "ana", "Ana Lopes"))

    async def find(self, text: str) -> Owner | None:
        text = text.removeprefix("@").lower()
        return next((o for o in self.owners if text in (o.id.lower(), o.handle)), None)

    async def search(self, text: str, *, limit: int) -> list[Owner]:
        return [o for o in self.owners if o.handle.startswith(text)][:limit]

    def known(self, owner_id: str) -> Owner | None:
        return next((o for o in self.owners if o.id == owner_id), None)


async def test_a_rule_in_days_of_cover_alerts_through_the_writer(shop):
    saved = await shop.say("thresholds", "set low=2d gate=1 wait=0")
    assert saved.text == (
        ":white_check_mark: Saved: low &lt;= 2 days of cover (10 pairs until a pace is known), "
        "high &gt;= 80 (channel default) (was: low &lt;= 10, high &gt;= 80 (channel default))."
    )
    await shop.sell(("Auburn", "MIRIRA", 9))  # never seen selling: the 10 pairs stand in
    level = 45
    while level > 16:  # ten a day at Maine, down to 16: 1.6 days of cover at the end
        shop.now += DAY / 10 - 5
        level -= 1
        await shop.sell(("Maine", "ADERI", level))

    rows = await shop.rows(
        "SELECT store, threshold, detail FROM incidents WHERE resolved_at IS NULL"
    )
    found = {
        store: (threshold, json.loads(detail).get("cover_days"), json.loads(detail).get("per_hour"))
        for store, threshold, detail in rows
    }
    assert found["Auburn"] == (10, 2.0, None)
    threshold, days, pace = found["Maine"]
    assert (days, 19 <= threshold <= 21) == (2.0, True)
    assert pace * 24 == pytest.approx(10, rel=0.1)


async def test_owners_are_named_by_handle_and_saved_by_id(shop):
    shop.commands.context.people = Directory()

    saved = await shop.say("thresholds", "set owner=@buyers second=@ana escalate=30m")
    rows = await shop.rows("SELECT owner, second_owner, escalate_seconds FROM rules")

    assert rows == [("S0BUYERS", "U0ANA", 1800.0)]
    assert saved.announce == (
        ":gear: <@U1> changed this channel's alert rules: low &lt;= 10, high &gt;= 80 "
        "(channel default); owner <!subteam^S0BUYERS>, called again with <@U0ANA> after 30 min "
        "unacknowledged (was: low &lt;= 10, high &gt;= 80 (channel default))."
    )
    shown = await shop.say("thresholds", "show")
    assert "owner <!subteam^S0BUYERS>, called again with <@U0ANA> after 30 min" in shown.text


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("set owner=@nobody", "I know no person or user group called `@nobody`."),
        ("set owner=<!here>", "Mentions and links are not store or model names."),
        ("set second=@ana", "A second owner is called when an alert escalates: set escalate="),
        ("set escalate=30m", "Escalate= calls the owner again: set owner= too."),
        ("set owner=@buyers escalate=30s", "`escalate` is a minute at least, not `30s`."),
        ("set low=2x", "`low` is a number of pairs (5), of days of cover (2d), or off"),
        ("set low=400d", "`low` in days of cover is from 0.05d to 365d, not `400d`."),
        ("set low=5d high=3d", "High (3 days) must be above low (5 days)."),
    ],
)
async def test_impossible_owners_and_cover_are_refused_and_change_nothing(shop, text, says):
    shop.commands.context.people = Directory()
    before = await shop.rows("SELECT * FROM rules")

    reply = await shop.say("thresholds", text)

    assert reply.error
    assert says in reply.text
    assert await shop.rows("SELECT * FROM rules") == before


async def test_without_slack_owners_are_named_by_their_id(shop):
    refused = await shop.say("thresholds", "set owner=@buyers")
    saved = await shop.say("thresholds", "set owner=S0BUYERS")

    assert refused.text.startswith(":warning: Name an owner by their Slack ID (U0123ABCD")
    assert saved.text.startswith(":white_check_mark: Saved:")
    assert await shop.rows("SELECT owner FROM rules") == [("S0BUYERS",)]
