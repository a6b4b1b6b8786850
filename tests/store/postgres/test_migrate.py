"""Migrating a PostgreSQL database: once, under a lock, never past what the bot knows."""

import asyncio
import sqlite3
import time

import asyncpg
import pytest

from bot.store.errors import SchemaTooNew
from bot.store.postgres import schema as postgres_schema
from bot.store.postgres.connect import connect
from bot.store.postgres.migrate import MIGRATION_LOCK, migrate
from bot.store.postgres.partitions import DAY
from bot.store.postgres.schema import SCHEMA_VERSION
from bot.store.rows import LOW_LISTED
from bot.store.sqlite import schema as sqlite_schema
from tests.helpers import eventually

# Where the PostgreSQL schema differs from SQLite's on purpose (bot/store/postgres/schema.py).
RENAMED = {("config_changes", "user"): "user_id"}
ONLY_IN_POSTGRES = {
    "low_levels",
    "schema_migrations",
    "leadership",
    "requests",
    "writer_progress",
    "slack_signatures",
}
ADDED_IN_POSTGRES = {"outbox": ["term"]}  # two bots: the leader's term


async def tables(conn: asyncpg.Connection) -> dict[str, list[str]]:
    """Table -> its columns in order, leaving out event partitions (they are events)."""
    rows = await conn.fetch(
        "SELECT c.relname, a.attname FROM pg_class c "
        "JOIN pg_namespace n ON n.oid = c.relnamespace AND n.nspname = 'public' "
        "JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped "
        "WHERE c.relkind IN ('r', 'p') AND NOT c.relispartition ORDER BY c.relname, a.attnum"
    )
    found: dict[str, list[str]] = {}
    for table, column in rows:
        found.setdefault(table, []).append(column)
    return found


def sqlite_tables() -> dict[str, list[str]]:
    """The SQLite schema at its latest version, table -> columns in order."""
    db = sqlite3.connect(":memory:")
    for migration in sqlite_schema.MIGRATIONS:
        db.executescript(migration)
    names = [
        name
        for (name,) in db.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
        )
    ]
    return {name: [row[1] for row in db.execute(f"PRAGMA table_info({name})")] for name in names}


@pytest.fixture
async def conn(postgres_url):
    conn = await connect(postgres_url)
    yield conn
    await conn.close()


async def test_a_fresh_database_gets_every_table_of_the_sqlite_schema(conn):
    assert await migrate(conn) == 0

    found = await tables(conn)
    expected = {
        table: [RENAMED.get((table, column), column) for column in columns]
        + ADDED_IN_POSTGRES.get(table, [])
        for table, columns in sqlite_tables().items()
    }
    assert {t: c for t, c in found.items() if t not in ONLY_IN_POSTGRES} == expected
    versions = await conn.fetch("SELECT version FROM schema_migrations ORDER BY version")
    assert [v for (v,) in versions] == list(range(1, SCHEMA_VERSION + 1))


async def test_a_fresh_database_has_event_partitions_for_today_and_tomorrow(conn):
    now = time.time()
    await migrate(conn, now=now)

    parts = await conn.fetch(
        "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
        "WHERE i.inhparent = 'events'::regclass ORDER BY c.relname"
    )
    days = [time.strftime("events_%Y%m%d", time.gmtime(now + n * DAY)) for n in (0, 1)]
    assert [name for (name,) in parts] == days


async def test_migrating_again_changes_nothing(conn):
    await migrate(conn)
    before = await tables(conn)

    assert await migrate(conn) == SCHEMA_VERSION
    assert await tables(conn) == before
    assert await conn.fetchval("SELECT count(*) FROM schema_migrations") == SCHEMA_VERSION


async def test_two_bots_starting_together_migrate_once(postgres_url):
    holder, first, second = [await connect(postgres_url) for _ in range(3)]
    try:
        # Both bots are made to wait on the lock together, then let go at once.
        await holder.execute("SELECT pg_advisory_lock($1)", MIGRATION_LOCK)
        both = [asyncio.create_task(migrate(c)) for c in (first, second)]
        waiting = "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted"
        await eventually(
            lambda: _count(holder, waiting, 2), what="both migrators waiting on the lock"
        )
        await holder.execute("SELECT pg_advisory_unlock($1)", MIGRATION_LOCK)
        found = await asyncio.wait_for(asyncio.gather(*both), 60)

        assert sorted(found) == [0, SCHEMA_VERSION]  # one applied it, the other found it done
        assert await holder.fetchval("SELECT count(*) FROM schema_migrations") == SCHEMA_VERSION
        assert await holder.fetchval("SELECT pg_try_advisory_lock($1)", MIGRATION_LOCK)
    finally:
        for c in (holder, first, second):
            await c.close()


async def _count(conn: asyncpg.Connection, sql: str, expected: int) -> bool:
    return await conn.fetchval(sql) == expected


async def test_a_database_from_a_newer_bot_is_refused_untouched(conn, postgres_url):
    await migrate(conn)
    await conn.execute("INSERT INTO schema_migrations (version) VALUES (99)")
    await conn.execute("CREATE TABLE from_the_future (x integer)")

    with pytest.raises(SchemaTooNew, match=f"version 99 is newer than this bot's {SCHEMA_VERSION}"):
        await migrate(conn)

    assert await conn.fetchval("SELECT to_regclass('from_the_future') IS NOT NULL")
    other = await connect(postgres_url)
    try:  # the lock was let go: the next bot is told too, rather than hang
        assert await other.fetchval("SELECT pg_try_advisory_lock($1)", MIGRATION_LOCK)
    finally:
        await other.close()


def test_low_levels_holds_what_sqlite_indexes_as_low():
    # Both schemas write the threshold the reads assume (bot.store.rows.LOW_LISTED) as a number.
    assert f"WHERE inventory <= {LOW_LISTED}" in "".join(sqlite_schema.MIGRATIONS)
    assert f"CHECK (inventory <= {LOW_LISTED})" in "".join(postgres_schema.MIGRATIONS)
