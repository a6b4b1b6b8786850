"""The ingest benchmark's baseline: the least code that stores what the bot stores, with every
trick the bot uses that is not the bot's own logic.

- websockets client, payloads read as bytes, parsed with orjson (no validation);
- a bounded deque-and-waiter queue with a put_nowait fast path (the bot's BatchQueue);
- names mapped to integer ids in dicts, so rows are as small as the bot's;
- one transaction per batch of up to 5,000: the event rows, and one level upsert per key;
- a batch commits in a task of its own while the next is prepared, as the bot's writer does;
- the bot's pragmas (WAL, synchronous=NORMAL, no automatic checkpoint) and its checkpointer
  (PASSIVE every 10 s from another connection);
- the bot's garbage collector settings (collect and freeze after start-up, gen0 at 50,000).
What it leaves out is the bot's: validation with reasons, feed health, paces, the alert engine,
dead letters, retention, the planner, Slack and the HTTP server.
"""

from __future__ import annotations

import asyncio
import gc
import time
from collections.abc import Callable
from pathlib import Path

import aiosqlite
import orjson
from websockets.asyncio.client import connect

from bot.store.batch_queue import BatchQueue

BATCH = 5_000  # the bot's default WRITER_BATCH_SIZE
QUEUE = 10_000  # the bot's default WRITER_QUEUE_SIZE
CHECKPOINT_EVERY = 10.0  # as bot.store.sqlite.connect.checkpoint_forever
PRAGMAS = (
    "journal_mode = WAL",
    "synchronous = NORMAL",
    "wal_autocheckpoint = 0",
    "journal_size_limit = 67108864",
)
SCHEMA = """
    CREATE TABLE names (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE);
    CREATE TABLE events (id INTEGER PRIMARY KEY, at REAL NOT NULL, feed_id INTEGER NOT NULL,
        store_id INTEGER NOT NULL, model_id INTEGER NOT NULL, inventory INTEGER NOT NULL);
    CREATE TABLE levels (store_id INTEGER NOT NULL, model_id INTEGER NOT NULL,
        inventory INTEGER NOT NULL, at REAL NOT NULL, sales INTEGER NOT NULL,
        PRIMARY KEY (store_id, model_id)) WITHOUT ROWID;
"""
UPSERT = (
    "INSERT INTO levels VALUES (?, ?, ?, ?, ?) ON CONFLICT DO UPDATE SET "
    "inventory = excluded.inventory, at = excluded.at, sales = sales + excluded.sales"
)


async def _checkpoint_forever(path: Path) -> None:
    db = await aiosqlite.connect(path, isolation_level=None)
    try:
        while True:
            await asyncio.sleep(CHECKPOINT_EVERY)
            await db.execute("PRAGMA wal_checkpoint(PASSIVE)")
    finally:
        await db.close()


class Baseline:
    """Reads `url` into SQLite until told how many frames to expect and all are committed."""

    def __init__(self, url: str, folder: str) -> None:
        self.url = url
        self.path = Path(folder) / "baseline.db"
        self.queue: BatchQueue[tuple] = BatchQueue(QUEUE)
        self.ids: dict[str, int] = {}
        self.new_names: list[tuple[int, str]] = []
        self.committed = 0
        self.commit_hooks: list[Callable[[int, float], None]] = []
        self._done = asyncio.Event()
        self._expected = float("inf")

    async def start(self) -> None:
        self.db = await aiosqlite.connect(self.path, isolation_level=None)
        for pragma in PRAGMAS:
            await self.db.execute(f"PRAGMA {pragma}")
        await self.db.executescript(SCHEMA)
        self.ws = await connect(self.url, compression=None, ping_interval=None, max_size=None)
        self._tasks = [
            asyncio.create_task(self._read()),
            asyncio.create_task(self._write()),
            asyncio.create_task(_checkpoint_forever(self.path)),
        ]
        gc.collect()
        gc.freeze()
        gc.set_threshold(50_000, 20, 50)

    async def run(self, expected: int) -> None:
        """Until `expected` frames (as many as the server sent) are all committed."""
        self._expected = expected
        if self.committed >= self._expected:
            self._done.set()
        await self._done.wait()

    async def stop(self) -> int:
        """Close everything; returns the number of levels stored."""
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self.ws.close()
        async with self.db.execute("SELECT count(*) FROM levels") as cursor:
            (keys,) = await cursor.fetchone()
        await self.db.close()
        return keys

    def _id(self, name: str) -> int:
        found = self.ids.get(name)
        if found is None:
            found = self.ids[name] = len(self.ids) + 1
            self.new_names.append((found, name))
        return found

    async def _read(self) -> None:
        recv, loads, offer, put = self.ws.recv, orjson.loads, self.queue.put_nowait, self.queue.put
        clock, ids, id_for = time.time, self.ids, self._id
        while True:
            frame = loads(await recv(decode=False))
            store, model = frame["store"], frame["model"]
            row = (
                clock(),
                1,
                ids.get(store) or id_for(store),
                ids.get(model) or id_for(model),
                frame["inventory"],
            )
            if not offer(row):
                await put(row)

    async def _write(self) -> None:
        committing: asyncio.Task | None = None
        while True:
            batch = await self.queue.get_batch(BATCH)
            levels: dict[tuple[int, int], list] = {}
            for at, _, store_id, model_id, inventory in batch:
                level = levels.get((store_id, model_id))
                if level is None:
                    levels[(store_id, model_id)] = [store_id, model_id, inventory, at, 1]
                else:
                    level[2], level[3] = inventory, at
                    level[4] += 1
            names, self.new_names = self.new_names, []
            if committing is not None:
                await committing
            committing = asyncio.create_task(self._commit(batch, list(levels.values()), names))

    async def _commit(self, batch: list[tuple], levels: list[list], names: list) -> None:
        db = self.db
        await db.execute("BEGIN IMMEDIATE")
        if names:
            await db.executemany("INSERT INTO names VALUES (?, ?)", names)
        await db.executemany(
            "INSERT INTO events (at, feed_id, store_id, model_id, inventory) "
            "VALUES (?, ?, ?, ?, ?)",
            batch,
        )
        await db.executemany(UPSERT, levels)
        await db.execute("COMMIT")
        self.committed += len(batch)
        now = time.time()
        for hook in self.commit_hooks:
            hook(len(batch), now)
        if self.committed >= self._expected:
            self._done.set()
