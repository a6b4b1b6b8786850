"""Transfers end to end: the planner's suggestion on a low-stock alert and in /transfers, accepted
with the alert's button, followed through the feed until the pairs arrive."""

import json
import sqlite3
from dataclasses import replace

from bot.core.alerting.actions import SetPlans
from tests.helpers import move
from tests.slack.conftest import STORES, sale

MOVE = (
    "Move 28 ADERI from ALDO Auburn Mall (60 pairs → 32 pairs) "
    "to ALDO Maine Mall (3 pairs → 31 pairs)"
)


async def planned(bot) -> None:
    """Plan now, from everything committed so far (the tests' planner waits an hour between
    rounds, so each plan is one the test asked for)."""
    await bot.planner.plan_round()


async def send(bot, feed, *frames) -> None:
    events = bot.writer.stats.events
    for frame in frames:
        await feed.connections[0].send(frame)
    await bot.writer.wait_for(lambda s: s.events >= events + len(frames))


def transfer_rows(bot) -> list[tuple]:
    with sqlite3.connect(bot.settings.database_path) as db:
        return db.execute("SELECT id, status, by, sent FROM transfers ORDER BY id").fetchall()


async def test_a_suggestion_on_an_alert_is_accepted_and_followed_until_the_pairs_arrive(
    running, slack
):
    bot, slack_side, feed = await running(transfer_plan_seconds=3600)
    await planned(bot)
    # No pace is known yet (one sale each), so levels are balanced around the chain's mean;
    # Auburn keeps its floor (low 10 + 2) and more.
    _, listed, _ = await slack_side.command("/transfers")
    assert listed["text"].splitlines()[:2] == ["*Transfer suggestions*", f"`S1` {MOVE}"]
    buttons = next(b for b in listed["blocks"] if b.get("block_id") == "actions")
    assert [(e["action_id"], e["value"]) for e in buttons["elements"]] == [("transfer_accept", "1")]

    # A second low reading at Maine fires its alert, which carries the suggestion.
    await send(bot, feed, sale("ALDO Maine Mall", "ADERI", 2))
    await slack.wait_for(lambda s: len(s.posts(STORES)) == 2)
    alert = slack.posts(STORES)[1]
    assert "Low stock: ADERI at ALDO Maine Mall" in alert.text
    assert ":truck: Suggested: Move 28 ADERI from ALDO Auburn Mall" in json.dumps(alert.blocks)

    status, key = await slack_side.click("transfer_accept", "1", user="U9", message_ts=alert.ts)
    assert status == 200
    await slack.wait_for(lambda s: len(s.thread(alert)) == 1 and s.responses[key])
    assert [m.text for m in slack.thread(alert)] == ["u9 accepted transfer T1 (28 pairs)."]
    shown = json.dumps(alert.blocks)
    assert "Transfer T1 accepted by <@U9>: 28 pairs from ALDO Auburn Mall on their way" in shown
    assert "transfer_accept" not in shown
    assert slack.responses[key][0]["text"].startswith(":white_check_mark: Accepted as transfer T1")
    assert transfer_rows(bot) == [(1, "accepted", "U9", 0)]

    # Reserved on both sides: nothing more to suggest, and the transfer is listed as under way.
    await planned(bot)
    _, listed, _ = await slack_side.command("/transfers", "maine")
    assert listed["text"].splitlines()[1:4] == [
        "No transfer would help now: no store is short where another has stock to spare.",
        "*Accepted, on their way*",
        "`T1` 28 ADERI from ALDO Auburn Mall to ALDO Maine Mall · accepted by <@U9> just now "
        "· not seen leaving yet",
    ]

    # Auburn's level drops by the 28 beyond its sale; Maine's rises by about 28.
    await send(bot, feed, sale("ALDO Auburn Mall", "ADERI", 31))
    assert transfer_rows(bot) == [(1, "accepted", "U9", 1)]
    await send(bot, feed, sale("ALDO Maine Mall", "ADERI", 29))
    assert transfer_rows(bot) == [(1, "received", "U9", 1)]
    await slack.wait_for(lambda s: "Transfer T1 received (28 pairs)." in _texts(s.thread(alert)))


async def test_typed_accept_dismiss_and_cancel_and_their_mistakes(running, slack):
    bot, slack_side, _ = await running(transfer_plan_seconds=3600)
    await planned(bot)

    _, accepted, _ = await slack_side.command("/transfers", "accept S1", user="U2")
    assert accepted["text"].startswith(f":white_check_mark: Accepted as transfer T1: {MOVE}.")
    await slack.wait_for(lambda s: s.responses)
    (announced,) = [r for rs in slack.responses.values() for r in rs]
    assert announced == {
        "response_type": "in_channel",
        "text": f":truck: <@U2> accepted transfer T1: {MOVE}.",
    }

    _, again, _ = await slack_side.command("/transfers", "accept S1")
    assert again["text"] == (
        ":warning: Suggestion S1 is no longer current: stock has moved since it was made. "
        "`/transfers` shows the current ones."
    )
    _, cancelled, _ = await slack_side.command("/transfers", "cancel T1", user="U2")
    assert (
        cancelled["text"] == ":white_check_mark: Cancelled transfer T1: its pairs are free again."
    )
    assert transfer_rows(bot) == [(1, "cancelled", "U2", 0)]

    # Free again, the same move is suggested again, under a new number; dismissed, it stays
    # away.
    await planned(bot)
    _, listed, _ = await slack_side.command("/transfers")
    assert listed["text"].splitlines()[1] == f"`S2` {MOVE}"
    _, dismissed, _ = await slack_side.command("/transfers", "dismiss s2")
    assert dismissed["text"] == (
        ":white_check_mark: Dismissed S2: it will not be suggested again for a day."
    )
    await planned(bot)
    _, listed, _ = await slack_side.command("/transfers")
    assert listed["text"].splitlines()[1].startswith("No transfer would help now")

    for text, said in [
        ("accept", "Which suggestion? `/transfers accept S12` (its number is listed)."),
        ("cancel X1", "`X1` is not a transfer number; they look like T12."),
        ("cancel T9", "There is no open transfer T9."),
    ]:
        _, body, _ = await slack_side.command("/transfers", text)
        assert body["text"] == f":warning: {said}"


def _texts(messages) -> list[str]:
    return [m.text for m in messages]


async def test_a_long_list_of_suggestions_says_how_many_more_without_counting_them_all(running):
    bot, slack_side, _ = await running(transfer_plan_seconds=3600)
    plans = [(f"M{i:04}", [replace(move(), model=f"M{i:04}")], 0) for i in range(1_500)]
    await bot.apply(SetPlans(tuple((m, tuple(s), v) for m, s, v in plans)))

    _, listed, _ = await slack_side.command("/transfers", "")
    assert "… and over 980 more; name a store or model to narrow." in listed["text"]
    _, narrowed, _ = await slack_side.command("/transfers", "M0007")
    assert "more" not in narrowed["text"]


async def test_transfers_never_says_nothing_helps_about_a_model_not_yet_planned(running):
    # The planner plans every hour here; its first round ran at start, before any sale.
    bot, slack_side, _ = await running(transfer_plan_seconds=3600)
    await bot.planner.wait_for(lambda stats: stats.rounds >= 1)

    _, before, _ = await slack_side.command("/transfers", "ADERI")  # Maine 3, Auburn 60
    assert "No transfer would help" not in before["text"]
    assert "ADERI first sold since the last plan: it is planned within 3600 s." in before["text"]

    await planned(bot)
    _, after, _ = await slack_side.command("/transfers", "ADERI")
    assert f"`S1` {MOVE}" in after["text"]
