"""Ingest benchmark: the real pipeline against a bare baseline, measured in the same run.

A feed server in its own process sends pre-built frames over a local WebSocket, at a fixed rate
or flat out, and notes when it sent each one. The pipeline under test runs in a fresh process of
its own and notes when each batch committed. Send-to-commit latency pairs the two by position
(one connection keeps order).

- bot: the real Bot (feed client, validation, writer, SQLite, alert engine), no alert rules.
- bot+50ch: the same with 50 channels of rules (see configure_channels): every sale is watched
  by about 22 channels, alerts are decided, rendered and written to the outbox (the sender's
  transport discards them, so Slack's pace is not what is measured).
- baseline: websockets client, json.loads, aiosqlite executemany per batch into the same two
  tables the bot keeps (event log and current levels), no bot code.

    .venv/bin/python bench/ingest.py            # about three minutes on 2 cores
    .venv/bin/python bench/ingest.py --quick    # a smaller run to try it out
"""

from __future__ import annotations

import argparse
import array
import asyncio
import json
import multiprocessing as mp
import os
import random
import resource
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import aiosqlite
from websockets.asyncio.client import connect
from websockets.asyncio.server import serve

from bot.feed.worlds import RealisticWorld

STORES, MODELS = 150, 100  # 15,000 keys
BATCH = 5_000  # the baseline's batch cap: the bot's default WRITER_BATCH_SIZE


# --- the feed server -------------------------------------------------------------------------


def build_frames(count: int, path: Path) -> None:
    """Write `count` frames of the realistic world, one per line."""
    world = RealisticWorld(random.Random(42), stores=STORES, models=MODELS)
    sales = world.sales()
    path.write_text("\n".join(next(sales)[1].to_json() for _ in range(count)) + "\n")


def serve_frames(
    frames_path: str, count: int, rate: float | None, port_out, times_path: str
) -> None:
    """Process body: serve the first `count` frames to the first connection, at `rate` a
    second or flat out, and note when each was sent."""
    with open(frames_path) as lines:
        frames = [line.rstrip("\n") for line, _ in zip(lines, range(count), strict=False)]
    sent = array.array("d", bytes(8 * count))

    async def handler(ws) -> None:
        start = time.time()
        i = 0
        while i < count:
            if rate is not None:
                wait = start + i / rate - time.time()
                if wait > 0:
                    await asyncio.sleep(wait)
                # Send everything due by now, then look at the clock again.
                end = min(count, int((time.time() - start) * rate) + 1)
            else:
                end = min(count, i + 500)
            end = max(end, i + 1)
            for j in range(i, end):
                sent[j] = time.time()
                await ws.send(frames[j])
            i = end
        await ws.wait_closed()
        stop.set()

    async def serve_until_done() -> None:
        async with serve(handler, "127.0.0.1", 0, compression=None) as server:
            port_out.send(next(iter(server.sockets)).getsockname()[1])
            await stop.wait()

    stop = asyncio.Event()
    asyncio.run(serve_until_done())
    Path(times_path).write_bytes(sent.tobytes())


# --- the pipelines under test ----------------------------------------------------------------


@dataclass
class Result:
    commits: list[tuple[float, int]]  # (wall time, events in the batch)
    rss_mb: float
    peak_rss_mb: float
    keys: int
    cpu_s: float = 0.0  # CPU time the pipeline's process used, all threads


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def rss_mb() -> tuple[float, float]:
    """Resident memory now and at its peak, in MB."""
    fields = dict(line.split(":", 1) for line in Path("/proc/self/status").read_text().splitlines())
    return (int(fields["VmRSS"].split()[0]) / 1024, int(fields["VmHWM"].split()[0]) / 1024)


class _Discard:
    """A Slack transport that accepts every call and keeps nothing."""

    async def post(self, channel, payload, outbox_id):
        from bot.slack.transport import Posted  # noqa: PLC0415

        return Posted(channel, f"{time.time():.6f}")

    async def reply(self, channel_id, thread_ts, payload, outbox_id):
        return await self.post(channel_id, payload, outbox_id)

    async def update(self, channel_id, ts, payload):
        return None

    async def find(self, channel, outbox_id, *, since, thread_ts):
        return None


async def configure_channels(path: Path, count: int, *, wide: bool = False) -> None:
    """Write `count` channels of rules through the bot's own persistence.

    The usual shape of a chain (wide=False): two channels watch every store and model (the
    inventory team, and merchandising with a higher overstock line); the rest are split between
    regional channels (a few stores each, with a rule for one store) and category channels (a
    few models each, with a rule for one fast seller). Each sale is watched by about 4 channels.

    wide=True is a stress shape: 40% of the channels watch everything, with thresholds spread
    through the normal stock range, so each sale is watched by about 22 channels and restocked
    shelves keep opening overstock gates.
    """
    from pg import store_for  # noqa: PLC0415

    from bot.core.alerting.actions import SetRule, Watch  # noqa: PLC0415
    from bot.core.alerting.engine import AlertEngine, EngineSettings  # noqa: PLC0415
    from bot.core.rules import RuleBook, Scope, Thresholds  # noqa: PLC0415
    from bot.feed.worlds import model_names, store_names  # noqa: PLC0415
    from bot.store.batch import Batch  # noqa: PLC0415
    from bot.store.processor import AlertingProcessor  # noqa: PLC0415

    stores, models = store_names(STORES), model_names(MODELS)
    engine = AlertEngine(RuleBook(), EngineSettings())

    def rule(channel: str, store: str = "", model: str = "", **thresholds) -> None:
        engine.apply(SetRule(channel, Thresholds(**thresholds), "bench", store, model), 0.0)

    everything = round(count * 0.4) if wide else 2
    regions = (count - everything) // 2
    categories = count - everything - regions
    for n in range(everything):
        channel = f"C{n:03d}"
        if wide:
            rule(channel, low=4 + n % 9, high=60 + n % 31)
            rule(channel, store=stores[n], low=2, high=None)
            rule(channel, model=models[n], low=15, high=None)
        else:
            rule(channel, low=10, high=80 if n == 0 else 100)
    for k in range(regions):
        channel = f"C{everything + k:03d}"
        mine = stores[k * len(stores) // regions : (k + 1) * len(stores) // regions]
        engine.apply(Watch(channel, Scope(stores=frozenset(mine)), "bench"), 0.0)
        rule(channel)
        rule(channel, store=mine[0], low=5)
    for k in range(categories):
        channel = f"C{everything + regions + k:03d}"
        mine = models[k * len(models) // categories : (k + 1) * len(models) // categories]
        engine.apply(Watch(channel, Scope(models=frozenset(mine)), "bench"), 0.0)
        rule(channel)
        rule(channel, model=mine[0], low=15)
    store = await store_for(path)
    await store.open()
    alerts = AlertingProcessor(engine, next_outbox_id=1).prepare([], 0.0)
    await store.write(Batch([], [], [], [], [], [], [], [], alerts=alerts))
    await store.close()


async def run_bot(
    url: str, count: int, folder: str, channels: int = 0, wide: bool = False
) -> Result:
    # Imported here so that the baseline's process never loads the bot's modules: each
    # pipeline's resident memory is its own.
    from pg import store_for  # noqa: PLC0415

    from bot.config import Settings  # noqa: PLC0415
    from bot.logs import setup_logging  # noqa: PLC0415
    from bot.runtime import Bot  # noqa: PLC0415

    setup_logging("WARNING")
    path = Path(folder) / "bot.db"
    if channels:
        await configure_channels(path, channels, wide=wide)
    settings = Settings(
        _env_file=None,
        feed_urls=[url],
        database_path=path,
        log_level="WARNING",
    )
    bot = Bot(settings, transport=_Discard())
    bot.store = await store_for(path)  # SQLite at `path`, or PostgreSQL with --database-url
    commits: list[tuple[float, int]] = []
    await bot.start()
    bot.writer.commit_hooks.append(lambda events, at: commits.append((time.time(), len(events))))
    await bot.writer.wait_for(lambda stats: stats.events >= count)
    current, peak = rss_mb()
    keys = sum(len(shelves) for shelves in bot.writer.paces.shelves.values())
    await bot.stop()
    return Result(commits, current, peak, keys)


async def run_baseline(url: str, count: int, folder: str) -> Result:
    db = await aiosqlite.connect(Path(folder) / "baseline.db", isolation_level=None)
    for pragma in ("journal_mode = WAL", "synchronous = NORMAL", "wal_autocheckpoint = 0"):
        await db.execute(f"PRAGMA {pragma}")
    await db.executescript(
        "CREATE TABLE events (id INTEGER PRIMARY KEY, at REAL, store TEXT, model TEXT, "
        "inventory INTEGER);"
        "CREATE TABLE levels (store TEXT, model TEXT, inventory INTEGER, at REAL, "
        "sales INTEGER, PRIMARY KEY (store, model)) WITHOUT ROWID;"
    )
    queue: asyncio.Queue = asyncio.Queue(10_000)
    commits: list[tuple[float, int]] = []

    async def write() -> None:
        done = 0
        while done < count:
            batch = [await queue.get()]
            while len(batch) < BATCH and not queue.empty():
                batch.append(queue.get_nowait())
            await db.execute("BEGIN")
            await db.executemany(
                "INSERT INTO events (at, store, model, inventory) VALUES (?, ?, ?, ?)", batch
            )
            await db.executemany(
                "INSERT INTO levels VALUES (?2, ?3, ?4, ?1, 1) ON CONFLICT DO UPDATE SET "
                "inventory = excluded.inventory, at = excluded.at, sales = sales + 1",
                batch,
            )
            await db.execute("COMMIT")
            commits.append((time.time(), len(batch)))
            done += len(batch)

    writer = asyncio.create_task(write())
    async with connect(url, compression=None) as ws:
        for _ in range(count):
            frame = json.loads(await ws.recv())
            await queue.put((time.time(), frame["store"], frame["model"], frame["inventory"]))
        await writer
    current, peak = rss_mb()
    async with db.execute("SELECT count(*) FROM levels") as cursor:
        (keys,) = await cursor.fetchone()
    await db.close()
    return Result(commits, current, peak, keys)


async def run_bot_50(url: str, count: int, folder: str) -> Result:
    return await run_bot(url, count, folder, channels=50)


async def run_bot_50_wide(url: str, count: int, folder: str) -> Result:
    return await run_bot(url, count, folder, channels=50, wide=True)


PIPELINES: dict[str, Callable] = {
    "baseline": run_baseline,
    "bot": run_bot,
    "bot+50ch": run_bot_50,
    "bot+50wide": run_bot_50_wide,
}


def pipeline_process(name: str, url: str, count: int, out) -> None:
    with tempfile.TemporaryDirectory() as folder:
        start = cpu_seconds()
        result = asyncio.run(PIPELINES[name](url, count, folder))
        result.cpu_s = cpu_seconds() - start
        out.send(result)


# --- one measured run ------------------------------------------------------------------------


@dataclass
class Figures:
    events_per_s: float
    p50_ms: float
    p99_ms: float
    rss_mb: float
    peak_rss_mb: float
    keys: int
    cpu_us: float  # the pipeline's CPU time per event


def measure(pipeline: str, frames: Path, count: int, rate: float | None) -> Figures:
    """Serve `count` frames to a fresh process running `pipeline`; gather its figures."""
    ctx = mp.get_context("spawn")
    with tempfile.NamedTemporaryFile(suffix=".times") as times_file:
        port_in, port_out = ctx.Pipe(duplex=False)
        server = ctx.Process(
            target=serve_frames, args=(str(frames), count, rate, port_out, times_file.name)
        )
        server.start()
        port = port_in.recv()
        result_in, result_out = ctx.Pipe(duplex=False)
        worker = ctx.Process(
            target=pipeline_process,
            args=(pipeline, f"ws://127.0.0.1:{port}/", count, result_out),
        )
        worker.start()
        result: Result = result_in.recv()
        worker.join()
        server.join()
        sent = array.array("d")
        sent.frombytes(Path(times_file.name).read_bytes())

    latencies, done = [], 0
    for at, size in result.commits:
        latencies.extend(at - sent[i] for i in range(done, min(done + size, count)))
        done += size
    latencies.sort()
    return Figures(
        events_per_s=count / (result.commits[-1][0] - sent[0]),
        p50_ms=statistics.median(latencies) * 1000,
        p99_ms=latencies[int(len(latencies) * 0.99) - 1] * 1000,
        rss_mb=result.rss_mb,
        peak_rss_mb=result.peak_rss_mb,
        keys=result.keys,
        cpu_us=result.cpu_s / count * 1e6,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="smaller counts, same shape")
    parser.add_argument("--rounds", type=int, default=3, help="flat-out rounds (median taken)")
    parser.add_argument(
        "--database-url",
        metavar="URL",
        help="the bot stores in PostgreSQL at URL, emptied before each run (see bench/pg.py); "
        "the baseline stays SQLite",
    )
    args = parser.parse_args()
    if args.database_url:
        os.environ["BENCH_DATABASE_URL"] = args.database_url  # the pipelines' processes read it
    scale = 0.1 if args.quick else 1.0
    print(
        f"ingest benchmark: {os.cpu_count()} cores, Python {sys.version.split()[0]}, "
        f"{STORES * MODELS:,} keys (realistic world)"
    )
    print(
        f"{'load':<10} {'pipeline':<10} {'events':>9} {'events/s':>10} {'p50 ms':>8} "
        f"{'p99 ms':>8} {'RSS MB':>7} {'CPU us':>7}"
    )

    def show(label: str, pipeline: str, count: int, f: Figures) -> None:
        print(
            f"{label:<10} {pipeline:<10} {count:>9,} {f.events_per_s:>10,.0f} "
            f"{f.p50_ms:>8.2f} {f.p99_ms:>8.2f} {f.rss_mb:>7.0f} {f.cpu_us:>7.1f}",
            flush=True,
        )

    with tempfile.TemporaryDirectory() as folder:
        frames = Path(folder) / "frames.jsonl"
        memory_events = int(1_000_000 * scale)
        build_frames(memory_events, frames)
        paced: dict[str, Figures] = {}
        for label, count, rate in [
            ("1,000/s", int(20_000 * scale), 1_000.0),
            ("10,000/s", int(100_000 * scale), 10_000.0),
        ]:
            for pipeline in ("baseline", "bot"):
                paced[pipeline + label] = f = measure(pipeline, frames, count, rate)
                show(label, pipeline, count, f)

        flat = int(200_000 * scale)
        rounds: dict[str, list[float]] = {p: [] for p in PIPELINES}
        for n in range(args.rounds):
            for pipeline in PIPELINES:
                f = measure(pipeline, frames, flat, None)
                rounds[pipeline].append(f.events_per_s)
                show(f"flat out {n + 1}", pipeline, flat, f)
        memory = measure("bot", frames, memory_events, None)

    baseline, bot, alerting, wide = (
        statistics.median(rounds[p]) for p in ("baseline", "bot", "bot+50ch", "bot+50wide")
    )
    print()
    print(
        f"flat out, median of {args.rounds}: bot {bot:,.0f}/s, baseline {baseline:,.0f}/s, "
        f"ratio {bot / baseline:.2f}  (target >= 0.80)"
    )
    print(
        f"flat out with 50 channels of rules: {alerting:,.0f}/s, ratio to the baseline "
        f"{alerting / baseline:.2f}  (target >= 0.70)"
    )
    print(
        f"flat out with 50 channels, wide (22 per sale, thresholds in the stock range): "
        f"{wide:,.0f}/s, ratio {wide / baseline:.2f}  (no target: a stress figure)"
    )
    print(f"p99 send-to-commit at 1,000/s: {paced['bot1,000/s'].p99_ms:.2f} ms  (target < 20 ms)")
    print(
        f"resident memory after {memory_events:,} events over {memory.keys:,} keys: "
        f"{memory.rss_mb:.0f} MB, peak {memory.peak_rss_mb:.0f} MB  (target < 150 MB); "
        f"{memory.events_per_s:,.0f} events/s"
    )


if __name__ == "__main__":
    main()
