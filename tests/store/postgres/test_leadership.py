"""One leader at a time through PostgreSQL's session advisory lock, a term that rises at each
takeover, and a lead lost at once when its connection goes or its session falls silent."""

from __future__ import annotations

import asyncio

import pytest

from bot.store.postgres.connect import connect
from bot.store.postgres.leadership import Leadership
from tests.helpers import eventually


def lock_waiters(server) -> list[str]:
    """The sessions waiting for a lock now."""
    rows = server.admin(
        "SELECT application_name FROM pg_stat_activity WHERE wait_event_type = 'Lock'"
    )
    return [name for (name,) in rows]


@pytest.fixture
async def leaderships(migrated_postgres_url):
    made: list[Leadership] = []

    def make(name: str, **options) -> Leadership:
        leadership = Leadership(migrated_postgres_url, name=name, **options)
        made.append(leadership)
        return leadership

    yield make
    for leadership in made:
        await leadership.release()


async def test_one_leads_the_other_waits_then_takes_the_next_term(leaderships, postgres_server):
    first, second = leaderships("first"), leaderships("second")
    assert await first.wait_to_lead() == 1
    waiting = asyncio.create_task(second.wait_to_lead())
    await eventually(lambda: lock_waiters(postgres_server) == ["second leadership"])
    assert not waiting.done()  # a standby waits on the lock as long as the leader holds it
    assert first.valid()

    await first.release()

    assert await asyncio.wait_for(waiting, 10) == 2
    assert second.valid()


async def test_a_leader_whose_connection_is_killed_knows_at_once_and_is_replaced(
    leaderships, postgres_server
):
    first, second = leaderships("first"), leaderships("second")
    await first.wait_to_lead()
    waiting = asyncio.create_task(second.wait_to_lead())

    postgres_server.admin(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
        "WHERE application_name = 'first leadership'"
    )

    await asyncio.wait_for(first.lost.wait(), 10)
    assert not first.valid()
    assert await asyncio.wait_for(waiting, 10) == 2


async def test_a_silent_leader_loses_its_lock_to_the_server_and_its_lease_first(leaderships):
    frozen = leaderships("frozen", session_timeout=1.0)
    standby = leaderships("standby", session_timeout=1.0)
    await frozen.wait_to_lead()
    frozen._beating.cancel()  # what SIGSTOP does to the heartbeat: nothing more is sent
    waiting = asyncio.create_task(standby.wait_to_lead())

    took = await asyncio.wait_for(waiting, 10)  # the server ends the silent session

    assert took == 2
    assert not frozen.valid()  # its lease (half the server's wait) ran out before that


async def test_a_term_taken_elsewhere_ends_the_lead(leaderships, migrated_postgres_url):
    leader = leaderships("leader")
    await leader.wait_to_lead()
    other = await connect(migrated_postgres_url)
    try:
        await other.execute("UPDATE leadership SET term = term + 1")
    finally:
        await other.close()
    await asyncio.wait_for(leader.lost.wait(), 10)
    assert not leader.valid()
