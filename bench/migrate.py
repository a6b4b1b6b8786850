"""Moving to PostgreSQL at 1,000,000 levels: `inventory-bot migrate` timed, then the paces
loaded at start (the writer's load_paces) from each store.

    .venv/bin/python bench/pg.py &                          # a server; prints URL
    .venv/bin/python bench/migrate.py --database-url URL    # 1,000 stores x 1,000 models
    .venv/bin/python bench/migrate.py --database-url URL --quick   # 100,000 levels

The SQLite database is written as bench/commands.py writes it (a day of sales on every shelf),
with 200,000 recent events too; the PostgreSQL database is emptied first. The baseline, in the
same run, is loading the same paces from the SQLite file."""

from __future__ import annotations

import argparse
import asyncio
import random
import sys
import tempfile
import time
from asyncio.subprocess import PIPE
from pathlib import Path

import aiosqlite
from commands import write_levels
from pg import emptied

from bot.core.velocity import PaceBook
from bot.store.postgres.backend import PostgresBackend
from bot.store.sqlite.backend import SqliteBackend

BOT = str(Path(sys.executable).parent / "inventory-bot")
EVENTS = 200_000


async def add_events(path: Path, stores: int, models: int) -> None:
    rng, now = random.Random(2), time.time()
    async with aiosqlite.connect(path) as db:
        await db.executemany(
            "INSERT INTO events (at, feed_id, store_id, model_id, inventory) "
            "VALUES (?, 1, ?, ?, ?)",
            (
                (now - 3600 + i * 3600 / EVENTS, rng.randint(1, stores), rng.randint(1, models), 5)
                for i in range(EVENTS)
            ),
        )
        await db.commit()


async def load_paces(store: SqliteBackend | PostgresBackend) -> tuple[float, int]:
    await store.open()
    try:
        book = PaceBook()
        started = time.perf_counter()
        await store.load_paces(book)
        took = time.perf_counter() - started
        return took, sum(len(shelves) for shelves in book.shelves.values())
    finally:
        await store.close()


async def main(size: int, url: str) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "bench.db"
        await write_levels(path, size, size)
        await add_events(path, size, size)
        await (await emptied(url)).close()
        started = time.perf_counter()
        done = await asyncio.create_subprocess_exec(
            BOT, "migrate", "--from", str(path), "--to", url, stdout=PIPE, stderr=PIPE
        )
        out, err = await done.communicate()
        took = time.perf_counter() - started
        if done.returncode != 0:
            raise SystemExit(err.decode())
        print(out.decode(), end="")
        print(f"\ninventory-bot migrate of {size * size:,} levels: {took:.1f} s (with start-up)")
        sqlite_s, sqlite_n = await load_paces(SqliteBackend(path))
        postgres_s, postgres_n = await load_paces(PostgresBackend(url))
    assert sqlite_n == postgres_n == size * size
    print(f"load_paces of {postgres_n:,} shelves: PostgreSQL {postgres_s:.2f} s, ", end="")
    print(f"SQLite {sqlite_s:.2f} s (baseline, same run)")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", metavar="URL", required=True)
    parser.add_argument("--quick", action="store_true", help="100,000 levels instead of 1,000,000")
    args = parser.parse_args()
    asyncio.run(main(316 if args.quick else 1000, args.database_url))
