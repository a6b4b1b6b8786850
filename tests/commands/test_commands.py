"""Each command as a person uses it, with no Slack: what the reply says, what it changed, and
that a refusal changes nothing."""

from __future__ import annotations

import logging

import pytest

from bot.commands import alerts
from bot.commands.dispatch import FAILED
from bot.core.errors import Unsure
from bot.store.postgres import handover
from bot.store.postgres.handover import NoLeader
from tests.commands.conftest import C


async def test_stock_lists_the_lowest_first_with_what_is_alerting(shop):
    await shop.sell(("Maine", "ADERI", 0), ("Maine", "MIRIRA", 40), ("Auburn", "ADERI", 60))

    reply = await shop.say("stock", "maine")

    assert not reply.error
    assert reply.text.splitlines()[:3] == [
        "*Stock at Maine*",
        "`    0` ADERI · pace not known yet · last sale just now · :red_circle: out of stock `#1`",
        "`   40` MIRIRA · pace not known yet · last sale just now",
    ]


async def test_an_unknown_name_is_refused_with_the_closest(shop):
    await shop.sell(("Maine Mall", "ADERI", 30))
    reply = await shop.say("stock", "adery")
    assert reply.text.startswith("*Stock of ADERI*")
    refused = await shop.say("stock", "qqqq")
    assert (refused.error, refused.text) == (
        True,
        ":warning: I know no store or model called `qqqq`.",
    )


async def test_a_rule_change_is_saved_announced_and_audited(shop):
    await shop.sell(("Maine", "ADERI", 30))

    reply = await shop.say("thresholds", "set low=5 store=maine", user="U7")

    assert reply.text == ":white_check_mark: Saved: low &lt;= 5, high &gt;= 80 at Maine."
    assert reply.announce == (
        ":gear: <@U7> changed this channel's alert rules: low &lt;= 5, high &gt;= 80 at Maine."
    )
    assert await shop.rows("SELECT store, low, high, updated_by FROM rules WHERE store != ''") == [
        ("Maine", 5, 80, "U7")
    ]
    assert (await shop.rows("SELECT {user}, action FROM config_changes"))[-1] == ("U7", "set_rule")


async def test_only_an_admin_changes_rules_and_a_refusal_changes_nothing(guarded_shop):
    shop = guarded_shop
    before = await shop.rows("SELECT * FROM rules")

    refused = await shop.say("thresholds", "set low=3", user="U2")

    assert refused.error
    assert (
        refused.text
        == ":warning: Only <@UBOSS> can change this channel's rules. Nothing was changed."
    )
    assert await shop.rows("SELECT * FROM rules") == before
    saved = await shop.say("thresholds", "set low=3", user="UBOSS")
    assert not saved.error
    assert await shop.rows("SELECT low FROM rules WHERE store = '' AND model = ''") == [(3,)]


async def test_an_alert_is_acted_on_only_in_its_own_channel(shop):
    await shop.sell(("Maine", "ADERI", 0))  # alert #1, in C

    elsewhere = await shop.say("alerts", "ack 1", channel="C-OTHER")
    assert elsewhere.text == ":warning: There is no alert #1 in this channel."
    assert await shop.rows("SELECT acked_by FROM incidents WHERE id = 1") == [(None,)]

    done = await shop.say("alerts", "ack 1", user="U3")
    assert done.text == ":white_check_mark: Done: acknowledged #1. Its message shows it."
    assert await shop.rows("SELECT acked_by FROM incidents WHERE id = 1") == [("U3",)]
    again = await shop.say("alerts", "ack #1", user="U4")
    assert again.text == ":warning: #1 was already acknowledged by <@U3>."


async def test_a_button_goes_through_the_same_checks_as_the_command(shop):
    await shop.sell(("Maine", "ADERI", 0))
    context = shop.commands.context

    wrong = await shop.commands.run(
        "alerts", lambda: alerts.act(context, "C-OTHER", "U1", "mute", 1)
    )
    right = await shop.commands.run(
        "alerts", lambda: alerts.act(context, C, "U1", "snooze", 1, 4 * 3600.0)
    )

    assert wrong.error
    assert "no alert #1 in this channel" in wrong.text
    assert right.text == ":white_check_mark: Done: snoozed #1 for 4 h. Its message shows it."
    assert await shop.rows("SELECT muted_by, snoozed_by FROM incidents WHERE id = 1") == [
        (None, "U1")
    ]


async def test_a_broken_command_is_logged_and_said_to_be_on_the_bot(shop, monkeypatch, caplog):
    async def broken(*_args):
        raise RuntimeError("a bug")

    monkeypatch.setitem(
        __import__("bot.commands.dispatch").commands.dispatch.HANDLERS, "stock", broken
    )
    with caplog.at_level(logging.ERROR):
        reply = await shop.say("stock", "maine")

    assert (reply.error, reply.text) == (True, f":warning: {FAILED}")
    assert [r.getMessage() for r in caplog.records] == ["command failed"]


@pytest.mark.parametrize(
    ("error", "says"),
    [
        (NoLeader(handover._WITHDRAWN), "No bot is leading right now"),
        (Unsure(handover._UNSURE), "I cannot tell whether it was made"),
    ],
)
async def test_a_change_no_leader_answered_says_whether_it_was_made(shop, error, says):
    # A standby hands changes to the leading process: none may lead now (NoLeader: the
    # request was withdrawn, nothing changed), or the leader may have taken it and gone
    # silent (Unsure). Either way the person is told which, not "something went wrong".
    async def unanswered(_action):
        raise error

    shop.commands.context.apply = unanswered
    reply = await shop.say("thresholds", "set low=7")

    assert reply.error
    assert says in reply.text
    assert FAILED not in reply.text


@pytest.mark.parametrize(
    ("command", "text", "says"),
    [
        ("stock", "<@U1>", "Mentions and links are not store or model names."),
        ("thresholds", "set low=-1", "`low` must be a whole number"),
        ("thresholds", "set low=50 high=10", "High (10) must be above low (50)."),
        ("alerts", "snooze 1 10s", "A snooze lasts a minute at least."),
        ("transfers", "accept S9", "Suggestion S9 is no longer current"),
        ("nonsense", "", "I don't know the command `nonsense`."),
    ],
)
async def test_bad_requests_get_a_reason_and_change_nothing(shop, command, text, says):
    await shop.sell(("Maine", "ADERI", 0))
    tables = "SELECT (SELECT count(*) FROM rules), (SELECT count(*) FROM config_changes), "
    state = tables + "(SELECT count(*) FROM transfers), (SELECT snoozed_by FROM incidents)"
    before = await shop.rows(state)

    reply = await shop.say(command, text)

    assert reply.error
    assert says in reply.text
    assert await shop.rows(state) == before


async def test_muting_is_for_admins_may_end_and_is_listed_with_the_rules(guarded_shop):
    shop = guarded_shop
    await shop.sell(("Maine", "ADERI", 0))

    refused = await shop.say("alerts", "mute 1", user="U2")
    assert refused.text.startswith(":warning: Only <@UBOSS> can change this channel's rules.")
    assert await shop.rows("SELECT count(*) FROM mutes") == [(0,)]

    done = await shop.say("alerts", "mute 1 4h", user="UBOSS")
    assert done.text == (
        ":white_check_mark: Done: muted what #1 is about, in this channel, for 4 h. "
        "Its message shows it."
    )
    (until,) = (await shop.rows("SELECT muted_until FROM mutes"))[0]
    assert until == shop.now + 4 * 3600
    rules = await shop.say("thresholds", "")
    assert "*Muted here*" in rules.text
    assert "• low alerts of ADERI at Maine · by <@UBOSS> just now · until <!date^" in rules.text
    refused = await shop.say("alerts", "unmute 1", user="U2")
    assert refused.error


# PostgreSQL only: a SQLite file's readers have no server to lose (WAL: no lock to wait on).
@pytest.mark.parametrize("database", ["postgres"], indirect=True)
async def test_a_database_that_cannot_answer_is_said_so_then_answers_again(shop, database):
    await shop.sell(("Maine", "ADERI", 4))
    await database.cut_off("inventory-bot reads")  # the server drops the readers' pool
    try:
        reply = await shop.say("stock", "maine")
    finally:
        await database.allow_writes(shop.store)

    assert reply.error
    assert reply.text == ":warning: I cannot reach the database just now. Try again in a minute."
    again = await shop.say("stock", "maine")
    assert "ADERI" in again.text
