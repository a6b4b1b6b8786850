"""Moving the bot from SQLite to PostgreSQL: `inventory-bot migrate --from FILE --to URL` copies
a SQLite database, as the bot left it, into an empty PostgreSQL database.

Everything is copied with its ids (the levels and names, paces, channels and rules with their
history, the alert engine's state, the outbox with its deliveries and messages, suggestions and
transfers, dead letters and counts), and the events still within retention. One PostgreSQL
transaction: a move that fails leaves the target as empty as it found it. The source is read in
one snapshot, so a bot still writing it does no harm (its later writes are not copied)."""

from __future__ import annotations

import asyncio
import sqlite3
import time
from dataclasses import dataclass, field
from pathlib import Path

import asyncpg

from bot.core.errors import CannotStart
from bot.store.postgres.connect import connect
from bot.store.postgres.migrate import migrate
from bot.store.postgres.partitions import DAY, add_event_partitions
from bot.store.rows import LOW_LISTED
from bot.store.sqlite.backend import SqliteBackend
from bot.store.sqlite.reads import SqliteReads

# In the order copied. Every table of the bot's but schema bookkeeping and low_levels (made
# from levels).
TABLES = (
    "feeds",
    "stores",
    "models",
    "levels",
    "model_paces",
    "events",
    "dead_letters",
    "bad_frame_counts",
    "channels",
    "rules",
    "home_stores",
    "config_changes",
    "incidents",
    "alert_machines",
    "mutes",
    "notifiers",
    "outbox",
    "deliveries",
    "messages",
    "suggestions",
    "transfers",
)
# Tables whose ids PostgreSQL gives from a sequence: moved past the ids copied.
NUMBERED = (
    "events",
    "dead_letters",
    "config_changes",
    "incidents",
    "outbox",
    "suggestions",
    "transfers",
)
RENAMED = {("config_changes", "user"): "user_id"}  # `user` is CURRENT_USER in PostgreSQL
CHUNK = 50_000  # rows read from SQLite and sent with COPY at a time


class MoveError(CannotStart):
    """The move cannot be made (the message says why, naming the option); nothing was written."""


@dataclass
class Moved:
    """What was copied: rows per table, and how long it took."""

    rows: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0


async def move(source: Path, url: str, *, retention_days: float, now: float | None = None) -> Moved:
    """Copy the SQLite database `source` into the empty PostgreSQL database at `url`, events
    from the last `retention_days` only. Raises MoveError, or ConnectError naming --to."""
    started = time.perf_counter()
    now = time.time() if now is None else now
    if not await asyncio.to_thread(source.is_file):
        raise MoveError(f"--from {source}: no such file")
    # The file at this bot's schema first, as the bot itself would open it.
    sqlite_store = SqliteBackend(source)
    try:
        await sqlite_store.open()
        first_event = await SqliteReads(sqlite_store.db).first_event_id_since(
            now - retention_days * DAY
        )
    except sqlite3.DatabaseError as error:
        raise MoveError(f"--from {source}: not a database the bot can read ({error})") from None
    finally:
        await sqlite_store.close()
    conn = await connect(url, name="inventory-bot migrate", option="--to")
    try:
        await migrate(conn, now=now)
        await _refuse_unless_empty(conn)
        moved = Moved()
        source_db = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
        try:
            source_db.execute("BEGIN")  # one snapshot of the source for the whole copy
            # Events within retention only: from the first id since then (none: no events).
            events = ("WHERE id >= ?", (first_event,)) if first_event else ("WHERE 0", ())
            async with conn.transaction():
                for table in TABLES:
                    where = events if table == "events" else ("", ())
                    moved.rows[table] = await _copy(source_db, conn, table, *where)
                await _after_copy(source_db, conn)
        finally:
            source_db.close()
        await conn.execute("ANALYZE")
    finally:
        await conn.close()
    moved.seconds = time.perf_counter() - started
    return moved


async def _refuse_unless_empty(conn: asyncpg.Connection) -> None:
    for table in TABLES:
        if await conn.fetchval(f"SELECT EXISTS (SELECT 1 FROM {table})"):
            raise MoveError(
                f"--to: the database is not empty ({table} has rows); migrate copies into an "
                "empty database only, so nothing there is overwritten or mixed"
            )


async def _copy(
    source: sqlite3.Connection, conn: asyncpg.Connection, table: str, where: str, args: tuple
) -> int:
    """Copy `table`'s rows (those `where` selects) with COPY, CHUNK at a time."""
    names = [row[1] for row in source.execute(f"PRAGMA table_info({table})")]
    types = dict(
        await conn.fetch(
            "SELECT attname, format_type(atttypid, atttypmod) FROM pg_attribute "
            "WHERE attrelid = $1::regclass AND attnum > 0 AND NOT attisdropped",
            table,
        )
    )
    columns = [RENAMED.get((table, name), name) for name in names]
    # SQLite keeps booleans as 0 and 1; COPY wants them as booleans.
    flags = [i for i, column in enumerate(columns) if types[column] == "boolean"]
    cursor = source.execute(f"SELECT {', '.join(names)} FROM {table} {where}", args)
    copied = 0
    while rows := cursor.fetchmany(CHUNK):
        if flags:
            rows = [_with_booleans(row, flags) for row in rows]
        if table == "events":
            await _event_partitions(conn, rows[0][names.index("at")], rows[-1][names.index("at")])
        await conn.copy_records_to_table(table, records=rows, columns=columns)
        copied += len(rows)
    return copied


def _with_booleans(row: tuple, flags: list[int]) -> list:
    row = list(row)
    for i in flags:
        if row[i] is not None:
            row[i] = bool(row[i])
    return row


async def _event_partitions(conn: asyncpg.Connection, first_at: float, last_at: float) -> None:
    """The day partitions for events from `first_at` to `last_at` (ids grow with time)."""
    low, high = min(first_at, last_at), max(first_at, last_at)
    await add_event_partitions(conn, low, days_ahead=int(high // DAY - low // DAY))


async def _after_copy(source: sqlite3.Connection, conn: asyncpg.Connection) -> None:
    """The list of low levels, and each sequence moved past every id copied (for suggestions,
    past every id SQLite ever gave: AUTOINCREMENT remembers those of deleted rows)."""
    await conn.execute(
        "INSERT INTO low_levels (store_id, model_id, inventory) "
        f"SELECT store_id, model_id, inventory FROM levels WHERE inventory <= {LOW_LISTED}"
    )
    given = dict(source.execute("SELECT name, seq FROM sqlite_sequence"))
    for table in NUMBERED:
        await conn.execute(
            f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), highest) FROM "
            f"(SELECT greatest(max(id), $1) AS highest FROM {table}) found WHERE highest > 0",
            given.get(table, 0),
        )
