"""The feed client inside the running bot, against real WebSocket servers in this process."""

import asyncio
import json

import pytest
from websockets.asyncio.server import serve

from bot.core.feed_health import FeedState
from bot.feed.client import WS_MAX_FRAME_BYTES, FeedClient
from bot.runtime import Bot
from bot.store.sqlite import connect as database
from bot.store.sqlite.reads import SqliteReads
from tests.core.test_events import BAD_FRAMES
from tests.helpers import RawText, ScriptedFeed, eventually


def good(store: str, model: str, inventory: int) -> str:
    return json.dumps({"store": store, "model": model, "inventory": inventory}, ensure_ascii=False)


@pytest.fixture
async def run_bot(make_settings):
    bots = []

    async def start(**settings) -> Bot:
        bot = Bot(make_settings(**settings))
        bots.append(bot)
        await bot.start()
        return bot

    yield start
    for bot in bots:
        await bot.stop()


async def committed(bot: Bot, *, events: int = 0, bad: int = 0) -> None:
    await asyncio.wait_for(
        bot.writer.wait_for(lambda s: s.events >= events and s.bad_frames >= bad), 10
    )


async def read_db(settings_path):
    conn = await database.connect(settings_path, readonly=True)
    reads = SqliteReads(conn)
    try:
        return (
            await reads.events(),
            await reads.levels(),
            await reads.dead_letters(limit=1000),
            await reads.bad_frame_counts(),
        )
    finally:
        await conn.close()


NAMES = [
    "ALDO Québec Père-Noël",
    "アルド 東京駅",
    "ALDO 👟 Zürich",
    "אלדו תל אביב",
    "ALDO Centre Eaton",
]


async def test_every_bad_frame_is_counted_and_dead_lettered_and_the_good_ones_between_land(
    run_bot, tmp_path
):
    script, expected_good, expected_reasons = [], [], []
    for i, (_, payload, binary, reason, _) in enumerate(BAD_FRAMES):
        name = NAMES[i % len(NAMES)]
        script.append(good(name, f"MODEL-{i}", i))
        expected_good.append((name, f"MODEL-{i}", i))
        raw = payload.encode() if isinstance(payload, str) else payload
        script.append(raw if binary else RawText(raw))
        expected_reasons.append(reason.value)
    script.append(good("ALDO Centre Eaton", "LAST", 0))
    expected_good.append(("ALDO Centre Eaton", "LAST", 0))

    async with ScriptedFeed([script]) as feed:
        bot = await run_bot(feed_urls=[feed.url])
        await committed(bot, events=len(expected_good), bad=len(BAD_FRAMES))
        assert bot.feeds[0].health.connects == 1  # no bad frame cost the connection
        await bot.stop()

    events, levels, dead, counts = await read_db(tmp_path / "inventory.db")
    assert [(e.store, e.model, e.inventory) for e in events] == expected_good
    assert [d.reason for d in reversed(dead)] == expected_reasons
    assert sum(counts.values()) == len(BAD_FRAMES)
    assert {lv.store for lv in levels} == set(NAMES)


async def test_a_frame_too_big_for_the_socket_is_counted_and_the_feed_reconnects(run_bot, tmp_path):
    huge = "x" * (WS_MAX_FRAME_BYTES + 1)
    scripts = [[good("A", "X", 1), huge, good("A", "X", 99)], [good("A", "X", 2)]]
    async with ScriptedFeed(scripts) as feed:
        bot = await run_bot(feed_urls=[feed.url])
        await committed(bot, events=2, bad=1)
        await bot.stop()

    events, _, dead, counts = await read_db(tmp_path / "inventory.db")
    assert [e.inventory for e in events] == [1, 2]
    assert counts == {"frame_too_large": 1}
    assert "connection was closed and reopened" in dead[0].detail


async def test_the_client_reconnects_when_the_server_hangs_up(run_bot, tmp_path):
    async with ScriptedFeed([[good("A", "X", 5)], [good("A", "X", 4)]]) as feed:
        bot = await run_bot(feed_urls=[feed.url])
        await committed(bot, events=1)
        await feed.close_all()
        await committed(bot, events=2)
        assert bot.feeds[0].health.connects == 2
        await bot.stop()

    events, levels, _, _ = await read_db(tmp_path / "inventory.db")
    assert [e.inventory for e in events] == [5, 4]
    assert [(lv.inventory, lv.sale_count) for lv in levels] == [(4, 2)]


async def test_the_client_keeps_trying_until_a_server_appears(run_bot, unused_tcp_port):
    url = f"ws://127.0.0.1:{unused_tcp_port}/"
    bot = await run_bot(feed_urls=[url])
    client = bot.feeds[0]
    await eventually(lambda: client.failed_attempts >= 2, what="two failed attempts")
    assert client.health.state is FeedState.DISCONNECTED

    async def handler(ws):
        await ws.send(good("Late", "X", 3))
        await ws.wait_closed()

    async with serve(handler, "127.0.0.1", unused_tcp_port):
        await committed(bot, events=1)
    assert client.health.connects == 1


async def test_a_silent_feed_turns_stale_and_recovers_when_messages_return(run_bot):
    async with ScriptedFeed([[good("A", "X", 1)]]) as feed:
        bot = await run_bot(feed_urls=[feed.url], feed_stale_after_seconds=0.2)
        health = bot.feeds[0].health
        await committed(bot, events=1)
        await eventually(lambda: health.state is FeedState.STALE, what="stale")

        await feed.connections[0].send(good("A", "X", 0))
        await committed(bot, events=2)
        assert health.state is FeedState.LIVE


async def test_two_feeds_are_read_side_by_side(run_bot, tmp_path):
    async with (
        ScriptedFeed([[good("A", "X", 1), good("A", "Y", 2)]]) as one,
        ScriptedFeed([[good("B", "X", 3)]]) as two,
    ):
        bot = await run_bot(feed_urls=[one.url, two.url])
        await committed(bot, events=3)
        await bot.stop()

    events, _, _, _ = await read_db(tmp_path / "inventory.db")
    assert {(e.feed, e.store) for e in events} == {(one.url, "A"), (two.url, "B")}


async def test_a_feed_url_websockets_refuses_is_reported_without_its_key(caplog):
    # Settings refuse a key given as user name alone; should websockets refuse a URL all the
    # same, its error quotes the URL whole, and that error is the feed's health and log detail.
    client = FeedClient(
        "ws://apikey-abcdef@127.0.0.1:9/",
        lambda item: None,
        stale_after=60,
        ping_interval=20,
        reconnect_max=30,
    )
    running = asyncio.create_task(client.run())
    try:
        await eventually(lambda: client.health.last_error != "not connected yet", what="failure")
    finally:
        running.cancel()
    reported = [client.name, client.health.last_error]
    reported += [str(vars(record)) for record in caplog.records]
    assert client.name == "ws://***@127.0.0.1:9/"
    assert "isn't a valid URI" in client.health.last_error
    assert not [text for text in reported if "abcdef" in text]
