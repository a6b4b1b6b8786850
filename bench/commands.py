"""Slash command benchmark: /stock and /transfers with 1,000,000 stored levels.

    .venv/bin/python bench/commands.py            # about a minute, most of it writing the data
    .venv/bin/python bench/commands.py --quick    # 100,000 levels
    .venv/bin/python bench/commands.py --database-url URL   # the store in PostgreSQL (bench/pg.py)

1,000 stores x 1,000 models are written straight into a database with the bot's schema; then
the real bot runs in HTTP mode against a local Slack (tests/fakes/slack.py) and each command
is sent as a signed request to /slack/events, as Slack sends it. The time is from sending the
request to receiving the answer, which comes with the acknowledgement: an upper bound of
"request reaching Bolt to answer sent" (it adds the local HTTP round trip). In the same run,
the baseline is a bare Bolt app behind the same server answering a trivial command.
"""

from __future__ import annotations

import argparse
import asyncio
import math
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from bot.config import Settings
from bot.feed.worlds import model_names, store_names
from bot.logs import setup_logging
from bot.runtime import Bot
from bot.store.move import move
from bot.store.sqlite import connect as database
from bot.web import WebServer

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from pg import emptied  # bench/pg.py, beside this file

from tests.fakes.slack import Driver, FakeSlack

SECRET = "bench-secret"
ROUNDS = 300


async def write_levels(path: Path, stores: int, models: int) -> None:
    """`stores` x `models` levels, as if the feed had reported each one in the last day."""
    db = await database.connect(path)
    await database.migrate(db)
    now, rng = time.time(), random.Random(1)
    await db.execute("BEGIN")
    await db.execute("INSERT INTO feeds VALUES (1, 'ws://bench/', ?)", (now,))
    await db.executemany(
        "INSERT INTO stores VALUES (?, ?, ?)",
        [(i + 1, n, now) for i, n in enumerate(store_names(stores))],
    )
    await db.executemany(
        "INSERT INTO models VALUES (?, ?, ?)",
        [(i + 1, n, now) for i, n in enumerate(model_names(models))],
    )
    rates = [rng.lognormvariate(-1, 1) for _ in range(models)]  # pairs an hour, by model
    for store in range(1, stores + 1):
        rows = []
        for model in range(1, models + 1):
            r = rates[model - 1]
            at = now - rng.uniform(0, 86_400)
            # A day of sales at the model's pace, as the writer would have stored it.
            rows.append((store, model, rng.randint(0, 100), at, 1, now, r, 1.0, 24 * r, 24.0))
        await db.executemany("INSERT INTO levels VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
    await db.executemany(
        "INSERT INTO model_paces VALUES (?, ?, ?, ?, ?, ?, ?)",
        [
            (m, r * stores, stores, 24 * r * stores, 24.0 * stores, now, stores)
            for m, r in enumerate(rates, start=1)
        ],
    )
    await db.execute("COMMIT")
    await db.close()


def spread(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    return statistics.median(ordered) * 1000, ordered[math.ceil(len(ordered) * 0.99) - 1] * 1000


async def time_commands(driver: Driver, cases: list[tuple[str, str]]) -> dict[str, list[float]]:
    times: dict[str, list[float]] = {f"{c} {t}".strip(): [] for c, t in cases}
    for _ in range(ROUNDS):
        for command, text in cases:
            started = time.perf_counter()
            status, body, _ = await driver.command(command, text)
            took = time.perf_counter() - started
            if status != 200 or "Working on it" in str(body):
                raise SystemExit(f"{command} {text}: no answer in the acknowledgement: {body}")
            times[f"{command} {text}".strip()].append(took)
    return times


async def baseline(slack: FakeSlack) -> list[float]:
    """A bare Bolt app behind the same HTTP server, acknowledging a trivial command."""
    app = AsyncApp(
        client=AsyncWebClient(token=slack.token, base_url=slack.api_url),
        signing_secret=SECRET,
        process_before_response=True,  # as the bot's app: answer when the listener returns
    )

    @app.command("/ping")
    async def ping(ack) -> None:
        await ack(text="pong", response_type="ephemeral")

    server = WebServer("127.0.0.1", 0)
    server.mount_slack(app)
    await server.start()
    try:
        driver = Driver(slack, url=f"http://127.0.0.1:{server.port}/slack/events", secret=SECRET)
        try:
            return (await time_commands(driver, [("/ping", "")]))["/ping"]
        finally:
            await driver.close()
    finally:
        await server.stop()


async def main(stores: int, models: int, database_url: str | None = None) -> None:
    setup_logging("WARNING")
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "bench.db"
        started = time.perf_counter()
        await write_levels(path, stores, models)
        print(f"wrote {stores * models:,} levels in {time.perf_counter() - started:.0f} s")
        if database_url:  # the same data, moved to PostgreSQL as `inventory-bot migrate` does
            store = await emptied(database_url)
            moved = await move(path, database_url, retention_days=30)
            print(f"moved them to PostgreSQL in {moved.seconds:.1f} s")
        async with FakeSlack() as slack:
            bare = await baseline(slack)
            bot = Bot(
                Settings(
                    _env_file=None,
                    database_path=path,
                    feed_urls=["ws://127.0.0.1:9/"],
                    slack_bot_token=slack.token,
                    slack_api_url=slack.api_url,
                    slack_mode="http",
                    slack_signing_secret=SECRET,
                    http_port=0,
                    log_level="WARNING",
                )
            )
            if database_url:
                bot.store = store  # the sender's records go there too
            await bot.start()
            # The planner's first round plans every model; commands are timed after it.
            await bot.planner.wait_for(lambda s: s.rounds >= 1)
            print(
                f"planned {bot.planner.stats.models_planned:,} models in "
                f"{bot.planner.stats.last_round_seconds:.1f} s: "
                f"{bot.planner.stats.suggestions:,} suggestions"
            )
            try:
                driver = Driver(
                    slack, url=f"http://127.0.0.1:{bot.web.port}/slack/events", secret=SECRET
                )
                cases = [
                    ("/stock", store_names(stores)[stores // 2]),  # one store: its 1,000 models
                    ("/stock", model_names(models)[models // 2]),  # one model in 1,000 stores
                    ("/stock", "store 0500"),  # found by the start of a word
                    ("/stock", ""),  # the lowest of the whole chain
                    ("/transfers", ""),  # the worst shortages of the chain
                    ("/transfers", model_names(models)[models // 3]),
                ]
                measured = await time_commands(driver, cases)
                await driver.close()
            finally:
                await bot.stop()

    print(f"\n{stores * models:,} stored levels, {ROUNDS} requests each")
    print(f"{'command':<28} {'p50 ms':>8} {'p99 ms':>8}")
    base50, base99 = spread(bare)
    print(f"{'(baseline: bare Bolt /ping)':<28} {base50:>8.2f} {base99:>8.2f}")
    worst = 0.0
    for name, samples in measured.items():
        p50, p99 = spread(samples)
        worst = max(worst, p99)
        print(f"{name:<28} {p50:>8.2f} {p99:>8.2f}")
    print(
        f"\nworst p99 {worst:.1f} ms (target < 25 ms); every answer came with the "
        f"acknowledgement, so acknowledged within {worst:.1f} ms (target < 100 ms)"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="100,000 levels instead of 1,000,000")
    parser.add_argument(
        "--database-url",
        metavar="URL",
        help="store in PostgreSQL at URL, emptied first (see bench/pg.py), instead of SQLite",
    )
    args = parser.parse_args()
    size = 316 if args.quick else 1000
    asyncio.run(main(size, size, args.database_url))
