"""Two bots on one PostgreSQL database, each its own `inventory-bot run` process: one leads (reads
the feed, stores, alerts), the other stands by and answers people. The leader is killed (-9) or
frozen (SIGSTOP) mid-stream; the standby must take over, and nothing committed may be lost or
sent twice. The local Slack tells the processes apart by the token each was given."""

from __future__ import annotations

import contextlib
import json
import signal
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode

import aiohttp
import asyncpg
import pytest
from slack_sdk.signature import SignatureVerifier

from tests.fakes.feed import BufferingFeed
from tests.fakes.slack import Driver, FakeSlack
from tests.helpers import BotProcess, eventually, free_port

CHANNEL = "C-STORES"
SECRET = "two-bots-signing-secret"


def sale(n: int, level: int = 50) -> dict:
    """A sale only this frame makes: its model is its own, so each stored event names its
    frame (a frame stored twice shows)."""
    return {"store": f"ALDO Store {n % 7}", "model": f"M{n:05d}", "inventory": level}


def sales(first: int, count: int, *, outs_every: int = 25) -> list[dict]:
    """`count` sales from number `first`; every `outs_every`th runs out (an alert, at once)."""
    return [sale(n, 0 if n % outs_every == 0 else 50) for n in range(first, first + count)]


@dataclass
class Bot:
    name: str  # its token's tail, as the local Slack records it
    process: BotProcess
    port: int
    stopped: list[float] = field(default_factory=list)

    async def role(self, http: aiohttp.ClientSession) -> str:
        """What /readyz says of its role ("" while it cannot answer)."""
        try:
            async with http.get(f"http://127.0.0.1:{self.port}/readyz") as response:
                body = await response.json()
        except (aiohttp.ClientError, ValueError):
            return ""
        return body["checks"].get("role", {}).get("detail", "")


class Cluster:
    """The feed, the local Slack, the database, and the bots started against them."""

    def __init__(self, folder: Path, url: str, feed: BufferingFeed, slack: FakeSlack) -> None:
        self.folder, self.url, self.feed, self.slack = folder, url, feed, slack
        self.bots: list[Bot] = []
        self.http = aiohttp.ClientSession()

    def start(self, name: str) -> Bot:
        port = free_port()
        process = BotProcess(
            self.folder,
            DATABASE_URL=self.url,
            FEED_URLS=self.feed.url,
            SLACK_BOT_TOKEN=f"xoxb-{name}",
            SLACK_API_URL=self.slack.api_url,
            SLACK_MODE="http",
            SLACK_SIGNING_SECRET=SECRET,
            HTTP_PORT=str(port),
            ALERT_CHANNEL=CHANNEL,
            ALERT_FLOOD_LIMIT="1000",  # each stock-out its own message, to count them
        )
        bot = Bot(name, process, port)
        self.bots.append(bot)
        return bot

    async def wait_role(self, bot: Bot, role: str, within: float = 30) -> float:
        """Wait until `bot` says it has `role` ("leading", "standby"); returns when it did."""

        async def has_it() -> bool:
            assert bot.process.process.poll() is None, bot.process.output()
            return (await bot.role(self.http)).startswith(role)

        await eventually(has_it, within=within, what=f"bot {bot.name} {role}")
        return time.time()

    async def stored(self) -> list[str]:
        """The models of the stored sales, in the order committed."""
        conn = await asyncpg.connect(self.url)
        try:
            rows = await conn.fetch(
                "SELECT m.name FROM events e JOIN models m ON m.id = e.model_id ORDER BY e.id"
            )
        finally:
            await conn.close()
        return [r["name"] for r in rows]

    async def alerts(self) -> dict[int, str]:
        """Outbox id -> the model of the incident it is about, for every stored stock-out
        post, and whether each was delivered."""
        conn = await asyncpg.connect(self.url)
        try:
            rows = await conn.fetch(
                "SELECT o.id, i.model FROM outbox o JOIN incidents i ON i.id = o.incident_id "
                "WHERE o.op = 'post' AND i.kind = 'low'"
            )
        finally:
            await conn.close()
        return {r["id"]: r["model"] for r in rows}

    def posted(self) -> dict[int, list[str]]:
        """Outbox id -> the tokens of the processes that posted it to Slack."""
        by_id: dict[int, list[str]] = {}
        for call in self.slack.calls:
            if call.method != "chat.postMessage" or call.outcome != "ok":
                continue
            meta = call.args.get("metadata")
            if isinstance(meta, str):
                meta = json.loads(meta)
            outbox_id = (meta or {}).get("event_payload", {}).get("outbox_id")
            if outbox_id is not None:
                by_id.setdefault(int(outbox_id), []).append(call.token)
        return by_id

    async def close(self) -> None:
        for bot in self.bots:
            with contextlib.suppress(ProcessLookupError):
                bot.process.process.send_signal(signal.SIGCONT)
            if bot.process.process.poll() is None:
                bot.process.kill()
        await self.http.close()


@pytest.fixture
async def cluster(tmp_path, migrated_postgres_url):
    async with (
        BufferingFeed() as feed,
        FakeSlack(tokens=("xoxb-A", "xoxb-B"), post_rate=50) as slack,
    ):
        cluster = Cluster(tmp_path, migrated_postgres_url, feed, slack)
        try:
            yield cluster
        finally:
            await cluster.close()


async def _a_leader_and_a_standby(cluster: Cluster) -> tuple[Bot, Bot]:
    a = cluster.start("A")
    await cluster.wait_role(a, "leading")
    b = cluster.start("B")
    await cluster.wait_role(b, "standby")
    return a, b


async def stored_and_posted_once(cluster: Cluster, committed_before: list[str]) -> None:
    """After a kill and a takeover (or restart): every frame the last connection read is
    stored, what was committed before stays, no sale is stored twice, every stored stock-out
    became an alert, and every alert reached Slack exactly once."""
    written_last = {f["model"] for f in cluster.feed.written[-1]}
    await eventually(
        lambda: not cluster.feed.pending, within=30, what="the feed to have sent everything"
    )

    async def all_read_stored() -> bool:
        return written_last | {f["model"] for f in cluster.feed.written[-1]} <= set(
            await cluster.stored()
        )

    await eventually(all_read_stored, within=30, what="every frame read to be stored")
    stored = await cluster.stored()
    assert len(stored) == len(set(stored)), "a sale stored twice"
    assert stored[: len(committed_before)] == committed_before  # what was committed stays
    alerts = await cluster.alerts()
    stocked_out = {f["model"] for run in cluster.feed.written for f in run if f["inventory"] == 0}
    assert set(alerts.values()) == {m for m in stored if m in stocked_out}

    async def every_alert_posted() -> bool:
        return set(cluster.posted()) >= set(await cluster.alerts())

    await eventually(every_alert_posted, within=30, what="every alert in Slack")
    assert all(len(tokens) == 1 for tokens in cluster.posted().values()), "an alert posted twice"


async def test_kill_9_of_the_leader_the_standby_takes_over_and_nothing_is_lost_or_sent_twice(
    cluster,
):
    a, b = await _a_leader_and_a_standby(cluster)
    await cluster.feed.put(*sales(0, 400, outs_every=50))
    await eventually(
        lambda: len(cluster.posted()) >= 3, within=30, what="A's first stock-outs in Slack"
    )
    committed_by_a = await cluster.stored()
    a.process.kill()  # mid-stream: the feed still has frames, the outbox has posts to make
    killed = time.time()
    await cluster.feed.put(*sales(400, 400, outs_every=50))

    await cluster.wait_role(b, "leading")
    await stored_and_posted_once(cluster, committed_by_a)
    assert {t for tokens in cluster.posted().values() for t in tokens} == {"xoxb-A", "xoxb-B"}
    assert cluster.feed.connected_at[-1] - killed < 5  # B reads the feed within 5 s
    assert len(cluster.feed.connected_at) == 2  # A's connection, then B's
    assert b.process.process.poll() is None


async def test_kill_9_of_a_lone_bot_on_postgres_then_a_restart_loses_and_doubles_nothing(cluster):
    # One bot, no standby: killed mid-stream with posts still to make, started again.
    first = cluster.start("A")
    await cluster.wait_role(first, "leading")
    await cluster.feed.put(*sales(0, 400, outs_every=50))
    await eventually(
        lambda: len(cluster.posted()) >= 3, within=30, what="the first stock-outs in Slack"
    )
    committed = await cluster.stored()
    first.process.kill()
    assert len(await cluster.alerts()) > len(cluster.posted())  # posts left to make
    await cluster.feed.put(*sales(400, 400, outs_every=50))

    again = cluster.start("A")
    await cluster.wait_role(again, "leading")
    await stored_and_posted_once(cluster, committed)
    assert len(cluster.feed.connected_at) == 2


async def test_a_frozen_leader_is_replaced_and_once_thawed_neither_stores_nor_posts(cluster):
    a, b = await _a_leader_and_a_standby(cluster)
    await cluster.feed.put(*sales(0, 100, outs_every=10))

    async def committed_more_than_posted() -> bool:
        return cluster.posted() and len(await cluster.alerts()) >= 5

    await eventually(committed_more_than_posted, within=30, what="A's stock-outs")
    a.process.process.send_signal(signal.SIGSTOP)
    frozen = time.time()
    # Slack takes about one message a second in a channel: A froze with alerts to post.
    assert len(await cluster.alerts()) > len(cluster.posted())
    await cluster.feed.put(*sales(100, 200))

    await cluster.wait_role(b, "leading")
    await eventually(lambda: not cluster.feed.pending, within=30, what="B to read the feed")
    written_to_b = {f["model"] for f in cluster.feed.written[-1]}

    async def b_stored_all() -> bool:
        return written_to_b <= set(await cluster.stored())

    await eventually(b_stored_all, within=30, what="B to store what it read")
    before_thaw = await cluster.stored()
    thawed = time.time()
    a.process.process.send_signal(signal.SIGCONT)

    assert a.process.process.wait(30) == 1  # it learns it lost the lead, and stops
    assert "no longer leading" in a.process.output()
    after = await cluster.stored()
    assert after == before_thaw  # the thawed leader committed nothing (and B had all it read)
    late = [c for c in cluster.slack.calls if c.token == "xoxb-A" and c.at >= thawed]
    assert late == [], "the old leader called Slack after it was replaced"

    async def every_alert_posted() -> bool:  # B posts what A left
        return set(cluster.posted()) >= set(await cluster.alerts())

    await eventually(every_alert_posted, within=30, what="every alert in Slack")
    posted = cluster.posted()
    assert all(len(tokens) == 1 for tokens in posted.values()), "an alert posted twice"
    assert frozen < thawed


async def test_a_standby_answers_commands_and_hands_changes_to_the_leader(cluster):
    a, b = await _a_leader_and_a_standby(cluster)
    await cluster.feed.put(sale(1, 3), sale(2, 40))
    await eventually(
        lambda: not cluster.feed.pending, within=30, what="the leader to read the feed"
    )

    async def stored_both() -> bool:
        return {"M00001", "M00002"} <= set(await cluster.stored())

    await eventually(stored_both, within=30, what="the sales stored")
    standby = Driver(cluster.slack, url=f"http://127.0.0.1:{b.port}/slack/events", secret=SECRET)
    try:
        status, body, _ = await standby.command("/stock", "M00001")
        assert status == 200
        assert "ALDO Store 1" in body["text"]

        asked = time.monotonic()
        status, body, key = await standby.command("/thresholds", "set low=7")
        assert status == 200
        if "Working on it" in body.get("text", ""):  # the answer follows by response_url
            await cluster.slack.wait_for(lambda s: s.responses[key], within=30)
            body = cluster.slack.responses[key][0]
        answered = time.monotonic() - asked
        assert body["text"].startswith(":white_check_mark: Saved:"), body["text"]
        assert answered < 3.0  # Slack's 3 s, through the database and the leader's writer
    finally:
        await standby.close()

    conn = await asyncpg.connect(cluster.url)
    try:
        low = await conn.fetchval(
            "SELECT low FROM rules WHERE channel = $1 AND store = '' AND model = ''", CHANNEL
        )
        answered = await conn.fetchval("SELECT count(*) FROM requests WHERE answered_at > 0")
    finally:
        await conn.close()
    assert low == 7
    assert answered == 1  # handed over, applied by the leader once
    assert a.process.process.poll() is None


async def test_a_signed_change_replayed_to_the_other_replica_is_refused(cluster):
    a, b = await _a_leader_and_a_standby(cluster)
    fields = {
        "command": "/thresholds",
        "text": "set low=4",
        "channel_id": CHANNEL,
        "user_id": "U1",
        "user_name": "u1",
        "team_id": "T1",
        "api_app_id": "A1",
        "response_url": cluster.slack.response_url("replayed"),
        "trigger_id": "trigger-replayed",
    }
    body = urlencode(fields)
    stamp = str(int(time.time()))
    headers = {
        "Content-Type": "application/x-www-form-urlencoded",
        "X-Slack-Request-Timestamp": stamp,
        "X-Slack-Signature": SignatureVerifier(SECRET).generate_signature(
            timestamp=stamp, body=body
        ),
    }
    before = await _changes(cluster)
    statuses = []
    for bot in (a, b):  # the request as Slack sent it, then the same bytes to the other one
        url = f"http://127.0.0.1:{bot.port}/slack/events"
        async with cluster.http.post(url, data=body.encode(), headers=headers) as response:
            statuses.append(response.status)

    assert statuses == [200, 401]
    assert await _changes(cluster) == before + 1


async def _changes(cluster: Cluster) -> int:
    """Rule changes audited in the channel."""
    conn = await asyncpg.connect(cluster.url)
    try:
        return await conn.fetchval(
            "SELECT count(*) FROM config_changes WHERE channel = $1", CHANNEL
        )
    finally:
        await conn.close()
