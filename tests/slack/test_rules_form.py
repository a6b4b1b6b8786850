"""The rules form end to end: signed requests to the running bot, the modal opened, searched,
previewed and submitted against the local Slack, the result read where people read it (the
channel, `/thresholds show`, /api/rules, the audit log)."""

import json
import sqlite3

import aiohttp

from tests.slack.conftest import STORES, db_state

RULE_COLUMNS = "store, low, low_days, high, owner, second_owner, escalate_seconds, updated_by"


def typed(value: str) -> dict:
    return {"type": "plain_text_input", "value": value}


def picked(value: str) -> dict:
    return {"type": "external_select", "selected_option": {"text": {}, "value": value}}


async def open_form(slack, slack_side, user: str = "U7") -> dict:
    status, body, key = await slack_side.command("/thresholds", user=user)
    assert (status, body) == (200, "")  # the form opens instead of a text answer
    await slack.wait_for(lambda s: s.modals("rules_form"))
    (view,) = slack.modals("rules_form")
    assert [c.outcome for c in slack.calls if c.method == "views.open"] == ["ok"]
    assert next(c for c in slack.calls if c.method == "views.open").args["trigger_id"] == (
        f"trigger-{key}"
    )
    return view


async def test_thresholds_alone_opens_the_channels_rules_form(running, slack):
    _, slack_side, _ = await running()
    view = await open_form(slack, slack_side)

    inputs = [b["block_id"] for b in view["blocks"] if b["type"] == "input"]
    labels = {b["block_id"]: b["label"]["text"] for b in view["blocks"] if b["type"] == "input"}
    shown = json.dumps(view["blocks"])
    assert json.loads(view["private_metadata"]) == {"channel": STORES}
    assert inputs == [
        "store", "model", "low", "high", "gate", "wait", "quiet", "owner", "second", "escalate"
    ]  # fmt: skip
    assert (labels["low"], labels["high"]) == ("Low", "High")
    assert "low &lt;= 10, high &gt;= 80 (channel default)" in shown
    assert view["submit"]["text"] == "Save"


async def test_the_selects_search_the_stored_names_and_owners_as_people_type(running, slack):
    _, slack_side, _ = await running()
    _, stores = await slack_side.suggest("rule_store", "mai", block_id="store")
    _, every = await slack_side.suggest("rule_store", "", block_id="store")
    _, models = await slack_side.suggest("rule_model", "aderi", block_id="model")
    _, owners = await slack_side.suggest("rule_owner", "buy", block_id="owner")

    assert [o["value"] for o in stores["options"]] == ["ALDO Maine Mall"]
    assert [o["value"] for o in every["options"]] == [
        "ALDO Maine Mall", "ALDO Auburn Mall", "ALDO Centre Eaton"
    ]  # fmt: skip
    assert [o["value"] for o in models["options"]] == ["ADERI"]
    assert [(o["value"], o["text"]["text"]) for o in owners["options"]] == [
        ("S0BUYERS", "@buyers (group)")
    ]


async def test_a_bad_submission_is_answered_next_to_each_bad_field_and_changes_nothing(
    running, slack
):
    bot, slack_side, _ = await running()
    view = await open_form(slack, slack_side)
    before = db_state(bot)
    for block, value in (("low", "lots"), ("escalate", "5s"), ("quiet", "22-7")):
        await slack_side.in_view(view, block, f"rule_{block}", typed(value), user="U7")

    status, body = await slack_side.submit(view, user="U7")

    assert status == 200
    assert body["response_action"] == "errors"
    assert body["errors"] == {
        "low": "`low` is a number of pairs (5), of days of cover (2d), or off, not `lots`.",
        "escalate": "`escalate` is a minute at least, not `5s`.",
        "quiet": "Quiet hours look like 22:00-07:00, not '22-7'.",
    }
    assert db_state(bot) == before


async def test_a_good_submission_saves_announces_and_audits(running, slack):
    bot, slack_side, _ = await running()
    view = await open_form(slack, slack_side)
    for block, state in (
        ("store", picked("ALDO Maine Mall")),
        ("low", typed("2d")),
        ("owner", picked("S0BUYERS")),
        ("escalate", typed("30m")),
    ):
        await slack_side.in_view(view, block, f"rule_{block}", state, user="U7")

    status, body = await slack_side.submit(view, user="U7")
    assert (status, body) == (200, "")  # the form closes
    await slack.wait_for(lambda s: len(s.posts(STORES)) == 2)

    announced = slack.posts(STORES)[1].text
    said = (
        "low &lt;= 2 days of cover (10 pairs until a pace is known), high &gt;= 80 at "
        "ALDO Maine Mall; owner <!subteam^S0BUYERS>, called again after 30 min unacknowledged"
    )
    assert announced == f":gear: <@U7> changed this channel's alert rules: {said}."
    with sqlite3.connect(bot.settings.database_path) as db:
        rules = db.execute(f"SELECT {RULE_COLUMNS} FROM rules WHERE store != ''").fetchall()
        audit = db.execute("SELECT user, action, summary FROM config_changes").fetchall()
    assert rules == [("ALDO Maine Mall", 10, 2.0, 80, "S0BUYERS", None, 1800.0, "U7")]
    assert audit[-1][:2] == ("U7", "set_rule")
    assert "owner S0BUYERS, called again after 30 min unacknowledged" in audit[-1][2]
    _, shown, _ = await slack_side.command("/thresholds", "show")
    assert f"• {said} · after 2 readings" in shown["text"]
    async with aiohttp.ClientSession() as http:
        url = f"http://127.0.0.1:{bot.web.port}/api/rules?channel={STORES}"
        async with http.get(url) as response:
            listed = await response.json()
    (channel,) = listed["items"]
    maine = next(r for r in channel["rules"] if r["store"] == "ALDO Maine Mall")
    assert (maine["low"], maine["low_days"], maine["owner"], maine["escalate_seconds"]) == (
        10, 2.0, "S0BUYERS", 1800.0
    )  # fmt: skip


async def test_the_preview_shows_in_the_form_as_values_change(running, slack):
    _, slack_side, _ = await running()
    view = await open_form(slack, slack_side)

    await slack_side.in_view(view, "low", "rule_low", typed("50"), user="U7")
    await slack.wait_for(lambda s: s.open_views[view["id"]].get("updates"))

    updated = slack.open_views[view["id"]]
    preview = next(b for b in updated["blocks"] if b.get("block_id") == "preview")
    # One reading a shelf: only Eaton's stock-out passes the gate (two readings), either way.
    assert preview["text"]["text"].splitlines() == [
        "Replaying the last 24 h of stored sales: 5 sales.",
        "*With low &lt;= 50, high &gt;= 80 (channel default):* 1 new messages, 0 edits, "
        "1 alerts (1 out)",
        "*With the current rules:* 1 new messages, 0 edits, 1 alerts (1 out)",
    ]
    assert updated["state"]["values"]["low"]["rule_low"] == typed("50")  # what was typed stays
    assert [c.outcome for c in slack.calls if c.method == "views.update"] == ["ok"]


async def test_change_rules_opens_the_form_and_only_an_admin_may_save_it(running, slack):
    bot, slack_side, _ = await running(admin_user_ids=["UBOSS"])
    _, shown, _ = await slack_side.command("/thresholds", user="U2")  # not an admin: the text
    (button,) = [e for b in shown["blocks"] if b["type"] == "actions" for e in b["elements"]]
    await slack_side.click(button["action_id"], button["value"], user="U2")
    await slack.wait_for(lambda s: s.modals("rules_form"))
    (read_only,) = slack.modals("rules_form")
    before = db_state(bot)
    status, body = await slack_side.submit(read_only, user="U2")  # as if it had a Save button

    assert "submit" not in read_only  # nothing to save for them
    assert "Only the admins (ADMIN_USER_IDS) can change" in json.dumps(read_only["blocks"])
    assert (status, body["errors"]) == (
        200,
        {"low": "Only <@UBOSS> can change this channel's rules. Nothing was changed."},
    )
    assert db_state(bot) == before


async def test_a_zone_that_is_a_folder_of_the_zone_database_is_an_error_not_a_closed_form(
    running, slack
):
    bot, slack_side, _ = await running()
    view = await open_form(slack, slack_side)
    before = db_state(bot)
    await slack_side.in_view(view, "quiet", "rule_quiet", typed("22:00-07:00 America"), user="U7")

    status, body = await slack_side.submit(view, user="U7")

    assert (status, body["response_action"]) == (200, "errors")
    assert body["errors"] == {"quiet": "Unknown time zone 'America'."}
    assert db_state(bot) == before


# The form acts on a channel only for a person in it, whatever a payload says: U2 is in
# merchandising only. (Slack sends back the private_metadata and button values the bot gave;
# these payloads are what someone able to sign requests, or a stale view, would send.)
MERCH = "C-MERCH"
HOME = {"container": {"type": "view", "view_id": "VH"}, "view": {"id": "VH", "type": "home"}}


def forged(view: dict, channel: str) -> dict:
    """The view as Slack holds it, its private_metadata naming `channel` instead."""
    return {**view, "private_metadata": json.dumps({"channel": channel})}


async def test_change_rules_for_a_channel_the_person_is_not_in_opens_no_form(running, slack):
    slack.members = {STORES: {"U7"}, MERCH: {"U2"}}
    bot, slack_side, _ = await running()
    button = {"action_id": "rules_open", "block_id": "b", "type": "button", "value": STORES}

    status, _ = await slack_side.interact(
        {"type": "block_actions", **HOME, "actions": [button]}, user="U2"
    )
    await bot.slack_work.wait(within=5.0)

    assert status == 200
    assert not slack.modals("rules_form")  # nothing of the stores' channel shown to U2


async def merch_form_of_u2(slack, slack_side) -> dict:
    """U2 opens the rules form of the merchandising channel, theirs."""
    await slack_side.command("/thresholds", channel=MERCH, user="U2")
    await slack.wait_for(lambda s: s.modals("rules_form"))
    (view,) = slack.modals("rules_form")
    return view


async def test_a_submission_naming_a_channel_the_person_is_not_in_changes_nothing(running, slack):
    slack.members = {STORES: {"U7"}, MERCH: {"U2"}}
    bot, slack_side, _ = await running()
    view = await merch_form_of_u2(slack, slack_side)
    await slack_side.in_view(view, "low", "rule_low", typed("1"), user="U2")
    before = db_state(bot)

    status, body = await slack_side.interact(
        {"type": "view_submission", "view": forged(slack.open_views[view["id"]], STORES)},
        user="U2",
    )

    assert (status, body["response_action"]) == (200, "errors")
    assert body["errors"] == {
        "low": "You can change the rules of a channel you are in only. Nothing was changed."
    }
    assert db_state(bot) == before


async def type_in_forged(slack_side, view: dict, channel: str, *, user: str) -> None:
    """`user` types a Low of 3 in `view`, its private_metadata forged to name `channel`."""
    typing = {"action_id": "rule_low", "block_id": "low", "type": "plain_text_input", "value": "3"}
    await slack_side.interact(
        {
            "type": "block_actions",
            "container": {"type": "view", "view_id": view["id"]},
            "view": forged(view, channel),
            "actions": [typing],
        },
        user=user,
    )


async def test_a_preview_naming_no_channel_id_draws_nothing(running, slack):
    bot, slack_side, _ = await running()
    view = await open_form(slack, slack_side)
    await type_in_forged(slack_side, slack.open_views[view["id"]], "C1> <!channel", user="U7")
    await bot.slack_work.wait(within=5.0)

    assert not [c for c in slack.calls if c.method == "views.update"]
    assert "<!channel>" not in json.dumps(slack.open_views[view["id"]])


async def test_a_preview_naming_a_channel_the_person_is_not_in_draws_nothing(running, slack):
    slack.members = {STORES: {"U7"}, MERCH: {"U2"}}
    bot, slack_side, _ = await running()
    view = await merch_form_of_u2(slack, slack_side)
    await type_in_forged(slack_side, slack.open_views[view["id"]], STORES, user="U2")
    await bot.slack_work.wait(within=5.0)

    assert not [c for c in slack.calls if c.method == "views.update"]  # the stores' rules


async def test_quiet_hours_alone_are_saved_and_announced_and_an_emptied_field_clears_them(
    running, slack
):
    bot, slack_side, _ = await running()
    view = await open_form(slack, slack_side)
    posted = len(slack.posts(STORES))
    with sqlite3.connect(bot.settings.database_path) as db:
        audited_rules = db.execute(
            "SELECT count(*) FROM config_changes WHERE action = 'set_rule'"
        ).fetchone()[0]
    await slack_side.in_view(view, "quiet", "rule_quiet", typed("22:00-07:00 UTC"), user="U7")
    assert await slack_side.submit(view, user="U7") == (200, "")
    await slack.wait_for(lambda s: len(s.posts(STORES)) == posted + 1)

    await slack_side.command("/thresholds", user="U7")  # again: the quiet hours are in it
    await slack.wait_for(lambda s: len(s.modals("rules_form")) == 2)
    view = slack.modals("rules_form")[1]
    quiet = next(b for b in view["blocks"] if b.get("block_id") == "quiet")
    assert quiet["element"]["initial_value"] == "22:00-07:00 UTC"
    await slack_side.in_view(view, "quiet", "rule_quiet", typed(""), user="U7")
    assert await slack_side.submit(view, user="U7") == (200, "")
    await slack.wait_for(lambda s: len(s.posts(STORES)) == posted + 2)

    said = [m.text for m in slack.posts(STORES)[posted:]]
    assert said == [
        ":gear: <@U7> changed this channel's alert rules: quiet hours 22:00-07:00 UTC.",
        ":gear: <@U7> changed this channel's alert rules: no quiet hours.",
    ]
    with sqlite3.connect(bot.settings.database_path) as db:
        audit = [a for (a,) in db.execute("SELECT action FROM config_changes ORDER BY id")]
    # The rule in the form was as it stood: not saved again, only the quiet hours were.
    assert audit[-2:] == ["quiet_hours", "quiet_hours"]
    assert audit.count("set_rule") == audited_rules
    _, shown, _ = await slack_side.command("/thresholds", "show")
    assert "Quiet hours: none" in shown["text"]


async def test_a_form_saved_as_it_opened_changes_and_announces_nothing(running, slack):
    bot, slack_side, _ = await running()
    view = await open_form(slack, slack_side)
    posted = len(slack.posts(STORES))
    before = db_state(bot)

    assert await slack_side.submit(view, user="U7") == (200, "")
    _, shown, _ = await slack_side.command("/thresholds", "show")

    assert len(slack.posts(STORES)) == posted
    assert db_state(bot) == before
    assert "low &lt;= 10" in shown["text"]
