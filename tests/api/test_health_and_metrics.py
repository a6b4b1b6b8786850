"""/healthz, /readyz as a feed drops and returns, Slack in readiness, and /metrics as a
Prometheus server would read it."""

import asyncio
import logging

from prometheus_client.parser import text_string_to_metric_families

from bot.commands.request import Request
from bot.core.feed_health import FeedState
from tests.api.conftest import CHANNEL, Client
from tests.fakes.slack import FakeSlack, Fault
from tests.slack.conftest import sale


def states(feed_client) -> asyncio.Queue:
    """The feed's state changes, as they happen."""
    seen: asyncio.Queue = asyncio.Queue()
    feed_client.transitions.append(lambda t: seen.put_nowait(t.after))
    return seen


async def next_state(seen: asyncio.Queue, wanted: FeedState) -> None:
    async with asyncio.timeout(10):
        while await seen.get() is not wanted:
            pass


async def test_readiness_follows_the_feed_down_and_back_while_liveness_holds(api):
    bot, client, feed = await api()
    status, body, _ = await client.get("/readyz")
    assert status == 200
    assert body["ready"] is True
    assert body["checks"]["database"] == {"ok": True, "detail": "answers"}
    assert body["checks"][f"feed {feed.url}"]["ok"] is True

    seen = states(bot.feeds[0])
    await feed.close_all()
    await next_state(seen, FeedState.DISCONNECTED)
    status, body, _ = await client.get("/readyz")
    assert status == 503
    assert body["ready"] is False
    check = body["checks"][f"feed {feed.url}"]
    assert check["ok"] is False
    assert check["detail"].startswith("disconnected")
    status, alive, _ = await client.get("/healthz")
    assert (status, alive["status"]) == (200, "alive")

    await next_state(seen, FeedState.CONNECTED)  # the client reconnects by itself...
    status, body, _ = await client.get("/readyz")
    assert status == 503  # ...but a handshake is not a sale
    assert body["checks"][f"feed {feed.url}"] == {
        "ok": False,
        "detail": "connected: waiting for the first message",
    }

    await feed.connections[1].send(sale("ALDO Maine Mall", "ADERI", 2))
    await next_state(seen, FeedState.LIVE)
    status, body, _ = await client.get("/readyz")
    assert (status, body["ready"]) == (200, True)


def scrape(text: str) -> dict[tuple[str, tuple], float]:
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


async def metrics(client: Client) -> dict[tuple[str, tuple], float]:
    async with client.session.get(client.base + "/metrics") as response:
        assert response.status == 200
        assert response.headers["Content-Type"].startswith("text/plain")
        return scrape(await response.text())


async def test_metrics_parse_and_move_as_events_arrive(api):
    bot, client, feed = await api()
    url = feed.url
    before = await metrics(client)
    assert before[("inventory_events_total", ())] == 5
    assert before[("inventory_bad_frames_total", (("reason", "not_json"),))] == 1
    assert before[("inventory_feed_up", (("feed", url),))] == 1
    assert before[("inventory_feed_reconnects_total", (("feed", url),))] == 0
    firing = (("kind", "low"), ("severity", "out"), ("state", "firing"))
    assert before[("inventory_alerts_open", firing)] == 1
    assert before[("inventory_transfer_suggestions", ())] == 1
    assert before[("inventory_writer_queue_depth", ())] == 0
    assert before[("inventory_writer_batch_events_sum", ())] == 5

    for level in (2, 1):
        await feed.connections[0].send(sale("ALDO Maine Mall", "ADERI", level))
    await bot.writer.wait_for(lambda s: s.events == 7)
    after = await metrics(client)
    assert after[("inventory_events_total", ())] == 7
    assert after[("inventory_feed_messages_total", (("feed", url),))] == 8

    seen = states(bot.feeds[0])
    await feed.close_all()
    await next_state(seen, FeedState.CONNECTED)
    assert (await metrics(client))[("inventory_feed_reconnects_total", (("feed", url),))] == 1


async def test_command_latency_is_measured(api):
    bot, client, _ = await api()
    await bot.commands.handle(Request("stock", "maine", CHANNEL, "U1"))
    await bot.commands.handle(Request("stock", "nowhere at all", CHANNEL, "U1"))
    found = await metrics(client)
    for outcome in ("answered", "refused"):  # maine is a store; "nowhere at all" is not
        labels = (("command", "stock"), ("outcome", outcome))
        assert found[("inventory_command_seconds_count", labels)] == 1


async def test_readiness_asks_slack_when_a_token_is_set(api):
    for fault, ready, detail in [
        (None, True, "token accepted"),
        (Fault(status=200, error="invalid_auth"), False, "invalid_auth"),
    ]:
        async with FakeSlack() as slack:
            if fault is not None:
                slack.fail("auth.test", fault)
            bot, client, _ = await api(
                slack_bot_token=slack.token,
                slack_api_url=slack.api_url,
                slack_mode="http",
                slack_signing_secret="secret",
            )
            status, body, _ = await client.get("/readyz")
            await bot.stop()  # before its Slack goes away
        assert status == (200 if ready else 503)
        assert body["checks"]["slack"]["ok"] is ready
        assert detail in body["checks"]["slack"]["detail"]


async def test_a_feed_urls_password_and_query_show_nowhere(api, caplog):
    caplog.set_level(logging.INFO)  # every line the bot logs by default, not only warnings
    secret = "s3cret-pass"
    bot, client, feed = await api(credentials="reader:s3cret-pass@")
    shown = feed.url.replace("//", "//***@")
    assert bot.feeds[0].name == shown

    _, ready, _ = await client.get("/readyz")
    async with client.session.get(client.base + "/metrics") as response:
        exposed = await response.text()
    _, events, _ = await client.get("/api/events")
    seen = [str(ready), exposed, str(events), *(str(vars(record)) for record in caplog.records)]
    assert f"feed {shown}" in ready["checks"]
    assert {event["feed"] for event in events["items"]} == {shown}
    assert not [text for text in seen if secret in text]
