"""After an answer is lost, the sender looks for the message before posting it again; where
Slack will not let it look, the row waits instead of showing the alert twice."""

import asyncio

from tests.fakes.slack import FakeSlack, Fault
from tests.helpers import eventually
from tests.slack.outbox import Outbox, sending

C = "C-STORES"


async def test_a_lost_answer_in_a_channel_it_cannot_read_waits_rather_than_post_twice(tmp_path):
    outbox = await Outbox(tmp_path / "inventory.db").create()
    # A public channel the bot posts in without being a member, and no channels:join: Slack
    # will not show it the channel's history.
    async with FakeSlack(not_member=(C,)) as slack:
        slack.scopes.discard("channels:join")
        slack.fail("chat.postMessage", Fault(apply=True, delay=1.0))  # posted; answer too late
        async with sending(outbox, slack, slack_timeout=0.5) as sender:
            sender.enqueue(outbox.commit((C, "post", 1, "Out of stock: ADERI")))
            await eventually(sender.problems, within=15, what="the look-up to be refused")

            assert sender.problems() == {C: "not_in_channel"}
            assert sender.pending() == 1  # kept, to go once someone invites the bot
        looked = [c.outcome for c in slack.calls if c.method == "conversations.history"]
        joined = [c.outcome for c in slack.calls if c.method == "conversations.join"]

    assert [m.text for m in slack.posts(C)] == ["Out of stock: ADERI"]  # once
    assert [c.method for c in slack.calls].count("chat.postMessage") == 1
    assert looked == ["not_in_channel"]
    assert joined == ["missing_scope"]
    assert outbox.states() == {1: ("trying", 1, None)}


async def test_once_invited_the_waiting_row_is_found_not_posted_again(tmp_path):
    outbox = await Outbox(tmp_path / "inventory.db").create()
    async with FakeSlack(not_member=(C,)) as slack:
        slack.scopes.discard("channels:join")
        slack.fail("chat.postMessage", Fault(apply=True, delay=1.0))
        async with sending(outbox, slack, slack_timeout=0.5) as sender:
            sender.enqueue(outbox.commit((C, "post", 1, "Out of stock: ADERI")))
            await eventually(sender.problems, within=15, what="the look-up to be refused")
        slack.not_member.discard(C)  # someone invites the bot; the bot restarts
        async with sending(outbox, slack) as sender:
            await asyncio.wait_for(sender.wait_idle(), 10)

    assert [m.text for m in slack.posts(C)] == ["Out of stock: ADERI"]
    assert [c.method for c in slack.calls].count("chat.postMessage") == 1
    assert outbox.states()[1][0] == "sent"
