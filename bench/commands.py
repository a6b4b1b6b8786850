"""Slash command benchmark: /stock, /transfers and /thresholds preview with 1,000,000 stored
levels, on an idle bot and while its feed runs flat out.

    .venv/bin/python bench/commands.py            # a few minutes, most of it writing the data
    .venv/bin/python bench/commands.py --quick    # 100,000 levels, fewer requests
    .venv/bin/python bench/commands.py --database-url URL   # the store in PostgreSQL (bench/pg.py)

1,000 stores x 1,000 models are written straight into a database with the bot's schema, with a
day of stored sales for the preview to replay; then the real bot runs in HTTP mode against a
local Slack (tests/fakes/slack.py) and each command is sent as a signed request to
/slack/events, as Slack sends it. The time is from sending the request to receiving the answer:
with the acknowledgement when it is ready within 1.5 s, else through response_url (marked).
It adds the local HTTP round trip. In the same run, the baseline is a bare Bolt app behind its
own server in the same event loop, answering a trivial command.

Twice: on an idle bot, then while a feed server (bench/feed_server.py, in its own process) sends
realistic frames flat out to the bot. Beside each command, the event loop's worst lag while it
was being answered (a task asking to wake every millisecond notes how late it woke): the
preview replays up to a million sales in a worker thread (bot/commands/preview.py), reading them
from the database in slices, and the lag says what that still costs everything else (alerts,
the feed, other commands). One whole run; quote the median of several.
"""

from __future__ import annotations

import argparse
import asyncio
import math
import multiprocessing as mp
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

import feed_server
from pg import emptied
from pg import shown as masked  # `shown` is a name of main()'s
from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from bot.config import Settings
from bot.feed.worlds import RealisticWorld, model_names, store_names
from bot.logs import setup_logging
from bot.runtime import Bot
from bot.store.move import move
from bot.store.sqlite import connect as database
from bot.web import WebServer

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from tests.fakes.slack import Driver, FakeSlack

SECRET = "bench-secret"
PREVIEW = ("/thresholds", "preview low=5")


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


async def write_events(path: Path, stores: int, models: int, count: int) -> None:
    """`count` sales over the last day, as the feed would have stored them (for the preview)."""
    db = await database.connect(path)
    now, rng = time.time(), random.Random(2)
    start = now - 86_000
    rows = [
        (start + i * 86_000 / count, 1, rng.randint(1, stores), rng.randint(1, models), i % 50)
        for i in range(count)
    ]
    await db.execute("BEGIN")
    await db.executemany(
        "INSERT INTO events (at, feed_id, store_id, model_id, inventory) VALUES (?, ?, ?, ?, ?)",
        rows,
    )
    await db.execute("COMMIT")
    await db.close()


class LoopLag:
    """The event loop's worst lag since `take()`: a task asks to wake every millisecond and
    notes how late it woke."""

    def __init__(self) -> None:
        self.worst = 0.0
        self._task = asyncio.ensure_future(self._watch())

    async def _watch(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            before = loop.time()
            await asyncio.sleep(0.001)
            self.worst = max(self.worst, loop.time() - before - 0.001)

    def take(self) -> float:
        worst, self.worst = self.worst, 0.0
        return worst

    def stop(self) -> None:
        self._task.cancel()


def spread(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    return statistics.median(ordered) * 1000, ordered[math.ceil(len(ordered) * 0.99) - 1] * 1000


class Timed:
    """One case's answers: seconds each, the worst loop lag during any, how many came through
    response_url (not ready within the acknowledgement's 1.5 s), and how many got no
    acknowledgement within Slack's 3 s (Slack shows the person an error; the answer is lost)."""

    def __init__(self) -> None:
        self.seconds: list[float] = []
        self.worst_lag = 0.0
        self.late = 0
        self.unanswered = 0


async def time_commands(
    driver: Driver, slack: FakeSlack, cases: list[tuple[str, str]], rounds: int, lag: LoopLag
) -> dict[str, Timed]:
    times = {f"{c} {t}".strip(): Timed() for c, t in cases}
    for _ in range(rounds):
        for command, text in cases:
            timed = times[f"{command} {text}".strip()]
            lag.take()
            started = time.perf_counter()
            try:  # the driver gives up after 3 s, as Slack does
                status, body, key = await driver.command(command, text)
            except TimeoutError:
                timed.unanswered += 1
                status, body = 200, ""
                await asyncio.sleep(0)  # the lag is noted when the loop is free again
            if status != 200:
                raise SystemExit(f"{command} {text}: HTTP {status}: {body}")
            if "Working on it" in str(body):
                await slack.wait_for(lambda s, key=key: s.responses[key], within=120)
                timed.late += 1
            timed.seconds.append(time.perf_counter() - started)
            timed.worst_lag = max(timed.worst_lag, lag.take())
    return times


async def bare_bolt(slack: FakeSlack) -> tuple[WebServer, Driver]:
    """The baseline: a bare Bolt app behind its own server, acknowledging a trivial command."""
    app = AsyncApp(
        client=AsyncWebClient(token=slack.token, base_url=slack.api_url),
        signing_secret=SECRET,
        process_before_response=True,  # as the bot's app: answer when the listener returns
    )

    @app.command("/ping")
    async def ping(ack) -> None:
        await ack(text="pong", response_type="ephemeral")

    server = WebServer("127.0.0.1", 0)
    server.mount_slack(app, signing_secret=SECRET)
    await server.start()
    url = f"http://127.0.0.1:{server.port}/slack/events"
    return server, Driver(slack, url=url, secret=SECRET)


def start_feed(frames: Path):
    """The feed server's process, flat out for up to an hour once told to go; (process, its
    port, the pipe that says go)."""
    ctx = mp.get_context("spawn")
    port_in, port_out = ctx.Pipe(duplex=False)
    go_here, go_there = ctx.Pipe()
    process = ctx.Process(
        target=feed_server.serve,
        args=(str(frames),),
        kwargs={
            "count": None,
            "seconds": 3600.0,
            "rate": None,
            "port_out": port_out,
            "go": go_there,
            "times_path": str(frames.with_suffix(".times")),
        },
        daemon=True,
    )
    process.start()
    return process, port_in.recv(), go_here


def build_frames(path: Path, count: int) -> None:
    world = RealisticWorld(random.Random(42), stores=150, models=100)
    sales = world.sales()
    path.write_text("\n".join(next(sales)[1].to_json() for _ in range(count)) + "\n")


async def main(
    stores: int, models: int, rounds: int, previews: int, day: int, database_url: str | None
) -> None:
    setup_logging("WARNING")
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "bench.db"
        started = time.perf_counter()
        await write_levels(path, stores, models)
        await write_events(path, stores, models, day)
        print(
            f"wrote {stores * models:,} levels and {day:,} sales in "
            f"{time.perf_counter() - started:.0f} s"
        )
        if database_url:  # the same data, moved to PostgreSQL as `inventory-bot migrate` does
            store = await emptied(database_url)
            moved = await move(path, database_url, retention_days=30)
            print(f"moved them to PostgreSQL in {moved.seconds:.1f} s")
        frames = Path(folder) / "frames.jsonl"
        build_frames(frames, 300_000)
        feed, port, go = start_feed(frames)
        async with FakeSlack() as slack:
            bare, bare_driver = await bare_bolt(slack)
            bot = Bot(
                Settings(
                    _env_file=None,
                    database_path=path,
                    feed_urls=[f"ws://127.0.0.1:{port}/"],
                    feed_ping_interval_seconds=3600,  # the bench feed answers no ping
                    slack_bot_token=slack.token,
                    slack_api_url=slack.api_url,
                    slack_mode="http",
                    slack_signing_secret=SECRET,
                    http_port=0,
                    log_level="WARNING",
                )
            )
            if database_url:
                bot.store = bot.leader.store = store  # the sender's records go there too
            await bot.start()
            # The planner's first round plans every model; commands are timed after it.
            await bot.planner.wait_for(lambda s: s.rounds >= 1)
            print(
                f"planned {bot.planner.stats.models_planned:,} models in "
                f"{bot.planner.stats.last_round_seconds:.1f} s: "
                f"{bot.planner.stats.suggestions:,} suggestions"
            )
            lag = LoopLag()
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
            phases = {}
            try:
                for phase in ("idle", "feed flat out"):
                    if phase != "idle":
                        go.send("go")
                        events = bot.writer.stats.events
                        await bot.writer.wait_for(lambda s, e=events: s.events >= e + 50_000)
                    print(f"timing commands, {phase}...", flush=True)
                    events, at = bot.writer.stats.events, time.perf_counter()
                    timed = await time_commands(bare_driver, slack, [("/ping", "")], rounds, lag)
                    timed |= await time_commands(driver, slack, cases, rounds, lag)
                    rate = (bot.writer.stats.events - events) / (time.perf_counter() - at)
                    timed |= await time_commands(driver, slack, [PREVIEW], previews, lag)
                    phases[phase] = (timed, rate)
            finally:
                lag.stop()
                await driver.close()
                await bare_driver.close()
                await bot.stop()
                await bare.stop()
                feed.terminate()

    report(phases, stores * models, rounds, previews)


def report(phases: dict, levels: int, rounds: int, previews: int) -> None:
    print(
        f"\n{levels:,} stored levels; {rounds} requests a command, {previews} previews; "
        f"command: {' '.join([sys.executable, *map(masked, sys.argv)])}"
    )
    worst: dict[str, float] = {}
    for phase, (timed, rate) in phases.items():
        print(f"\n{phase} (the bot stored {rate:,.0f} sales/s during /stock and /transfers)")
        print(f"{'command':<30} {'p50 ms':>9} {'p99 ms':>9} {'max ms':>9} {'loop lag ms':>12}")
        for name, t in timed.items():
            p50, p99 = spread(t.seconds)
            shown = "(baseline: bare Bolt /ping)" if name == "/ping" else name
            late = f"  {t.late} via response_url" if t.late else ""
            if t.unanswered:
                late += f"  {t.unanswered} of {len(t.seconds)} not acknowledged within 3 s"
            print(
                f"{shown:<30} {p50:>9.2f} {p99:>9.2f} {max(t.seconds) * 1000:>9.1f} "
                f"{t.worst_lag * 1000:>12.1f}{late}"
            )
            if name not in ("/ping", " ".join(PREVIEW)):
                worst[phase] = max(worst.get(phase, 0.0), p99)
    print(
        f"\nworst p99 of /stock and /transfers: {worst['idle']:.1f} ms idle (target < 25 ms), "
        f"{worst['feed flat out']:.1f} ms with the feed flat out; a reply later than 1.5 s goes "
        "through response_url, and one not acknowledged within 3 s is an error in Slack"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="100,000 levels, fewer requests")
    parser.add_argument("--previews", type=int, help="previews timed in each phase (3; quick 1)")
    parser.add_argument(
        "--day-sales", type=int, help="stored sales over the last day (20,000; quick 2,000)"
    )
    parser.add_argument(
        "--database-url",
        metavar="URL",
        help="store in PostgreSQL at URL, emptied first (see bench/pg.py), instead of SQLite",
    )
    args = parser.parse_args()
    size, rounds = (316, 30) if args.quick else (1000, 300)
    asyncio.run(
        main(
            size,
            size,
            rounds=rounds,
            previews=args.previews or (1 if args.quick else 3),
            day=args.day_sales or (2_000 if args.quick else 20_000),
            database_url=args.database_url,
        )
    )
