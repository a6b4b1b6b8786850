"""Feeds that accept connections and send nothing: a link that stops answering pings, and
websocketd wrapping a script that exits at once. Neither is ever called live; /readyz says so;
the ops channel hears that the feed is down, and hears "Feed is back" only once a sale flows."""

import json
import re
import shutil

import aiohttp
import pytest
from websockets.asyncio.server import serve

from bot.core.feed_health import FeedState
from bot.runtime import Bot
from tests.conftest import websocketd_path
from tests.fakes.slack import FakeSlack
from tests.helpers import HandshakeOnly
from tests.test_websocketd import Websocketd

OPS = "C-OPS"


@pytest.fixture
async def slack():
    async with FakeSlack() as fake:
        yield fake


@pytest.fixture
async def ops_bot(make_settings, slack):
    """Starts a bot reading `url`, with an ops channel; returns it with every feed state it
    reported, in order."""
    bots = []

    async def start(url: str, **settings) -> tuple[Bot, list[FeedState]]:
        values = {
            "feed_urls": [url],
            "slack_bot_token": slack.token,
            "slack_api_url": slack.api_url,
            "slack_mode": "http",
            "slack_signing_secret": "test-secret",
            "ops_channel": OPS,
            "feed_reconnect_max_seconds": 0.3,
        }
        values.update(settings)
        bot = Bot(make_settings(**values))
        states: list[FeedState] = []
        bots.append(bot)
        await bot.start()
        bot.feeds[0].transitions.append(lambda t: states.append(t.after))
        return bot, states

    yield start
    for bot in bots:
        await bot.stop()


async def readyz(bot: Bot, url: str) -> tuple[int, dict]:
    async with (
        aiohttp.ClientSession() as session,
        session.get(f"http://127.0.0.1:{bot.web.port}/readyz") as response,
    ):
        body = await response.json()
    return response.status, body["checks"][f"feed {url}"]


async def send_one_sale(ws) -> None:
    await ws.send(json.dumps({"store": "ALDO Maine Mall", "model": "ADERI", "inventory": 5}))
    await ws.wait_closed()


async def test_a_link_that_stops_answering_is_never_live_and_is_told_until_a_sale_flows(
    ops_bot, slack, unused_tcp_port
):
    url = f"ws://127.0.0.1:{unused_tcp_port}/"
    async with HandshakeOnly(unused_tcp_port) as server:
        # Each link dies of a ping timeout (0.2 s, then 2 s waiting for a close frame): it
        # reconnects well before 4 s of silence, which used to restart the count each time.
        bot, states = await ops_bot(url, feed_stale_after_seconds=4, feed_ping_interval_seconds=0.2)
        await slack.wait_for(lambda s: len(s.posts(OPS)) == 1, within=15)

        assert server.handshakes >= 2  # it did reconnect in the meantime
        (told,) = slack.posts(OPS)
        assert told.text.startswith(f"Feed stale: {url}")
        assert slack.thread(told) == []
        assert FeedState.LIVE not in states
        status, check = await readyz(bot, url)
        assert status == 503
        assert check["ok"] is False
        silent = re.match(r"stale: no message for (\d+) s$", check["detail"])
        assert silent, check
        assert int(silent.group(1)) >= 4

    async with serve(send_one_sale, "127.0.0.1", unused_tcp_port):
        await slack.wait_for(lambda s: len(s.thread(s.posts(OPS)[0])) == 1, within=10)
        assert (await readyz(bot, url))[0] == 200

    (told,) = slack.posts(OPS)
    assert told.text.startswith(f"Feed back: {url}")
    assert [m.text for m in slack.thread(told)] == ["Feed is back: messages are flowing."]
    assert states.count(FeedState.LIVE) == 1  # on the sale, not on any handshake before it


async def test_websocketd_whose_script_exits_at_once_is_never_live_and_is_told(
    ops_bot, slack, unused_tcp_port, tmp_path
):
    websocketd_path()
    server = Websocketd(unused_tcp_port, shutil.which("true"))
    try:
        await server.ready()
        bot, states = await ops_bot(server.url, feed_stale_after_seconds=1.5)
        await slack.wait_for(lambda s: len(s.posts(OPS)) == 1, within=10)

        (told,) = slack.posts(OPS)
        assert told.text.startswith(f"Feed stale: {server.url}")
        assert bot.feeds[0].health.connects >= 2
        assert bot.feeds[0].health.messages == 0
        assert FeedState.LIVE not in states
        status, check = await readyz(bot, server.url)
        assert status == 503
        assert check["detail"].startswith("stale: no message for ")
        assert "connection(s); the last closed with:" in check["detail"]
        assert slack.thread(told) == []  # no "Feed is back" for a handshake
    finally:
        server.stop()
