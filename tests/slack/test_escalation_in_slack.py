"""Owners and escalation through the running bot: the owner named in the alert's post, called once
more in its thread when nobody acknowledges it within a minute (the bot's clock moved on), and
never for an acknowledged alert."""

import asyncio
import sqlite3
import time

from bot.core.alerting.actions import DefaultRule
from bot.core.thresholds import Thresholds
from bot.runtime import Bot
from bot.store.writer import Tick
from tests.fakes.slack import Driver
from tests.slack.conftest import SECRET, STORES, sale

OWNER = "<!subteam^S0BUYERS>"


async def settled(bot, clock) -> None:
    """Time ticks through the writer at `clock()`, its effects committed and sent."""
    await bot.writer.submit(Tick(clock()))
    await bot.apply(DefaultRule(STORES, Thresholds()))  # answered once the tick committed
    await bot.sender.wait_idle()


async def test_an_unacknowledged_alert_calls_its_owner_once_more_and_an_acknowledged_one_not(
    running, slack
):
    later = [0.0]

    def clock() -> float:
        return time.time() + later[0]

    bot, slack_side, feed = await running(clock=clock)
    _, saved, _ = await slack_side.command(
        "/thresholds", "set owner=@buyers escalate=1m", user="U7"
    )
    assert saved["text"].startswith(":white_check_mark: Saved: low &lt;= 10, high &gt;= 80")
    for model in ("ADERI", "CAELAN"):  # out of stock at Eaton: two alerts at once
        await feed.connections[0].send(sale("ALDO Centre Eaton", model, 0))
    await slack.wait_for(lambda s: len(s.posts(STORES)) == 3)
    _, unacked, acked = slack.posts(STORES)
    await slack_side.click("incident_ack", "3", channel=STORES, user="U7")
    await slack.wait_for(lambda s: s.thread(acked))

    assert [m.text.count(OWNER) for m in (unacked, acked)] == [1, 1]  # each post names them
    later[0] = 61.0
    await slack.wait_for(lambda s: s.thread(unacked))
    await settled(bot, clock)
    later[0] = 3600.0
    await settled(bot, clock)

    (called,) = slack.thread(unacked)
    assert called.text == (f"Nobody has acknowledged this in 1 min: {OWNER}, please have a look.")
    assert called.broadcast  # shown in the channel too
    assert [m.text for m in slack.thread(acked)] == ["Acknowledged by u7."]
    assert f"{OWNER} owns this; called again at" in slack.posts(STORES)[1].text


async def restarted(bot: Bot, clock, *, edit: str) -> Bot:
    """The bot stopped, its database edited behind its back (`edit`, SQL), started again."""
    await bot.stop()
    with sqlite3.connect(bot.settings.database_path) as db:
        db.execute(edit)
    again = Bot(bot.settings, clock=clock)
    await again.start()
    return again


async def test_an_owner_edited_in_the_database_is_no_owner_and_the_bot_runs_on(running, slack):
    later = [0.0]

    def clock() -> float:
        return time.time() + later[0]

    bot, slack_side, feed = await running(clock=clock)
    await slack_side.command("/thresholds", "set owner=@buyers escalate=1m", user="U7")
    await feed.connections[0].send(sale("ALDO Centre Eaton", "ADERI", 0))
    await slack.wait_for(lambda s: len(s.posts(STORES)) == 2)
    edit = "UPDATE incidents SET detail = replace(detail, 'S0BUYERS', 'S0X><!channel')"
    bot = await restarted(bot, clock, edit=edit)
    try:
        later[0] = 61.0  # the escalation is due: its owner is not an ID
        await asyncio.wait_for(settled(bot, clock), 10)  # the writer is alive
        bot = await restarted(bot, clock, edit="UPDATE rules SET owner = '<!channel>'")
        await asyncio.wait_for(settled(bot, clock), 10)
        asking = Driver(slack, url=f"http://127.0.0.1:{bot.web.port}/slack/events", secret=SECRET)
        _, shown, _ = await asking.command("/thresholds", "show", user="U7")
        await asking.close()
    finally:
        await bot.stop()

    assert not [m.text for m in slack.messages if "<!channel>" in m.text]
    assert slack.thread(slack.posts(STORES)[1]) == []  # nobody to call
    (rule,) = [line for line in shown["text"].splitlines() if line.startswith("• ")]
    assert rule.startswith("• low &lt;= 10, high &gt;= 80 (channel default) · after")  # no owner
