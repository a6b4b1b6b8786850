"""The sender's records (Deliveries): the same methods and meaning from SQLite and PostgreSQL (the
`database` fixture runs each test on both), and in PostgreSQL a StorageError, never a crash,
while the database cannot answer."""

from __future__ import annotations

import asyncpg
import pytest

from bot.store.deliveries import StorageError, Undelivered
from bot.store.postgres.backend import PostgresBackend
from tests.backends import Database


async def opened(database: Database):
    store = database.new()
    await store.open()  # migrated
    await store.close()
    await database.execute(
        "INSERT INTO outbox (id, created_at, channel, op, incident_id, payload) VALUES "
        "(1, 10.0, 'C1', 'post', 1, '{}'), (2, 11.0, 'C1', 'update', 1, '{}'), "
        "(3, 12.0, 'C1', 'post', 2, '{}')"
    )
    records = store.deliveries()
    await records.open()
    return records


@pytest.fixture
async def deliveries(database):
    records = await opened(database)
    yield records
    await records.close()


@pytest.fixture
async def postgres_deliveries(migrated_postgres_url):
    records = await opened(Database("postgres", migrated_postgres_url))
    yield records
    await records.close()


async def test_rows_not_yet_delivered_come_back_with_what_was_tried(deliveries):
    assert [u.outbox_id for u in await deliveries.undelivered()] == [1, 2, 3]

    await deliveries.trying(1, 1, 20.0)
    await deliveries.trying(1, 2, 25.0)  # a second call: the first attempt's time is kept
    await deliveries.finish(2, "sent", 1, 21.0, 22.0, None)
    await deliveries.finish(3, "failed", 3, 21.0, 23.0, "channel_not_found")

    assert await deliveries.undelivered() == [Undelivered(1, "C1", "post", 1, "{}", 2, 20.0, 10.0)]
    await deliveries.finish(1, "superseded", 2, 20.0, 30.0, None)
    assert await deliveries.undelivered() == []


async def test_where_each_message_is_in_slack_is_remembered_and_replaced(deliveries):
    assert await deliveries.location(1) is None
    await deliveries.remember(1, "C1", "111.1")
    await deliveries.remember(1, "C1", "222.2")  # re-posted
    assert await deliveries.location(1) == ("C1", "222.2")


async def test_a_postgresql_database_that_cannot_answer_is_a_storage_error_until_it_can(
    postgres_deliveries, migrated_postgres_url
):
    deliveries = postgres_deliveries
    keeper = await asyncpg.connect(migrated_postgres_url)
    name = await keeper.fetchval("SELECT current_database()")
    try:
        await keeper.execute(f"ALTER DATABASE {name} CONNECTION LIMIT 0")
        await keeper.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE application_name = 'inventory-bot sender'"
        )
        with pytest.raises(StorageError):
            await deliveries.trying(1, 1, 20.0)
        with pytest.raises(StorageError):
            await deliveries.undelivered()
    finally:
        await keeper.execute(f"ALTER DATABASE {name} CONNECTION LIMIT -1")
        await keeper.close()
    await deliveries.trying(1, 1, 20.0)  # the pool makes a new connection
    assert (await deliveries.undelivered())[0].attempts == 1


async def test_records_before_open_are_a_storage_error(migrated_postgres_url):
    closed = PostgresBackend(migrated_postgres_url).deliveries()
    with pytest.raises(StorageError, match="not open"):
        await closed.location(1)
