"""PostgreSQL for the benchmarks (bench/ingest.py and bench/commands.py take --database-url).

    .venv/bin/python bench/pg.py     # a throwaway server; prints its URL; Ctrl-C stops it

The server is the tests' (tests/postgres.py: initdb in a temporary folder, on a free port of
127.0.0.1) with a field server's durability put back: fsync, synchronous_commit and
full_page_writes on, so a commit is on disk before it is acknowledged, and 256 MB of shared
buffers. The benchmarks empty the database they are given before each run: give them one made
for them, never the bot's."""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import asyncpg

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.store.move import TABLES
from bot.store.postgres.backend import PostgresBackend
from bot.store.postgres.connect import connect
from bot.store.postgres.migrate import migrate
from bot.store.postgres.url import is_postgres_url, shown_url
from bot.store.sqlite.backend import SqliteBackend
from tests.postgres import PostgresServer

DURABLE = {
    "fsync": "on",
    "synchronous_commit": "on",
    "full_page_writes": "on",
    "shared_buffers": "256MB",
}


async def emptied(url: str) -> PostgresBackend:
    """A store on `url` after deleting everything in it (the schema is kept, ids start at 1)."""
    conn: asyncpg.Connection = await connect(url, name="bench")
    try:
        await migrate(conn)
        await conn.execute(f"TRUNCATE {', '.join(TABLES)}, low_levels RESTART IDENTITY")
        await conn.execute("UPDATE writer_progress SET batch = 0")
    finally:
        await conn.close()
    return PostgresBackend(url)


_emptied = False


def shown(arg: str) -> str:
    """A command-line word as printed: a database URL with its password masked."""
    return shown_url(arg) if is_postgres_url(arg) else arg


async def store_for(path: Path) -> SqliteBackend | PostgresBackend:
    """The store of a benchmark's bot: SQLite at `path`, or with BENCH_DATABASE_URL set (by
    --database-url) PostgreSQL there, emptied at the first call of the process (each pipeline
    runs in a fresh one). The bot's sender keeps its records in the same store."""
    global _emptied  # noqa: PLW0603 - once a process
    url = os.environ.get("BENCH_DATABASE_URL")
    if not url:
        return SqliteBackend(path)
    if not _emptied:
        _emptied = True
        return await emptied(url)
    return PostgresBackend(url)


@contextlib.contextmanager
def durable_server() -> Iterator[str]:
    """A throwaway server with a field's durability; yields the URL of a database on it."""
    server = PostgresServer()
    server.start()
    try:
        for key, value in DURABLE.items():
            server.admin(f"ALTER SYSTEM SET {key} = '{value}'")
        server.admin("CHECKPOINT")  # the bot's role, made before fsync was on, on disk
        server.crash()  # shared_buffers needs a restart; nothing else is stored yet
        server.start_again()
        yield server.url(server.create_database())
    finally:
        server.stop()


def serve() -> None:
    with durable_server() as url:
        print(url, flush=True)
        stop = threading.Event()
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
        with contextlib.suppress(KeyboardInterrupt):
            stop.wait()


if __name__ == "__main__":
    serve()
