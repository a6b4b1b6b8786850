"""Opening and migrating the database."""

import sqlite3

import pytest

from bot.store.errors import SchemaTooNew
from bot.store.sqlite import connect as database
from bot.store.sqlite.schema import MIGRATIONS, SCHEMA_VERSION


async def test_a_new_database_is_created_in_wal_mode_at_the_current_version(tmp_path):
    path = tmp_path / "sub" / "inventory.db"
    conn = await database.connect(path)
    try:
        assert await database.migrate(conn) == 0
        async with conn.execute("PRAGMA journal_mode") as cur:
            assert (await cur.fetchone())[0] == "wal"
    finally:
        await conn.close()

    with sqlite3.connect(path) as check:
        assert check.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION


async def test_migrating_twice_changes_nothing(tmp_path):
    path = tmp_path / "inventory.db"
    for expected_before in (0, SCHEMA_VERSION):
        conn = await database.connect(path)
        assert await database.migrate(conn) == expected_before
        await conn.close()


async def test_a_database_from_a_newer_bot_is_refused_untouched(tmp_path):
    path = tmp_path / "inventory.db"
    with sqlite3.connect(path) as raw:
        raw.execute("PRAGMA user_version = 99")
        raw.execute("CREATE TABLE keepme (x)")
    conn = await database.connect(path)
    try:
        with pytest.raises(SchemaTooNew, match="version 99 is newer"):
            await database.migrate(conn)
    finally:
        await conn.close()

    with sqlite3.connect(path) as check:
        tables = {row[0] for row in check.execute("SELECT name FROM sqlite_master")}
    assert tables == {"keepme"}


async def test_a_reader_cannot_write(tmp_path):
    path = tmp_path / "inventory.db"
    writer = await database.connect(path)
    await database.migrate(writer)
    reader = await database.connect(path, readonly=True)
    try:
        with pytest.raises(sqlite3.OperationalError, match="readonly"):
            await reader.execute("DELETE FROM events")
    finally:
        await reader.close()
        await writer.close()


async def test_feeds_stored_with_their_credentials_are_renamed_with_their_alerts(tmp_path):
    path = tmp_path / "inventory.db"
    raw, other = "wss://bob:hunter22@feed/s", "wss://amy:other-pass@feed/s"
    db = await database.connect(path)
    try:
        await database.migrate(db)
        await db.executemany(
            "INSERT INTO feeds VALUES (?, ?, 0)", [(1, raw), (2, other), (3, "ws://plain/")]
        )
        await db.executemany(
            "INSERT INTO incidents (id, channel, kind, store, opened_at, fired_at, shown, detail)"
            " VALUES (?, 'C-OPS', ?, ?, 0, 0, '', '{}')",
            [(1, "feed_down", raw), (2, "bad_frames", other)],
        )
        await database.hide_feed_credentials(db)
        await database.hide_feed_credentials(db)  # at every start: the second finds nothing
    finally:
        await db.close()
    with sqlite3.connect(path) as check:
        assert check.execute("SELECT id, url FROM feeds ORDER BY id").fetchall() == [
            (1, "wss://***@feed/s"),
            (2, "wss://***@feed/s #2"),
            (3, "ws://plain/"),
        ]
        assert check.execute("SELECT store FROM incidents ORDER BY id").fetchall() == [
            ("wss://***@feed/s",),
            ("wss://***@feed/s #2",),
        ]


async def test_suggestion_ids_from_version_4_are_never_given_again(tmp_path):
    path = tmp_path / "inventory.db"
    with sqlite3.connect(path) as old:  # version 4: suggestion 7 stands, 42 became a transfer
        for migration in MIGRATIONS[:4]:
            old.executescript(migration)
        old.execute("PRAGMA user_version = 4")
        old.execute(
            "INSERT INTO suggestions VALUES (7, 'ADERI', 'A', 'B', 3, 'why', 1, 1, 9, 6, 1, 4,"
            " 9, 1, NULL, 0)"
        )
        old.execute(
            "INSERT INTO transfers (id, model, source, target, quantity, why, status, by, at,"
            " source_last, target_low, sent, source_gone, suggestion_id)"
            " VALUES (1, 'ADERI', 'A', 'C', 3, 'why', 'received', 'U1', 0, 9, 1, 1, 0, 42)"
        )
    db = await database.connect(path)
    try:
        await database.migrate(db)
    finally:
        await db.close()
    with sqlite3.connect(path) as check:
        assert check.execute("SELECT id, model FROM suggestions").fetchall() == [(7, "ADERI")]
        assert check.execute(  # the next suggestion is S43
            "SELECT seq FROM sqlite_sequence WHERE name = 'suggestions'"
        ).fetchall() == [(42,)]
