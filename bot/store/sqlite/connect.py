"""Opening the SQLite database: pragmas, migrations, and the WAL checkpointer."""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from pathlib import Path

import aiosqlite

from bot.store.errors import SchemaTooNew
from bot.store.restore import feeds_to_rename
from bot.store.sqlite.schema import MIGRATIONS, SCHEMA_VERSION

log = logging.getLogger(__name__)


async def connect(path: Path, *, readonly: bool = False) -> aiosqlite.Connection:
    """Open a connection with the pragmas every connection needs.

    Writers use autocommit mode and open their transactions explicitly, so a batch is exactly
    one transaction. Readers open the file read-only, so a bug in a read path cannot write.
    """
    if readonly:
        db = await aiosqlite.connect(f"file:{path}?mode=ro", uri=True, isolation_level=None)
    else:
        path.parent.mkdir(parents=True, exist_ok=True)
        db = await aiosqlite.connect(path, isolation_level=None)
    try:
        await db.execute("PRAGMA busy_timeout = 5000")
        if not readonly:
            # WAL: readers never block the writer. NORMAL: a commit survives a crash of the
            # process (kill -9); only a power cut can lose the last commits. Checkpoints run off
            # the commit path (see checkpoint_forever), which keeps commit latency flat.
            await db.execute("PRAGMA journal_mode = WAL")
            await db.execute("PRAGMA synchronous = NORMAL")
            await db.execute("PRAGMA wal_autocheckpoint = 0")
            await db.execute("PRAGMA journal_size_limit = 67108864")
    except BaseException:
        # A file that is not SQLite fails here. The connection's thread is not a daemon: left
        # open, it would keep the process alive after the error was told.
        await db.close()
        raise
    return db


async def migrate(db: aiosqlite.Connection) -> int:
    """Bring the schema to SCHEMA_VERSION; return the version found before."""
    async with db.execute("PRAGMA user_version") as cursor:
        (found,) = await cursor.fetchone()
    SchemaTooNew.check(found, SCHEMA_VERSION)
    for version in range(found + 1, SCHEMA_VERSION + 1):
        log.info("migrating database", extra={"to_version": version})
        await db.executescript(
            f"BEGIN IMMEDIATE; {MIGRATIONS[version - 1]}; PRAGMA user_version = {version}; COMMIT;"
        )
    return found


async def hide_feed_credentials(db: aiosqlite.Connection) -> None:
    """Rename feeds stored by their full URL (as versions before feed names kept them) to the
    name that hides their credentials, with their feed alerts, so no answer shows a password."""
    async with db.execute("SELECT id, url FROM feeds ORDER BY id") as cursor:
        renamed = feeds_to_rename(await cursor.fetchall())
    if not renamed:
        return
    await db.execute("BEGIN IMMEDIATE")
    for name, url, id_ in renamed:
        # Two URLs that differ only in credentials share a name: the second keeps its id in it.
        await db.execute("UPDATE OR IGNORE feeds SET url = ? WHERE id = ?", (name, id_))
        await db.execute(
            "UPDATE feeds SET url = ? WHERE id = ? AND url = ?", (f"{name} #{id_}", id_, url)
        )
        # The feed's alerts are kept under the name it now has (its incidents' "store").
        await db.execute(
            "UPDATE incidents SET store = (SELECT url FROM feeds WHERE id = ?) "
            "WHERE kind IN ('feed_down', 'bad_frames') AND store = ?",
            (id_, url),
        )
    await db.execute("COMMIT")
    log.info("feed URLs stored with credentials renamed", extra={"feeds": len(renamed)})


async def checkpoint_forever(path: Path, *, every: float = 10.0) -> None:
    """Copy the WAL back into the database from a connection of its own, so the writer's
    commits never pay for it. PASSIVE never waits on readers or the writer.

    Every 10 s rather than every second: on two cores a checkpoint competes with the feed for
    CPU, and at 10,000 events/s checkpointing each second tripled p99 commit latency (3 ms to
    8 ms in bench/ingest.py) while the WAL it saves is only a few MB.

    A checkpoint that fails (a full disk, an I/O error) is logged once and tried again at the
    next turn: the WAL keeps every commit meanwhile, so nothing is lost, only the file grows.
    """
    db = await aiosqlite.connect(path, isolation_level=None)
    failing: str | None = None
    try:
        await db.execute("PRAGMA busy_timeout = 5000")
        while True:
            await asyncio.sleep(every)
            try:
                async with db.execute("PRAGMA wal_checkpoint(PASSIVE)") as cursor:
                    busy, _, _ = await cursor.fetchone()
            except sqlite3.OperationalError as error:
                text = str(error)
                if text != failing:
                    log.error("WAL checkpoint failed; trying again", extra={"error": text})
                failing = text
                continue
            if failing is not None and not busy:
                log.info("WAL checkpoint works again", extra={"was": failing})
                failing = None
    finally:
        await db.close()
