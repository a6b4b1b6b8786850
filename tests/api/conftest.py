"""A bot serving the API over real HTTP, seeded through a real feed: stock in three stores, a
refused frame, an out-of-stock alert, and the planner's suggestion."""

import aiohttp
import pytest

from bot.runtime import Bot
from tests.helpers import ScriptedFeed
from tests.slack.conftest import sale

CHANNEL = "C-STORES"
TOKEN = "test-api-token-0123456789"
SEED = [
    sale("ALDO Maine Mall", "ADERI", 3),
    sale("ALDO Maine Mall", "MIRIRA", 40),
    sale("ALDO Maine Mall", "CAELAN", 12),
    sale("ALDO Auburn Mall", "ADERI", 60),
    "not json",
    sale("ALDO Centre Eaton", "BUTAUD", 0),
]


class Client:
    """GETs against the running bot; returns (status, JSON body, headers)."""

    def __init__(self, base: str, token: str | None) -> None:
        self.base, self.token = base, token
        self.session = aiohttp.ClientSession()

    async def get(self, path: str, *, token: str | None = "default", method: str = "GET"):
        token = self.token if token == "default" else token
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        async with self.session.request(method, self.base + path, headers=headers) as response:
            return response.status, await response.json(content_type=None), response.headers


@pytest.fixture
async def api(make_settings):
    """Starts the bot (API_TOKEN given as `token=`, `credentials="user:pass@"` put in the feed
    URL) and returns (bot, client, feed)."""
    started = []

    async def start(token: str | None = None, credentials: str = "", **settings):
        feed = await ScriptedFeed([SEED]).__aenter__()
        bot = Bot(
            make_settings(
                feed_urls=[feed.url.replace("//", f"//{credentials}") if credentials else feed.url],
                alert_channel=CHANNEL,
                alert_gate_seconds=0,
                api_token=token,
                transfer_plan_seconds=3600,
                **settings,
            )
        )
        client = Client("http://127.0.0.1:{}", token)
        started.append((bot, feed, client))
        await bot.start()
        client.base = client.base.format(bot.web.port)
        await bot.writer.wait_for(lambda s: s.events == 5 and s.bad_frames == 1)
        await bot.planner.plan_round()
        return bot, client, feed

    yield start
    for bot, feed, client in started:
        await client.session.close()
        await bot.stop()
        await feed.__aexit__(None, None, None)
