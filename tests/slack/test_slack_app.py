"""The Slack app end to end, with no network: signed slash commands and button clicks sent to
the bot's /slack/events (and once over Socket Mode), answers read where Slack would get them."""

import json
import sqlite3
import time

from bot.runtime import Bot
from tests.fakes.slack import Driver
from tests.helpers import ScriptedFeed
from tests.slack.conftest import SEED, STORES, db_state, sale


async def test_stock_answers_privately_in_the_acknowledgement_with_a_share_button(running):
    _, slack_side, _ = await running()
    started = time.perf_counter()
    status, body, _ = await slack_side.command("/stock", "maine")
    took = time.perf_counter() - started

    assert status == 200
    assert took < 3
    assert body["response_type"] == "ephemeral"
    assert body["text"].splitlines()[:4] == [
        "*Stock at ALDO Maine Mall*",
        "`    3` ADERI · pace not known yet · last sale just now",
        "`   12` CAELAN · pace not known yet · last sale just now",
        "`   40` MIRIRA · pace not known yet · last sale just now",
    ]
    share = next(b for b in body["blocks"] if b.get("block_id") == "share")
    assert json.loads(share["elements"][0]["value"]) == {"command": "stock", "text": "maine"}


async def test_stock_of_a_model_marks_what_is_alerting(running):
    _, slack_side, _ = await running()
    _, body, _ = await slack_side.command("/stock", "BUTAUD")
    assert (
        body["text"]
        .splitlines()[1]
        .startswith(
            "`    0` ALDO Centre Eaton · pace not known yet · last sale just now · "
            ":red_circle: out of stock `#1`"
        )
    )


async def test_an_unknown_or_ambiguous_name_gets_the_closest_choices(running):
    _, slack_side, _ = await running()
    _, unknown, _ = await slack_side.command("/stock", "adery")
    _, ambiguous, _ = await slack_side.command("/stock", "mall")
    _, nothing, _ = await slack_side.command("/stock", "qqqqqq")

    assert unknown["text"].startswith("*Stock of ADERI*")  # close spelling finds it
    assert ambiguous["text"] == (
        ":warning: `mall` could be `ALDO Maine Mall`, `ALDO Auburn Mall`. Which one?"
    )
    assert nothing["text"] == ":warning: I know no store or model called `qqqqqq`."


async def test_the_word_payload_in_a_command_is_answered_not_lost(running):
    _, slack_side, _ = await running()
    status, body, _ = await slack_side.command("/stock", "payload")
    assert status == 200  # bolt-python alone answers 404 (it reads the form as a payload)
    assert body["text"].startswith(":warning: I know no store or model called `payload`.")


async def test_a_threshold_change_is_saved_recorded_and_told_in_the_channel(running, slack):
    bot, slack_side, _ = await running()
    _, body, key = await slack_side.command(
        "/thresholds", 'set low=5 store="ALDO Maine Mall"', user="U7"
    )

    assert body["text"] == (
        ":white_check_mark: Saved: low &lt;= 5, high &gt;= 80 at ALDO Maine Mall."
    )
    await slack.wait_for(lambda s: s.responses[key])
    assert slack.responses[key] == [
        {
            "text": ":gear: <@U7> changed this channel's alert rules: low &lt;= 5, high &gt;= 80 "
            "at ALDO Maine Mall.",
            "response_type": "in_channel",
        }
    ]
    with sqlite3.connect(bot.settings.database_path) as db:
        assert db.execute(
            "SELECT low, high, updated_by FROM rules WHERE store = 'ALDO Maine Mall'"
        ).fetchall() == [(5, 80, "U7")]
    # `/thresholds` alone opens the rules form now (issue 16); `show` is the text answer.
    _, shown, _ = await slack_side.command("/thresholds", "show")
    assert "low &lt;= 5, high &gt;= 80 at ALDO Maine Mall" in shown["text"]
    assert "<@U7> low &lt;= 5, high &gt;= 80 at ALDO Maine Mall" in shown["text"]


async def test_only_admins_may_change_rules_when_admins_are_named(running):
    bot, slack_side, _ = await running(admin_user_ids=["UBOSS"])
    before = db_state(bot)
    _, refused, _ = await slack_side.command("/thresholds", "set low=1", user="U2")
    after_refusal = db_state(bot)
    _, shown, _ = await slack_side.command("/thresholds", user="U2")
    _, saved, _ = await slack_side.command("/thresholds", "set low=1", user="UBOSS")

    assert (
        refused["text"]
        == ":warning: Only <@UBOSS> can change this channel's rules. Nothing was changed."
    )
    assert after_refusal == before
    assert shown["text"].startswith("*Alert rules in this channel*")  # reading is for everyone
    assert saved["text"].startswith(":white_check_mark: Saved")
    with sqlite3.connect(bot.settings.database_path) as db:
        assert db.execute(
            "SELECT low, updated_by FROM rules WHERE channel = ? AND store = '' AND model = ''",
            (STORES,),
        ).fetchall() == [(1, "UBOSS")]


async def test_preview_replays_the_stored_day_and_saves_nothing(running, slack):
    bot, slack_side, feed = await running()
    # A second reading for each shelf at Maine Mall: 2, 11 and 39 left.
    for model, left in (("ADERI", 2), ("CAELAN", 11), ("MIRIRA", 39)):
        await feed.connections[0].send(sale("ALDO Maine Mall", model, left))
    await bot.writer.wait_for(lambda s: s.events >= len(SEED) + 3)
    before = db_state(bot)
    _, body, key = await slack_side.command("/thresholds", "preview low=50")
    if "Working on it" in body["text"]:
        await slack.wait_for(lambda s: s.responses[key])
        body = slack.responses[key][0]

    lines = body["text"].splitlines()
    assert lines[0] == "*Preview*"
    assert lines[1] == "Replaying the last 24 h of stored sales: 8 sales."
    # Low at 50, the three Maine shelves pass the two-reading gate, and Eaton ran out.
    assert lines[2] == (
        "*With low &lt;= 50, high &gt;= 80 (channel default):* 4 new messages, 0 edits, "
        "4 alerts (3 low, 1 out)"
    )
    # Low at 10, only ADERI (3, then 2) is low, and Eaton ran out.
    assert lines[3] == (
        "*With the current rules:* 2 new messages, 0 edits, 2 alerts (1 low, 1 out)"
    )
    assert db_state(bot) == before


async def test_the_acknowledge_button_edits_the_alert_and_a_second_click_is_told_no(running, slack):
    _, slack_side, _ = await running()
    (alert,) = slack.posts(STORES)
    status, _ = await slack_side.click("incident_ack", "1", user="U1", message_ts=alert.ts)
    assert status == 200
    await slack.wait_for(lambda s: len(s.thread(alert)) == 1)

    assert "Acknowledged by <@U1>" in json.dumps(alert.blocks)
    assert "incident_ack" not in json.dumps(alert.blocks)  # no second acknowledge button
    assert [m.text for m in slack.thread(alert)] == ["Acknowledged by u1."]  # no ping

    _, key = await slack_side.click("incident_ack", "1", user="U2", message_ts=alert.ts)
    await slack.wait_for(lambda s: s.responses[key])
    assert slack.responses[key][0]["text"] == ":warning: #1 was already acknowledged by <@U1>."


async def test_snooze_and_mute_buttons_are_recorded_on_the_alert(running, slack):
    bot, slack_side, _ = await running()
    (alert,) = slack.posts(STORES)
    await slack_side.click("incident_snooze_4h", "1", user="U3")
    await slack.wait_for(lambda s: len(s.thread(alert)) == 1)
    await slack_side.click("incident_mute", "1", user="U4")
    await slack.wait_for(lambda s: len(s.thread(alert)) == 2)

    assert [m.text for m in slack.thread(alert)] == [
        "Snoozed for 4 h by u3.",
        "Muted by u4: no new alerts for this in this channel.",
    ]
    assert "Snoozed by <@U3> until" in json.dumps(alert.blocks)
    with sqlite3.connect(bot.settings.database_path) as db:
        assert db.execute("SELECT muted_by FROM mutes").fetchall() == [("U4",)]


async def test_alerts_lists_and_acts_by_number(running, slack):
    _, slack_side, _ = await running()
    _, listed, _ = await slack_side.command("/alerts")
    _, done, _ = await slack_side.command("/alerts", "snooze #1 30m", user="U5")
    _, wrong, _ = await slack_side.command("/alerts", "ack 99")

    assert listed["text"].splitlines()[:2] == [
        "*Open alerts in this channel (1)*",
        ":red_circle: `#1` BUTAUD at ALDO Centre Eaton: out of stock · since just now",
    ]
    assert done["text"] == ":white_check_mark: Done: snoozed #1 for 30 min. Its message shows it."
    assert wrong["text"] == ":warning: There is no alert #99 in this channel."
    (alert,) = slack.posts(STORES)
    await slack.wait_for(lambda s: len(s.thread(alert)) == 1)


async def test_share_posts_the_answer_in_the_channel_and_removes_the_private_one(running, slack):
    _, slack_side, _ = await running()
    _, key = await slack_side.click(
        "share_answer",
        json.dumps({"command": "stock", "text": "maine"}),
        user="U6",
        ephemeral=True,
    )
    await slack.wait_for(lambda s: len(s.responses[key]) == 2)

    shared, removed = slack.responses[key]
    assert shared["response_type"] == "in_channel"
    assert shared["text"].startswith("*Stock at ALDO Maine Mall*")
    assert "Shared by <@U6> from `/stock`" in json.dumps(shared["blocks"])
    assert not any(b.get("block_id") == "share" for b in shared["blocks"])
    assert removed["delete_original"] is True


async def test_a_bad_signature_or_an_old_request_is_refused_and_changes_nothing(running):
    bot, slack_side, _ = await running()
    before = db_state(bot)
    body = "command=%2Fthresholds&text=set+low%3D1&user_id=U1&channel_id=C-STORES&team_id=T1"

    forged, _ = await slack_side.post(body, signature="v0=" + "0" * 64)
    stale, _ = await slack_side.post(body, timestamp=int(time.time()) - 6 * 60)

    assert (forged, stale) == (401, 401)
    assert db_state(bot) == before


async def test_the_same_flows_over_socket_mode(make_settings, slack):
    async with ScriptedFeed([SEED]) as feed:
        bot = Bot(
            make_settings(
                feed_urls=[feed.url],
                slack_bot_token=slack.token,
                slack_app_token=slack.app_token,
                slack_api_url=slack.api_url,
                slack_mode="socket",
                alert_channel=STORES,
            )
        )
        await bot.start()
        try:
            await bot.writer.wait_for(lambda s: s.events >= len(SEED))
            await slack.wait_for(lambda s: len(s.posts(STORES)) == 1)
            slack_side = Driver(slack)
            _, answer, _ = await slack_side.command("/stock", "maine", socket=True)
            (alert,) = slack.posts(STORES)
            await slack_side.click("incident_ack", "1", user="U1", socket=True)
            await slack.wait_for(lambda s: len(s.thread(alert)) == 1)
            await slack_side.event(
                {"type": "app_home_opened", "user": "U8", "tab": "home"}, socket=True
            )
            await slack.wait_for(lambda s: s.views["U8"])
        finally:
            await bot.stop()

    assert answer["text"].startswith("*Stock at ALDO Maine Mall*")
    assert [m.text for m in slack.thread(alert)] == ["Acknowledged by u1."]  # no ping
    assert any(c.method == "apps.connections.open" for c in slack.calls)
    assert "*Open alerts in your channels (1)*" in json.dumps(slack.views["U8"][0])
