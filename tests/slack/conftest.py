"""Fixtures for the Slack app's tests: a local Slack, and the bot running against it in HTTP
mode, seeded with a few sales and its first alert posted."""

import json
import sqlite3
import time

import pytest

from bot.runtime import Bot
from tests.fakes.slack import Driver, FakeSlack
from tests.helpers import ScriptedFeed

STORES = "C-STORES"
SECRET = "test-signing-secret"


def sale(store: str, model: str, level: int) -> str:
    return json.dumps({"store": store, "model": model, "inventory": level})


SEED = [
    sale("ALDO Maine Mall", "ADERI", 3),
    sale("ALDO Maine Mall", "MIRIRA", 40),
    sale("ALDO Maine Mall", "CAELAN", 12),
    sale("ALDO Auburn Mall", "ADERI", 60),
    sale("ALDO Centre Eaton", "BUTAUD", 0),  # out of stock: alert #1 at once
]


@pytest.fixture
async def slack():
    async with FakeSlack() as fake:
        yield fake


@pytest.fixture
async def running(make_settings, slack):
    """Starts the bot in HTTP mode (at `clock`, the wall clock unless given), seeded with a few
    sales, its out-of-stock alert posted; returns (bot, a driver that speaks as Slack, the
    feed)."""
    started, drivers = [], []

    async def start(clock=time.time, **settings) -> tuple[Bot, Driver, ScriptedFeed]:
        feed = await ScriptedFeed([SEED]).__aenter__()
        values = {
            "feed_urls": [feed.url],
            "slack_bot_token": slack.token,
            "slack_api_url": slack.api_url,
            "slack_mode": "http",
            "slack_signing_secret": SECRET,
            "alert_channel": STORES,
            "alert_gate_seconds": 0,
        }
        values.update(settings)
        bot = Bot(make_settings(**values), clock=clock)
        started.append((bot, feed))
        await bot.start()
        await bot.writer.wait_for(lambda s: s.events >= len(SEED))
        await slack.wait_for(lambda s: len(s.posts(STORES)) == 1)
        url = f"http://127.0.0.1:{bot.web.port}/slack/events"
        driver = Driver(slack, url=url, secret=SECRET)
        drivers.append(driver)
        return bot, driver, feed

    yield start
    for driver in drivers:
        await driver.close()
    for bot, feed in started:
        await bot.stop()
        await feed.__aexit__(None, None, None)


def db_state(bot: Bot) -> tuple:
    """What a command could change: rules, their history, incidents' handling."""
    with sqlite3.connect(bot.settings.database_path) as db:
        return (
            db.execute("SELECT * FROM rules ORDER BY channel, store, model").fetchall(),
            db.execute("SELECT count(*) FROM config_changes").fetchall(),
            db.execute("SELECT id, acked_by, snoozed_until, muted_by FROM incidents").fetchall(),
            db.execute("SELECT * FROM mutes").fetchall(),
            db.execute("SELECT * FROM channels").fetchall(),
        )
