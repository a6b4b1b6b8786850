"""A change asked of a process that does not lead reaches the leader in order and its answer
(or its refusal) comes back, through the requests table and NOTIFY."""

from __future__ import annotations

import asyncio
import time

import pytest

from bot.core.alerting.actions import Acknowledge, Mute
from bot.core.errors import CommandError, Unsure
from bot.core.rules import Change
from bot.store.action_codec import encode_action, encode_refusal, encode_result
from bot.store.postgres import handover
from bot.store.postgres.connect import connect
from bot.store.postgres.handover import ANSWER_WITHIN, Asker, Inbox, NoLeader
from tests.helpers import eventually


async def waiting(url: str) -> int:
    """Requests not answered yet."""
    conn = await connect(url)
    try:
        return await conn.fetchval("SELECT count(*) FROM requests WHERE answered_at IS NULL")
    finally:
        await conn.close()


@pytest.fixture
async def asker(migrated_postgres_url):
    made = Asker(migrated_postgres_url, name="standby")
    await made.open()
    yield made
    await made.close()


async def answer(url: str, number: int, *, result: object = None, error: Exception | None = None):
    """What the leader's batch writes with the change it applied."""
    conn = await connect(url)
    try:
        await conn.execute(
            "UPDATE requests SET answered_at = $2, result = $3, error = $4 WHERE id = $1",
            number,
            time.time(),
            None if error else encode_result(result),
            encode_refusal(error) if error else None,
        )
        await conn.execute("SELECT pg_notify('answers', $1)", str(number))
    finally:
        await conn.close()


async def applied_in_two_looks(url: str, *, term: int) -> list[int]:
    """The requests an Inbox of `term` submits before it has looked at the table twice."""
    applied: list[int] = []

    async def submit(action, at, number) -> None:
        applied.append(number)

    inbox = Inbox(url, submit, name=f"leader of term {term}", term=term)
    running = asyncio.create_task(inbox.run())
    try:
        await eventually(lambda: inbox.looks >= 2, what="the inbox to look twice")
    finally:
        running.cancel()
    return applied


async def test_asked_changes_reach_the_leader_in_order_and_their_answers_come_back(
    asker, migrated_postgres_url
):
    seen: list[tuple[object, int]] = []

    async def submit(action, at, number) -> None:
        seen.append((action, number))
        if isinstance(action, Mute):
            await answer(migrated_postgres_url, number, error=CommandError("#7 is not muted"))
        else:
            await answer(migrated_postgres_url, number, result=Change("C", "U1", at, "x", "y"))

    inbox = asyncio.create_task(Inbox(migrated_postgres_url, submit, name="leader", term=0).run())
    try:
        done = await asyncio.wait_for(asker.ask(Acknowledge(7, "U1"), time.time()), 10)
        with pytest.raises(CommandError, match="#7 is not muted"):
            await asyncio.wait_for(asker.ask(Mute(7, "U1"), time.time()), 10)
    finally:
        inbox.cancel()

    assert isinstance(done, Change)
    assert [(type(a).__name__, n) for a, n in seen] == [("Acknowledge", 1), ("Mute", 2)]


async def test_a_request_asked_before_any_leader_was_there_is_taken_when_one_is(
    asker, migrated_postgres_url
):
    asking = asyncio.create_task(asker.ask(Acknowledge(7, "U1"), time.time()))
    await eventually(lambda: waiting(migrated_postgres_url), what="the request to be written")
    assert not asking.done()  # no leader yet: the request waits in the table

    async def submit(action, at, number) -> None:
        await answer(migrated_postgres_url, number, result=None)

    inbox = asyncio.create_task(Inbox(migrated_postgres_url, submit, name="leader", term=0).run())
    try:
        assert await asyncio.wait_for(asking, 10) is None
    finally:
        inbox.cancel()


async def test_a_request_older_than_its_asker_waits_is_refused_not_applied(
    asker, migrated_postgres_url
):
    applied = []

    async def submit(action, at, number) -> None:
        applied.append(number)

    long_ago = time.time() - ANSWER_WITHIN - 1
    inbox = asyncio.create_task(Inbox(migrated_postgres_url, submit, name="leader", term=0).run())
    try:
        with pytest.raises(CommandError, match="asked too long ago"):
            await asyncio.wait_for(asker.ask(Acknowledge(7, "U1"), long_ago), 10)
    finally:
        inbox.cancel()
    assert applied == []


async def test_an_asker_whose_connection_the_server_ended_connects_again(
    asker, migrated_postgres_url, postgres_server
):
    # What a server restart (or an administrator's pg_terminate_backend) does to a standby's
    # connection for requests, opened once at start.
    postgres_server.admin(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
        "WHERE application_name = 'standby requests'"
    )

    async def submit(action, at, number) -> None:
        await answer(migrated_postgres_url, number, result=Change("C", "U1", at, "x", "y"))

    inbox = asyncio.create_task(Inbox(migrated_postgres_url, submit, name="leader", term=0).run())
    try:
        done = await asyncio.wait_for(asker.ask(Acknowledge(7, "U1"), time.time()), 10)
    finally:
        inbox.cancel()
    assert isinstance(done, Change)
    assert await waiting(migrated_postgres_url) == 0


async def test_a_request_written_after_a_later_numbered_one_is_still_taken(migrated_postgres_url):
    # Two standbys asking at once: each draws its number, then writes its request; the later
    # number may land first (as two transactions' identity values commit in either order).
    seen: list[int] = []
    heard = asyncio.Condition()

    async def submit(action, at, number) -> None:
        seen.append(number)
        async with heard:
            heard.notify_all()

    conn = await connect(migrated_postgres_url)
    inbox = asyncio.create_task(Inbox(migrated_postgres_url, submit, name="leader", term=0).run())
    try:
        first, second = [
            await conn.fetchval("SELECT nextval(pg_get_serial_sequence('requests', 'id'))")
            for _ in range(2)
        ]
        for number in (second, first):
            await conn.execute(
                "INSERT INTO requests (id, at, action) OVERRIDING SYSTEM VALUE VALUES ($1, $2, $3)",
                number,
                time.time(),
                encode_action(Acknowledge(number, "U1")),
            )
            await conn.execute("SELECT pg_notify('requests', $1)", str(number))
            async with heard:
                await asyncio.wait_for(heard.wait_for(lambda n=number: n in seen), 10)
    finally:
        inbox.cancel()
        await conn.close()
    assert seen == [second, first]


async def test_a_request_its_asker_gave_up_on_is_never_applied(
    asker, migrated_postgres_url, monkeypatch
):
    # The asker says "not applied" when it gives up: no leader may apply it after that, even
    # one whose clock runs behind the standby's (the request looks fresh to it).
    monkeypatch.setattr(handover, "ANSWER_WITHIN", 0.2)
    with pytest.raises(NoLeader) as refused:
        await asyncio.wait_for(asker.ask(Acknowledge(7, "U1"), time.time() + 30), 10)

    assert await applied_in_two_looks(migrated_postgres_url, term=0) == []
    assert await waiting(migrated_postgres_url) == 0
    assert "so that change was not made" in str(refused.value)  # a Refusal: nothing changed


async def test_a_request_the_leader_took_before_its_asker_gave_up_gets_its_answer(
    asker, migrated_postgres_url, monkeypatch, caplog
):
    # The leader took it in time, but its writer is slow (a backlog): the change will be made,
    # so the asker must not tell the person it was not.
    monkeypatch.setattr(handover, "ANSWER_WITHIN", 0.2)
    asking = asyncio.create_task(asker.ask(Acknowledge(7, "U1"), time.time()))

    async def submit(action, at, number) -> None:
        await eventually(
            lambda: asking.done() or "the leader has taken it" in caplog.text,
            what="the asker's deadline",
        )
        await answer(migrated_postgres_url, number, result=Change("C", "U1", at, "x", "y"))

    inbox = asyncio.create_task(Inbox(migrated_postgres_url, submit, name="leader", term=0).run())
    try:
        done = await asyncio.wait_for(asking, 10)
    finally:
        inbox.cancel()
    assert isinstance(done, Change)


async def test_a_request_taken_by_a_leader_that_was_replaced_is_applied_once_by_the_next(
    asker, migrated_postgres_url
):
    applied: list[tuple[str, int]] = []
    taken = asyncio.Event()

    async def dies_before_committing(action, at, number) -> None:
        applied.append(("old", number))
        taken.set()
        await asyncio.Event().wait()  # frozen, then killed: its batch never commits

    async def submit(action, at, number) -> None:
        applied.append(("new", number))
        await answer(migrated_postgres_url, number, result=None)

    asking = asyncio.create_task(asker.ask(Acknowledge(7, "U1"), time.time()))
    old = asyncio.create_task(
        Inbox(migrated_postgres_url, dies_before_committing, name="old", term=0).run()
    )
    await asyncio.wait_for(taken.wait(), 10)
    conn = await connect(migrated_postgres_url)
    try:
        await conn.execute("UPDATE leadership SET term = 1")  # a standby took over
    finally:
        await conn.close()
    new = asyncio.create_task(Inbox(migrated_postgres_url, submit, name="new", term=1).run())
    try:
        assert await asyncio.wait_for(asking, 10) is None
    finally:
        old.cancel()
        new.cancel()
    assert applied == [("old", 1), ("new", 1)]


async def test_an_inbox_of_a_term_gone_by_takes_nothing(asker, migrated_postgres_url):
    conn = await connect(migrated_postgres_url)
    try:
        await conn.execute("UPDATE leadership SET term = 2")
    finally:
        await conn.close()
    asking = asyncio.create_task(asker.ask(Acknowledge(7, "U1"), time.time()))
    await eventually(lambda: waiting(migrated_postgres_url), what="the request to be written")
    try:
        assert await applied_in_two_looks(migrated_postgres_url, term=1) == []  # a thawed one
    finally:
        asking.cancel()


async def test_an_asker_whose_request_was_taken_but_never_answered_says_it_cannot_tell(
    asker, migrated_postgres_url, monkeypatch
):
    # The leader took it and went silent, and no other took the lead: the change may still
    # be made (its writer may yet commit), so "not made" would be a guess.
    monkeypatch.setattr(handover, "ANSWER_WITHIN", 0.2)
    monkeypatch.setattr(handover, "WAIT_FOR_TAKEN", 0.5)

    async def submit(action, at, number) -> None:
        await asyncio.Event().wait()

    inbox = asyncio.create_task(Inbox(migrated_postgres_url, submit, name="leader", term=0).run())
    try:
        with pytest.raises(Unsure, match="cannot tell"):
            await asyncio.wait_for(asker.ask(Acknowledge(7, "U1"), time.time()), 10)
    finally:
        inbox.cancel()


async def test_a_refused_change_leaves_the_inbox_taking_the_next_at_once(
    asker, migrated_postgres_url
):
    async def submit(action, at, number) -> None:
        # What the leader's submit does: the batch writes the refusal as the answer, then
        # the refusal is raised to whoever awaits the change.
        if isinstance(action, Mute):
            await answer(migrated_postgres_url, number, error=CommandError("#7 is not muted"))
            raise CommandError("#7 is not muted")
        await answer(migrated_postgres_url, number, result=None)

    inbox = asyncio.create_task(Inbox(migrated_postgres_url, submit, name="leader", term=0).run())
    try:
        with pytest.raises(CommandError, match="not muted"):
            await asyncio.wait_for(asker.ask(Mute(7, "U1"), time.time()), 10)
        assert await asyncio.wait_for(asker.ask(Acknowledge(7, "U1"), time.time()), 10) is None
        assert not inbox.done()
    finally:
        inbox.cancel()
