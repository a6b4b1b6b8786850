"""One budget per Slack method for the whole workspace: every channel's edits share it, a
Slack that allows exactly that budget never answers 429, and edits that wait for it coalesce
into each message's latest state."""

import asyncio
import itertools
import time

from bot.core.delivery import Budgets, Limit
from bot.slack.calls import SlackCalls
from tests.fakes.rate_limits import Tier
from tests.fakes.slack import FakeSlack
from tests.slack.outbox import Outbox, sending

C = "C-STORES"


async def test_edits_waiting_for_the_budget_send_only_the_latest_state(tmp_path):
    outbox = await Outbox(tmp_path / "inventory.db").create()
    async with FakeSlack() as slack:
        budgets = Budgets({"chat.update": Limit(1, per=1.0)})
        async with sending(outbox, slack, budgets=budgets) as sender:
            sender.enqueue(outbox.commit((C, "post", 1, "Low stock: 9 left")))
            sender.enqueue(outbox.commit((C, "update", 1, "Low stock: 8 left")))
            await asyncio.wait_for(sender.wait_idle(), 10)
            # The budget is spent for a second: these wait, and only the last is worth sending.
            sender.enqueue(
                outbox.commit(
                    (C, "update", 1, "Low stock: 7 left"),
                    (C, "update", 1, "Low stock: 6 left"),
                    (C, "update", 1, "Out of stock"),
                )
            )
            await asyncio.wait_for(sender.wait_idle(), 10)

    (message,) = slack.posts(C)
    assert message.text == "Out of stock"
    assert [e["text"] for e in message.edits] == ["Low stock: 9 left", "Low stock: 8 left"]
    edits = [c for c in slack.calls if c.method == "chat.update"]
    assert len(edits) == 2
    assert edits[1].at - edits[0].at >= 1.0
    assert {n: state for n, (state, _, _) in outbox.states().items()} == {
        1: "sent",
        2: "sent",
        3: "superseded",
        4: "superseded",
        5: "sent",
    }


async def test_every_channel_shares_the_budget_and_slack_never_says_429(tmp_path):
    outbox = await Outbox(tmp_path / "inventory.db").create()
    channels = ["C-STORES", "C-MERCH", "C-OPS"]
    tight = {"chat.update": Tier(5, per=2.0)}  # Slack allows 5 edits in any 2 s, workspace-wide
    async with FakeSlack(tiers=tight) as slack:
        budgets = Budgets({"chat.update": Limit(5, per=2.0)})
        async with sending(outbox, slack, budgets=budgets) as sender:
            incidents = list(enumerate(itertools.product(channels, range(2)), start=1))
            posts = [(ch, "post", n, f"{n}: new") for n, (ch, _) in incidents]
            sender.enqueue(outbox.commit(*posts))
            for step in range(1, 4):
                sender.enqueue(
                    outbox.commit(*[(ch, "update", n, f"{n}: v{step}") for n, (ch, _) in incidents])
                )
            await asyncio.wait_for(sender.wait_idle(), 30)

    assert [c.outcome for c in slack.calls if c.outcome != "ok"] == []  # no 429, nothing else
    assert sorted(m.text for m in slack.posts()) == sorted(f"{n}: v3" for n, _ in incidents)
    edits = sorted(c.at for c in slack.calls if c.method == "chat.update")
    assert max(sum(1 for t in edits if start <= t < start + 2.0) for start in edits) <= 5


async def test_a_call_that_waited_for_its_budget_checks_the_lead_again_before_it_goes():
    # Two bots: a leader's Slack calls go only while its lead is confirmed. A wait for the
    # budget can outlast the lead's lease (1.5 s), so the lead is checked after that wait, last.
    checked: list[float] = []

    async def leading() -> None:
        checked.append(time.monotonic())

    calls = SlackCalls(
        None, None, Budgets({"chat.update": Limit(1, per=0.3)}), time.monotonic, leading
    )
    await calls.pace("chat.update")
    checked.clear()
    started = time.monotonic()
    await calls.pace("chat.update")  # the budget is spent: this one waits 0.3 s

    assert calls.made["chat.update"] == 2
    assert checked[-1] - started >= 0.25  # the last check came after the wait
