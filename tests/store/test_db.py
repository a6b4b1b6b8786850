"""Opening and migrating the database."""

import sqlite3

import pytest

from bot.store import db as database
from bot.store.schema import SCHEMA_VERSION


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
        with pytest.raises(database.SchemaTooNew, match="version 99 is newer"):
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
