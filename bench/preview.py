"""`/thresholds preview` over 1,000,000 stored sales: how long the event loop is held up.

A probe task asks the loop for a 5 ms sleep over and over and records how late it wakes: the
worst lateness is how long the feed, the writer and Slack's acknowledgements would have waited.
Measured in the same run: the probe alone (baseline), the preview as the bot runs it (sales read
a chunk at a time, replayed in a worker thread), and the way it ran before (every sale read at
once and replayed on the event loop).

    .venv/bin/python bench/preview.py            # 1,000,000 sales, 3 rounds
    .venv/bin/python bench/preview.py --quick    # 100,000 sales, 1 round
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from pathlib import Path

from bot.commands.dispatch import Commands
from bot.commands.request import Context, Request
from bot.core.alerting.actions import Action
from bot.core.alerting.engine import AlertEngine, EngineSettings
from bot.core.replay import tally
from bot.core.rules import Rule, RuleBook
from bot.core.thresholds import Thresholds
from bot.store.codec import RULE_COLUMNS, rule_row
from bot.store.sqlite.backend import SqliteBackend
from bot.store.sqlite.reads import SqliteReads

CHANNEL = "C-BENCH"
STORES, MODELS = 200, 100
PROBE_SLEEP = 0.005


class Probe:
    """Records how late the event loop wakes a task that sleeps PROBE_SLEEP at a time."""

    def __init__(self) -> None:
        self.worst = 0.0
        self._task: asyncio.Task | None = None
        self._asleep_since = time.perf_counter()

    async def __aenter__(self) -> Probe:
        self._task = asyncio.create_task(self._run())
        await asyncio.sleep(0)
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._task is not None
        # A sleep the loop has not ended yet is late by as much (a blocked loop ends none).
        late = time.perf_counter() - self._asleep_since - PROBE_SLEEP
        self.worst = max(self.worst, late)
        self._task.cancel()

    async def _run(self) -> None:
        while True:
            self._asleep_since = started = time.perf_counter()
            await asyncio.sleep(PROBE_SLEEP)
            self.worst = max(self.worst, time.perf_counter() - started - PROBE_SLEEP)


async def fill(store: SqliteBackend, sales: int, now: float) -> None:
    """`sales` sales over the last 23 hours, spread over STORES x MODELS shelves."""
    db = store.db
    await db.execute("BEGIN")
    await db.execute("INSERT INTO feeds VALUES (1, 'ws://feed/', 0)")
    await db.executemany(
        "INSERT INTO stores VALUES (?, ?, 0)", [(i, f"Store {i:03d}") for i in range(1, STORES + 1)]
    )
    await db.executemany(
        "INSERT INTO models VALUES (?, ?, 0)", [(i, f"M{i:03d}") for i in range(1, MODELS + 1)]
    )
    start = now - 23 * 3600
    await db.executemany(
        "INSERT INTO events (at, feed_id, store_id, model_id, inventory) VALUES (?, 1, ?, ?, ?)",
        (
            (
                start + n * 23 * 3600 / sales,
                n % STORES + 1,
                (n // STORES) % MODELS + 1,
                (n * 7919) % 40,
            )
            for n in range(sales)
        ),
    )
    await db.execute("COMMIT")


async def main(sales: int, rounds: int) -> None:
    now = time.time()
    with tempfile.TemporaryDirectory() as folder:
        store = SqliteBackend(Path(folder) / "bench.db")
        await store.open()
        try:
            await fill(store, sales, now)
            reads = await store.reads()
            # The channel's default rule, as the writer stores it (a preview changes nothing).
            rule = Rule(CHANNEL, "", "", Thresholds(low=10, high=80, gate_seconds=0), "bench", now)
            row = rule_row(rule)
            await store.db.execute(
                f"INSERT INTO rules ({RULE_COLUMNS}) VALUES ({', '.join('?' * len(row))})", row
            )
            book = RuleBook()
            book.set_rule(
                CHANNEL, thresholds=Thresholds(low=10, high=80, gate_seconds=0), user="b", at=0
            )

            async def apply(action: Action) -> object:
                raise AssertionError(f"a preview changed something: {action}")

            commands = Commands(Context(reads, apply, clock=lambda: now))
            results: dict[str, list[tuple[float, float]]] = {
                "idle": [],
                "bot": [],
                "on the loop": [],
            }
            for _ in range(rounds):
                async with Probe() as probe:
                    await asyncio.sleep(2.0)
                results["idle"].append((probe.worst, 2.0))

                started = time.perf_counter()
                async with Probe() as probe:
                    reply = await commands.handle(
                        Request("thresholds", "preview low=5", CHANNEL, "U1")
                    )
                assert not reply.error, reply.text
                results["bot"].append((probe.worst, time.perf_counter() - started))

                started = time.perf_counter()
                async with Probe() as probe:
                    await on_the_loop(SqliteReads(store.db), book, now)
                results["on the loop"].append((probe.worst, time.perf_counter() - started))
        finally:
            await store.close()
    print(f"\n/thresholds preview over {sales:,} stored sales, median of {rounds} round(s)")
    print("| run | worst event-loop lag ms | preview took s |")
    print("| --- | --- | --- |")
    for name, measured in results.items():
        lag = statistics.median(m[0] for m in measured) * 1000
        took = statistics.median(m[1] for m in measured)
        print(f"| {name} | {lag:.1f} | {took:.1f} |")


async def on_the_loop(reads: SqliteReads, book: RuleBook, now: float) -> None:
    """The preview as it ran before: every sale read at once, both replays on the loop."""
    chunks, _ = await reads.sales_since(now - 24 * 3600, limit=1_000_000, chunk=2_000_000)
    sales = [row async for chunk in chunks for row in chunk]
    for _ in range(2):
        tally(AlertEngine(book, EngineSettings()), sales, tick=1.0, settle=30.0)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="100,000 sales, one round")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    asyncio.run(main(100_000 if args.quick else 1_000_000, 1 if args.quick else args.rounds))
