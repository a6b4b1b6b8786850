"""Alerts from the feed to a local Slack, through the bot's real slack_sdk client: what is
posted and edited, in what order, at what pace, and exactly once whatever Slack does."""

import asyncio
import itertools
import json
import logging
import sqlite3
import time

import pytest
from slack_sdk.web.async_client import AsyncWebClient
from websockets.asyncio.server import serve

from bot.core.delivery import BLOCKED_PROBE
from bot.runtime import Bot
from bot.slack.transport import SlackTransport
from tests.fakes.slack import FakeSlack, Fault
from tests.helpers import ScriptedFeed, eventually

STORES = "C-STORES"


def sale(store: str, model: str, level: int) -> str:
    return json.dumps({"store": store, "model": model, "inventory": level})


@pytest.fixture
async def slack():
    async with FakeSlack() as fake:
        yield fake


@pytest.fixture
async def feed():
    async with ScriptedFeed([[]]) as scripted:
        yield scripted


@pytest.fixture
async def bot(make_settings, slack, feed):
    bots = []

    async def start(clock=time.time, **settings) -> Bot:
        values = {
            "feed_urls": [feed.url],
            "slack_bot_token": slack.token,
            "slack_api_url": slack.api_url,
            "slack_mode": "http",
            "slack_signing_secret": "test-secret",
            "alert_channel": STORES,
            "alert_gate_seconds": 0,
            "alert_group_seconds": 0.2,
            "slack_timeout_seconds": 0.5,
        }
        values.update(settings)
        started = Bot(make_settings(**values), clock=clock)
        bots.append(started)
        await started.start()
        await feed.wait_for_connections(1)
        return started

    yield start
    for started in bots:
        await started.stop()


def calls(slack: FakeSlack) -> list[tuple[str, str]]:
    """(method, channel) of each message call, in order."""
    return [(c.method, c.args.get("channel")) for c in slack.calls if c.method.startswith("chat.")]


async def test_a_realistic_scenario_posts_edits_and_threads_exactly_as_it_should(bot, slack, feed):
    await bot()
    ws = feed.connections[0]

    await ws.send(sale("ALDO Maine Mall", "ADERI", 12))  # plenty: nothing to say
    await ws.send(sale("ALDO Maine Mall", "ADERI", 9))  # low: the gate wants a second reading
    await ws.send(sale("ALDO Maine Mall", "ADERI", 8))  # low again: fires, waits 0.2 s, posts
    await slack.wait_for(lambda s: len(s.posts()) == 1)
    await ws.send(sale("ALDO Maine Mall", "ADERI", 0))  # out of stock: the same message
    await slack.wait_for(lambda s: len(s.thread(s.posts()[0])) == 1)
    await ws.send(sale("ALDO Maine Mall", "ADERI", 30))  # restocked: resolved
    await slack.wait_for(lambda s: len(s.thread(s.posts()[0])) == 2)
    await ws.send(sale("ALDO Centre Eaton", "MIRIRA", 0))  # another shelf runs out
    await slack.wait_for(lambda s: len(s.posts()) == 2)

    assert calls(slack) == [
        ("chat.postMessage", STORES),
        ("chat.update", STORES),
        ("chat.postMessage", STORES),
        ("chat.update", STORES),
        ("chat.postMessage", STORES),
        ("chat.postMessage", STORES),
    ]
    first, second = slack.posts(STORES)
    assert [e["text"].split(".")[0] for e in first.edits] == [
        "Low stock: ADERI at ALDO Maine Mall",
        "Out of stock: ADERI at ALDO Maine Mall",
    ]
    assert first.text.startswith("Resolved: ADERI at ALDO Maine Mall. 30 in stock now")
    assert [m.text for m in slack.thread(first)] == [
        "Now out of stock (0 left).",
        "Resolved: 30 in stock.",
    ]
    assert not [b for b in first.blocks if b["type"] == "actions"]  # resolved: no buttons
    assert second.text.startswith("Out of stock: MIRIRA at ALDO Centre Eaton. 0 left")
    actions = next(b for b in second.blocks if b["type"] == "actions")
    assert [e["action_id"] for e in actions["elements"]] == [
        "incident_ack",
        "incident_snooze_1h",
        "incident_snooze_4h",
        "incident_snooze_24h",
        "incident_mute",
    ]


async def test_429_500_and_timeouts_still_deliver_every_alert_once_in_order_and_paced(
    bot, slack, feed
):
    slack.fail(
        "chat.postMessage",
        Fault(status=429, error="ratelimited", retry_after=1),
        None,
        Fault(status=500, error="internal_error"),
        None,
        Fault(apply=True, delay=2.0),  # it posts, but answers after the bot gave up (0.5 s)
    )
    started = await bot()
    ws = feed.connections[0]
    shelves = [
        ("ALDO Auburn Mall", "ADERI"),
        ("ALDO Holyoke Mall", "MIRIRA"),
        ("ALDO Maine Mall", "CAELAN"),
        ("ALDO Centre Eaton", "BUTAUD"),
        ("ALDO Maine Mall", "SODANO"),
    ]
    for store, model in shelves:
        await ws.send(sale(store, model, 0))

    await slack.wait_for(lambda s: len(s.posts()) == 5, within=30)
    await asyncio.wait_for(started.sender.wait_idle(), 10)

    posted = [m.text.split(".")[0] for m in slack.posts(STORES)]
    assert posted == [f"Out of stock: {model} at {store}" for store, model in shelves]
    outbox_ids = [m.metadata["event_payload"]["outbox_id"] for m in slack.posts(STORES)]
    assert len(set(outbox_ids)) == 5
    arrivals = slack.arrivals("chat.postMessage", STORES)
    assert len(arrivals) == 7  # 5 posts (one answered too late), 2 refused
    gaps = [b - a for a, b in itertools.pairwise(arrivals)]
    assert min(gaps) >= 1.0, gaps
    # The late answer was not retried blindly: the bot looked for the message first.
    assert any(c.method == "conversations.history" for c in slack.calls)
    with sqlite3.connect(started.settings.database_path) as db:
        states = db.execute("SELECT state, count(*) FROM deliveries GROUP BY state").fetchall()
    assert states == [("sent", 5)]


async def test_a_channel_slack_refuses_is_reported_once_and_its_alerts_wait(
    bot, slack, feed, caplog
):
    # A public channel the bot is not in, and an install without the scopes that would let it
    # post there anyway (chat:write.public) or join it (channels:join): Slack says
    # not_in_channel, and only someone inviting the bot can help.
    slack.not_member.add(STORES)
    slack.scopes -= {"chat:write.public", "channels:join"}
    later = [0.0]

    def clock() -> float:
        return time.time() + later[0]

    started = await bot(clock=clock)
    ws = feed.connections[0]
    for model in ["ADERI", "MIRIRA", "CAELAN"]:
        await ws.send(sale("ALDO Maine Mall", model, 0))
    await eventually(started.sender.problems, what="the sender to hear the refusal")
    await ws.send(sale("ALDO Maine Mall", "BUTAUD", 0))
    await started.writer.wait_for(lambda stats: stats.events == 4)

    def refused() -> int:
        return len([c for c in slack.calls if c.outcome == "not_in_channel"])

    assert refused() == 1
    assert started.sender.pending() == 4  # nothing lost
    assert started.sender.problems() == {STORES: "not_in_channel"}
    reports = [r for r in caplog.records if "refuses this channel" in r.getMessage()]
    assert len(reports) == 1
    assert reports[0].hint.startswith("invite the bot")
    # No retry storm: the next try is minutes away; once they have passed, it is made.
    assert started.sender.next_try(STORES) - clock() > BLOCKED_PROBE - 10
    later[0] = BLOCKED_PROBE
    await ws.send(sale("ALDO Maine Mall", "ABSOLUT", 0))  # the next alert wakes the sender
    await eventually(lambda: refused() == 2, what="the next try")
    assert started.sender.pending() == 5


async def test_a_bad_token_is_reported_once_and_nothing_is_sent(bot, slack, feed, caplog):
    caplog.set_level(logging.ERROR)
    started = await bot(slack_bot_token="xoxb-wrong")
    ws = feed.connections[0]
    await ws.send(sale("A", "ADERI", 0))
    await ws.send(sale("B", "ADERI", 0))
    await eventually(started.sender.problems, what="the sender to hear the refusal")
    await started.writer.wait_for(lambda stats: stats.events == 2)

    assert [c.outcome for c in slack.calls if c.method.startswith("chat.")] == ["invalid_auth"]
    assert started.sender.problems() == {"*": "invalid_auth"}
    assert len([r for r in caplog.records if "refuses the bot token" in r.getMessage()]) == 1


async def test_a_deleted_message_is_posted_afresh_when_its_incident_changes(bot, slack, feed):
    started = await bot()
    ws = feed.connections[0]
    await ws.send(sale("ALDO Maine Mall", "ADERI", 0))
    await slack.wait_for(lambda s: len(s.posts()) == 1)
    slack.delete(slack.posts()[0])

    await ws.send(sale("ALDO Maine Mall", "ADERI", 40))  # resolved: its message is edited
    await slack.wait_for(lambda s: len(s.posts()) == 1 and s.posts()[0].text.startswith("Resolved"))
    await asyncio.wait_for(started.sender.wait_idle(), 10)

    assert [c.outcome for c in slack.calls if c.method == "chat.update"] == ["message_not_found"]
    (fresh,) = slack.posts()
    assert [m.text for m in slack.thread(fresh)] == ["Resolved: 40 in stock."]


async def test_a_feed_down_is_told_in_the_ops_channel_and_so_is_its_return(
    make_settings, slack, unused_tcp_port
):
    url = f"ws://127.0.0.1:{unused_tcp_port}/"
    bot = Bot(
        make_settings(
            feed_urls=[url],
            slack_bot_token=slack.token,
            slack_api_url=slack.api_url,
            slack_mode="http",
            slack_signing_secret="test-secret",
            ops_channel="C-OPS",
            feed_stale_after_seconds=0.5,
            feed_reconnect_max_seconds=0.5,
        )
    )
    await bot.start()
    try:
        await slack.wait_for(lambda s: len(s.posts("C-OPS")) == 1)
        assert slack.posts("C-OPS")[0].text.startswith(f"Feed disconnected: {url}")

        async def handler(ws):
            await ws.send(sale("A", "X", 50))
            await ws.wait_closed()

        async with serve(handler, "127.0.0.1", unused_tcp_port):
            await slack.wait_for(lambda s: len(s.thread(s.posts("C-OPS")[0])) == 1)
    finally:
        await bot.stop()
    (told,) = slack.posts("C-OPS")
    assert told.text.startswith(f"Feed back: {url}")
    assert [m.text for m in slack.thread(told)] == ["Feed is back: messages are flowing."]


async def test_blocks_slack_refuses_still_reach_people_as_text(bot, slack, feed):
    slack.refuse("chat.postMessage", "msg_blocks_too_long")
    started = await bot()
    await feed.connections[0].send(sale("ALDO Maine Mall", "ADERI", 0))
    await slack.wait_for(lambda s: len(s.posts()) == 1)
    await asyncio.wait_for(started.sender.wait_idle(), 10)

    (posted,) = slack.posts(STORES)
    assert posted.text.startswith("Out of stock: ADERI at ALDO Maine Mall")
    assert not posted.blocks
    outcomes = [c.outcome for c in slack.calls if c.method == "chat.postMessage"]
    assert outcomes == ["msg_blocks_too_long", "ok"]


async def test_an_edit_too_long_for_chat_update_is_cut_to_fit(slack):
    transport = SlackTransport(AsyncWebClient(token=slack.token, base_url=slack.api_url))
    posted = await transport.post(STORES, {"text": "Low stock"}, 1)
    await transport.update(posted.channel_id, posted.ts, {"text": "Montréal é" * 400})

    (message,) = slack.posts(STORES)
    assert message.text.startswith("Montréal é")
    assert message.text.endswith("…")
    assert len(message.text.encode()) <= 4000
