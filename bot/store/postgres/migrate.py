"""Bringing a PostgreSQL database to SCHEMA_VERSION at start, once, even when several bots start
together: the migrations run under a session advisory lock."""

from __future__ import annotations

import logging
import time

import asyncpg

from bot.store.errors import SchemaTooNew
from bot.store.postgres.partitions import add_event_partitions
from bot.store.postgres.schema import MIGRATIONS, SCHEMA_VERSION

log = logging.getLogger(__name__)

# The advisory lock every version of the bot takes to migrate: a fixed key, the bytes of
# "invmig". Other locks of the bot (leadership) must use other keys.
MIGRATION_LOCK = int.from_bytes(b"invmig", "big")

_VERSIONS = """
    CREATE TABLE IF NOT EXISTS schema_migrations (
        version integer PRIMARY KEY,
        applied_at timestamptz NOT NULL DEFAULT now()
    )
"""


async def migrate(conn: asyncpg.Connection, *, now: float | None = None) -> int:
    """Apply the migrations the database lacks, each in its own transaction, and make sure the
    event log has partitions for today and tomorrow (UTC); return the version found before.

    The version is read and the migrations applied while holding MIGRATION_LOCK, so a second
    process starting at the same time waits, then finds the schema applied. Raises
    SchemaTooNew, untouched, for a database written by a newer bot.
    """
    if not await conn.fetchval("SELECT pg_try_advisory_lock($1)", MIGRATION_LOCK):
        log.info("waiting for another process to finish migrating the database")
        await conn.execute("SELECT pg_advisory_lock($1)", MIGRATION_LOCK)
    try:
        await conn.execute(_VERSIONS)
        found = await conn.fetchval("SELECT coalesce(max(version), 0) FROM schema_migrations")
        SchemaTooNew.check(found, SCHEMA_VERSION)
        for version in range(found + 1, SCHEMA_VERSION + 1):
            log.info("migrating database", extra={"to_version": version})
            async with conn.transaction():
                await conn.execute(MIGRATIONS[version - 1])
                await conn.execute("INSERT INTO schema_migrations (version) VALUES ($1)", version)
        await add_event_partitions(conn, time.time() if now is None else now)
    finally:
        if not conn.is_closed():
            await conn.execute("SELECT pg_advisory_unlock($1)", MIGRATION_LOCK)
    return found
