"""The App Home per person, end to end: what each person sees (their channels' alerts, the stores
they follow), kept current while they look, and only when what they see changes."""

import json
import logging
import time

import pytest

from bot.slack.home_refresh import RECHECK
from tests.fakes.slack import FakeSlack
from tests.slack.conftest import STORES, sale

MERCH = "C-MERCH"
REFRESH = 1.0  # HOME_REFRESH_SECONDS in these tests


@pytest.fixture
async def slack():
    # U1 is in the stores' channel, U2 in merchandising's.
    async with FakeSlack(members={STORES: {"U1"}, MERCH: {"U2"}}) as fake:
        yield fake


def shown(slack, user: str) -> str:
    """The latest view published to `user`, as JSON text ("" before any)."""
    views = slack.views[user]
    return json.dumps(views[-1], ensure_ascii=False) if views else ""


async def follow(slack_side, user: str, *stores: str) -> None:
    """`user` picks the stores to follow in their Home's select."""
    picked = [{"text": {"type": "plain_text", "text": s}, "value": s} for s in stores]
    action = {"action_id": "home_stores", "block_id": "follow", "type": "multi_external_select"}
    status, _ = await slack_side.interact(
        {
            "type": "block_actions",
            "container": {"type": "view", "view_id": f"VH-{user}"},
            "view": {"id": f"VH-{user}", "type": "home"},
            "actions": [{**action, "selected_options": picked}],
        },
        user=user,
    )
    assert status == 200


async def two_people(running, slack):
    """U1 follows Maine Mall, U2 Auburn Mall; merchandising has a low alert on MIRIRA."""
    bot, slack_side, feed = await running(home_refresh_seconds=REFRESH)
    await slack_side.command("/thresholds", "set low=50 gate=1 wait=0", channel=MERCH, user="U2")
    await feed.connections[0].send(sale("ALDO Maine Mall", "MIRIRA", 39))
    await slack.wait_for(lambda s: s.posts(MERCH))
    for user, store in (("U1", "ALDO Maine Mall"), ("U2", "ALDO Auburn Mall")):
        await slack_side.event({"type": "app_home_opened", "user": user, "tab": "home"})
        await follow(slack_side, user, store)
        await slack.wait_for(lambda s, user=user, store=store: store in shown(s, user))
    return bot, slack_side, feed


async def test_two_people_see_their_own_channels_alerts_and_the_stores_they_follow(running, slack):
    await two_people(running, slack)
    mine, theirs = shown(slack, "U1"), shown(slack, "U2")

    assert "*Open alerts in your channels (1)*" in mine
    assert "`#1` BUTAUD at ALDO Centre Eaton: out of stock in <#C-STORES>" in mine
    assert "MIRIRA at ALDO Maine Mall: 39 left" not in mine  # merchandising's, not U1's
    assert "`   3` ADERI at ALDO Maine Mall" in mine
    assert "`  39` MIRIRA at ALDO Maine Mall" in mine
    assert "*Open alerts in your channels (1)*" in theirs
    assert "MIRIRA at ALDO Maine Mall: 39 left in <#C-MERCH>" in theirs
    assert "BUTAUD" not in theirs
    assert "`  60` ADERI at ALDO Auburn Mall" in theirs
    # The same buttons as in the channel, and the rules of their own channels only.
    assert '"action_id": "incident_ack"' in mine
    assert "<#C-STORES>: 1 rules" in mine
    assert "<#C-STORES>" not in theirs


async def test_a_change_someone_sees_republishes_their_view_and_no_one_elses(running, slack):
    bot, slack_side, feed = await two_people(running, slack)
    seen = {user: len(slack.views[user]) for user in ("U1", "U2")}

    started = time.monotonic()
    await slack_side.click("incident_ack", "1", channel=STORES, user="U7")
    await slack.wait_for(lambda s: len(s.views["U1"]) > seen["U1"])
    took = time.monotonic() - started

    assert "acknowledged by <@U7>" in shown(slack, "U1")
    assert took < REFRESH + 2  # within the refresh bound, give or take the commit
    # U2 is not in the stores' channel: only the slow recheck is due (and would publish
    # nothing, the view being the same).
    assert bot.homes.due("U2") > time.time() + RECHECK / 2
    assert len(slack.views["U2"]) == seen["U2"]

    seen = {user: len(slack.views[user]) for user in ("U1", "U2")}
    await feed.connections[0].send(sale("ALDO Auburn Mall", "ADERI", 59))  # U2's store
    await slack.wait_for(lambda s: "`  59` ADERI at ALDO Auburn Mall" in shown(s, "U2"))
    assert bot.homes.due("U1") > time.time() + RECHECK / 2
    assert len(slack.views["U1"]) == seen["U1"]


async def test_a_button_in_the_home_acts_for_someone_in_the_alerts_channel_only(running, slack):
    bot, slack_side, _ = await two_people(running, slack)
    home = {"container": {"type": "view", "view_id": "VH"}, "view": {"id": "VH", "type": "home"}}
    ack = {"action_id": "incident_ack", "block_id": "incident:1", "type": "button", "value": "1"}

    await slack_side.interact({"type": "block_actions", **home, "actions": [ack]}, user="U2")
    await slack_side.interact({"type": "block_actions", **home, "actions": [ack]}, user="U1")
    (alert,) = slack.posts(STORES)
    await slack.wait_for(lambda s: s.thread(alert))

    assert [m.text for m in slack.thread(alert)] == ["Acknowledged by u1."]  # not by U2
    assert (await bot.reads.incident(1)).acked_by == "U1"


async def test_an_app_home_opened_event_without_a_user_is_answered_and_ignored(
    running, slack, caplog
):
    bot, slack_side, _ = await running()
    with caplog.at_level(logging.ERROR):
        status = await slack_side.event({"type": "app_home_opened", "tab": "home"})

    assert status == 200  # answered once the listener returned: it did, without a person
    assert bot.homes.due("") is None
    assert not slack.views
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
