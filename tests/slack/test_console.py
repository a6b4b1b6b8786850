"""With no Slack token the bot writes what it would post to the console (make run's default)."""

import asyncio
import io
import json

from bot.runtime import Bot
from bot.slack.transport import ConsoleTransport
from tests.helpers import BotProcess, ScriptedFeed, eventually


async def test_without_a_token_alerts_are_written_to_the_console(make_settings):
    out = io.StringIO()
    frames = [json.dumps({"store": "ALDO Maine Mall", "model": "ADERI", "inventory": 0})]
    async with ScriptedFeed([frames]) as feed:
        bot = Bot(
            make_settings(feed_urls=[feed.url], alert_channel="#inventory"),
            transport=ConsoleTransport(out),
        )
        await bot.start()
        try:
            await eventually(lambda: "Out of stock" in out.getvalue(), what="a console line")
            await asyncio.wait_for(bot.sender.wait_idle(), 5)
        finally:
            await bot.stop()

    line = out.getvalue().splitlines()[0]
    assert "[#inventory] Out of stock: ADERI at ALDO Maine Mall. 0 left" in line


async def test_inventory_bot_run_prints_alerts_when_no_token_is_set(tmp_path):
    frames = [json.dumps({"store": "ALDO Auburn Mall", "model": "MIRIRA", "inventory": 0})]
    async with ScriptedFeed([frames]) as feed:
        bot = BotProcess(tmp_path, FEED_URLS=feed.url, ALERT_CHANNEL="#inventory")
        try:
            await eventually(
                lambda: "Out of stock: MIRIRA" in bot.output(),
                within=20,
                what="the alert on the console",
            )
        finally:
            assert bot.terminate() == 0
    assert "[#inventory] Out of stock: MIRIRA at ALDO Auburn Mall. 0 left" in bot.output()
