"""kill -9 between commit and delivery: after a restart the alert reaches Slack exactly once,
whether or not the killed call had reached Slack."""

import json
import sqlite3

import pytest

from tests.fakes.slack import FakeSlack, Fault
from tests.helpers import BotProcess, ScriptedFeed, eventually

STORES = "C-STORES"


@pytest.fixture
def running():
    """Bot processes a test started; any still running at the end are killed."""
    bots: list[BotProcess] = []
    yield bots
    for bot in bots:
        if bot.process.poll() is None:
            bot.kill()


def deliveries(database) -> list[tuple]:
    with sqlite3.connect(f"file:{database}?mode=ro", uri=True) as db:
        try:
            return db.execute(
                "SELECT o.id, o.op, d.state, d.attempts FROM outbox o "
                "LEFT JOIN deliveries d ON d.outbox_id = o.id ORDER BY o.id"
            ).fetchall()
        except sqlite3.OperationalError:
            return []


async def kill_mid_post_and_restart(tmp_path, slack, feed, running, *, reached_slack, between):
    """A bot process posts an alert; the post hangs (taken effect or not) and the bot is
    killed with kill -9; `between()` runs; a new process starts and delivers the row."""
    slack.fail("chat.postMessage", Fault(apply=reached_slack, hang=True))
    env = {
        "FEED_URLS": feed.url,
        "SLACK_BOT_TOKEN": slack.token,
        "SLACK_API_URL": slack.api_url,
        "SLACK_MODE": "http",
        "SLACK_SIGNING_SECRET": "test-secret",
        "ALERT_CHANNEL": STORES,
        "SLACK_TIMEOUT_SECONDS": "60",
    }
    bot = BotProcess(tmp_path, **env)
    running.append(bot)
    await feed.wait_for_connections(1)
    await feed.connections[0].send(
        json.dumps({"store": "ALDO Maine Mall", "model": "ADERI", "inventory": 0})
    )
    await slack.wait_for(lambda s: any(c.outcome == "stalled" for c in s.calls), within=20)
    # Committed, and the attempt recorded before the call went out:
    assert deliveries(bot.database) == [(1, "post", "trying", 1)]
    bot.kill()
    between()

    restarted = BotProcess(tmp_path, **env)
    running.append(restarted)
    await eventually(
        lambda: deliveries(bot.database) == [(1, "post", "sent", 2)],
        within=20,
        what="the restarted bot to deliver the row",
    )
    assert restarted.terminate() == 0


def the_one_post(slack: FakeSlack):
    """The bot's only message in the channel, as the restarted bot left it."""
    (post,) = [m for m in slack.posts(STORES) if m.user == "UBOT"]
    assert post.text.startswith("Out of stock: ADERI at ALDO Maine Mall")
    assert post.metadata["event_payload"] == {"outbox_id": 1}
    return post


@pytest.mark.parametrize("reached_slack", [False, True], ids=["call-lost", "answer-lost"])
async def test_a_post_cut_off_by_kill_9_is_delivered_once_after_restart(
    tmp_path, reached_slack, running
):
    async with FakeSlack() as slack, ScriptedFeed([[], []]) as feed:
        # The first post hangs: never answered, having taken effect or not.
        await kill_mid_post_and_restart(
            tmp_path, slack, feed, running, reached_slack=reached_slack, between=lambda: None
        )

    the_one_post(slack)
    post_calls = [c for c in slack.calls if c.method == "chat.postMessage"]
    looked = [c for c in slack.calls if c.method == "conversations.history"]
    assert len(looked) == 1  # the restarted bot looked before posting again
    assert len(post_calls) == (1 if reached_slack else 2)


@pytest.mark.parametrize("reached_slack", [False, True], ids=["call-lost", "answer-lost"])
@pytest.mark.parametrize("where", ["public-never-joined", "private-invited"])
async def test_a_post_cut_off_by_kill_9_is_delivered_once_wherever_it_went(
    tmp_path, where, reached_slack, running
):
    # A public channel the bot posts in through chat:write.public without being a member:
    # Slack refuses it the channel's history (not_in_channel) until it joins. A private channel
    # it was invited to: it reads the history with groups:history.
    kind = {"not_member": (STORES,)} if where == "public-never-joined" else {"private": (STORES,)}
    async with FakeSlack(**kind) as slack, ScriptedFeed([[], []]) as feed:

        def chatter():  # people talk meanwhile: the post, if there, is three pages back
            for n in range(450):
                slack.say(STORES, f"chatter {n}")

        await kill_mid_post_and_restart(
            tmp_path, slack, feed, running, reached_slack=reached_slack, between=chatter
        )

    the_one_post(slack)
    history = [c.outcome for c in slack.calls if c.method == "conversations.history"]
    joins = [c.outcome for c in slack.calls if c.method == "conversations.join"]
    if where == "public-never-joined":
        assert history == ["not_in_channel", "ok", "ok", "ok"]  # refused, joined, 3 pages
        assert joins == ["ok"]
        assert STORES not in slack.not_member
    else:
        assert history == ["ok", "ok", "ok"]
        assert joins == []
    post_calls = [c for c in slack.calls if c.method == "chat.postMessage"]
    assert len(post_calls) == (1 if reached_slack else 2)
