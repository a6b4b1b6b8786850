"""Opening a store, on SQLite and on PostgreSQL: what older versions left is tidied at start,
and a store names its database without the password."""

from __future__ import annotations

import pytest

from bot.store.postgres.backend import PostgresBackend
from bot.store.postgres.connect import ConnectError


async def test_feeds_stored_with_their_credentials_are_renamed_with_their_alerts(database):
    store = database.new()
    await store.open()  # migrated
    await store.close()
    raw, other = "wss://bob:hunter22@feed/s", "wss://amy:other-pass@feed/s"
    await database.execute(
        "INSERT INTO feeds VALUES (1, ?, 0), (2, ?, 0), (3, 'ws://plain/', 0)", raw, other
    )
    await database.execute(
        "INSERT INTO incidents (id, channel, kind, store, opened_at, fired_at, shown, detail) "
        "VALUES (1, 'C-OPS', 'feed_down', ?, 0, 0, '', '{}'), "
        "(2, 'C-OPS', 'bad_frames', ?, 0, 0, '', '{}')",
        raw,
        other,
    )
    for _ in range(2):  # at every start: the second finds nothing to do
        store = database.new()
        await store.open()
        await store.close()

    assert await database.rows("SELECT id, url FROM feeds ORDER BY id") == [
        (1, "wss://***@feed/s"),
        (2, "wss://***@feed/s #2"),
        (3, "ws://plain/"),
    ]
    assert await database.rows("SELECT store FROM incidents ORDER BY id") == [
        ("wss://***@feed/s",),
        ("wss://***@feed/s #2",),
    ]


async def test_a_postgresql_store_shows_its_url_without_the_password(migrated_postgres_url):
    password = migrated_postgres_url.split(":")[2].split("@")[0]
    store = PostgresBackend(migrated_postgres_url)
    assert password not in store.shown
    assert store.shown == migrated_postgres_url.replace(password, "***")

    refused = PostgresBackend(migrated_postgres_url.replace(password, "hunter2"))
    with pytest.raises(ConnectError) as error:
        await refused.open()
    assert str(error.value).startswith("DATABASE_URL=postgresql://bot:***@")
    assert "refused the password" in str(error.value)
    assert "hunter2" not in str(error.value)
