"""Ingest benchmark: the real pipeline against a bare baseline, measured in the same run.

    .venv/bin/python bench/ingest.py              # the figures: 3 rounds, about 20 minutes
    .venv/bin/python bench/ingest.py --quick      # to try it out: 1 round, 5 s flat out
    .venv/bin/python bench/ingest.py --flat-seconds 90 --rounds 5

A feed server in its own process (bench/feed_server.py: pre-built frames through a raw socket,
about 1 us of CPU a frame, so it leaves the pipeline its CPU) sends realistic frames over a
local WebSocket, at a fixed rate or flat out. Each pipeline runs in a fresh process: it starts
(imports, migrations, rules: not measured), says it is ready, and only then does the server
send. "CPU per event" is the pipeline process's CPU (all its threads) from that moment to the
commit of the last event. Send-to-commit latency pairs the server's send times with the
commits by position (one connection keeps order).

- baseline: bench/ingest_baseline.py, the least code storing the same, with every trick of the
  bot's that is not bot logic (orjson, the bot's queue, per-key level upserts per batch, commit
  overlapped with the next batch, the bot's pragmas, checkpointer and GC settings).
- bot: the real Bot (feed client, validation, writer, paces, SQLite, alert engine, planner),
  no alert rules.
- bot+50ch: the same with 50 channels of rules in the usual shape of a chain (configure_channels:
  about 4 channels watch each sale); alerts are decided and written to the outbox (the
  transport discards them, so Slack's pace is not what is measured).
- bot+50wide: a stress shape with no target (about 22 channels a sale).

Flat-out runs last --flat-seconds (60 by default, so each spans several WAL checkpoints); every
round runs every pipeline once, interleaved, and the figures are medians over rounds, with the
bot's ratio to the baseline taken within each round.
"""

from __future__ import annotations

import argparse
import array
import asyncio
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

import feed_server
from ingest_baseline import Baseline

from bot.feed.worlds import RealisticWorld

STORES, MODELS = 150, 100  # 15,000 keys
FRAMES = 1_000_000  # distinct frames the server cycles through


def build_frames(count: int, path: Path) -> None:
    """Write `count` frames of the realistic world, one per line."""
    world = RealisticWorld(random.Random(42), stores=STORES, models=MODELS)
    sales = world.sales()
    path.write_text("\n".join(next(sales)[1].to_json() for _ in range(count)) + "\n")


# --- the pipelines under test ----------------------------------------------------------------


@dataclass
class Result:
    commits: list[tuple[float, int]]  # (wall time, events in the batch)
    events: int
    cpu_s: float  # the pipeline's CPU from "ready" to its last commit, all threads
    rss_mb: float
    peak_rss_mb: float
    keys: int


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def rss_mb() -> tuple[float, float]:
    """Resident memory now and at its peak, in MB."""
    fields = dict(line.split(":", 1) for line in Path("/proc/self/status").read_text().splitlines())
    return (int(fields["VmRSS"].split()[0]) / 1024, int(fields["VmHWM"].split()[0]) / 1024)


async def _ready_then_expected(ctl) -> tuple[float, int]:
    """Tell the parent we are ready; wait for the number of frames the server sent."""
    started = cpu_seconds()
    ctl.send("ready")
    expected = await asyncio.get_running_loop().run_in_executor(None, ctl.recv)
    return started, expected


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
    from bot.core.rules import RuleBook, Scope  # noqa: PLC0415
    from bot.core.thresholds import Thresholds  # noqa: PLC0415
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
    store = await store_for(path)  # SQLite at `path`, or PostgreSQL with --database-url
    await store.open()
    alerts = AlertingProcessor(engine, next_outbox_id=1).prepare([], 0.0)
    await store.write(Batch([], [], [], [], [], [], [], [], alerts=alerts))
    await store.close()


async def run_bot(url: str, folder: str, ctl, channels: int = 0, wide: bool = False) -> Result:
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
        feed_ping_interval_seconds=3600,  # the bench server answers no ping; a run is shorter
    )
    bot = Bot(settings, transport=_Discard())
    # SQLite at `path`, or PostgreSQL with --database-url
    bot.store = bot.leader.store = await store_for(path)
    commits: list[tuple[float, int]] = []
    await bot.start()
    bot.writer.commit_hooks.append(lambda events, at: commits.append((time.time(), len(events))))
    cpu_before, expected = await _ready_then_expected(ctl)
    await bot.writer.wait_for(lambda stats: stats.events >= expected)
    cpu = cpu_seconds() - cpu_before
    current, peak = rss_mb()
    keys = sum(len(shelves) for shelves in bot.writer.paces.shelves.values())
    await bot.stop()
    return Result(commits, expected, cpu, current, peak, keys)


async def run_baseline(url: str, folder: str, ctl) -> Result:
    baseline = Baseline(url, folder)
    commits: list[tuple[float, int]] = []
    await baseline.start()
    baseline.commit_hooks.append(lambda size, at: commits.append((at, size)))
    cpu_before, expected = await _ready_then_expected(ctl)
    await baseline.run(expected)
    cpu = cpu_seconds() - cpu_before
    current, peak = rss_mb()
    keys = await baseline.stop()
    return Result(commits, expected, cpu, current, peak, keys)


async def run_bot_50(url: str, folder: str, ctl) -> Result:
    return await run_bot(url, folder, ctl, channels=50)


async def run_bot_50_wide(url: str, folder: str, ctl) -> Result:
    return await run_bot(url, folder, ctl, channels=50, wide=True)


PIPELINES: dict[str, Callable] = {
    "baseline": run_baseline,
    "bot": run_bot,
    "bot+50ch": run_bot_50,
    "bot+50wide": run_bot_50_wide,
}


def pipeline_process(name: str, url: str, ctl, out, cpus: set[int] | None) -> None:
    if cpus:
        os.sched_setaffinity(0, cpus)
    with tempfile.TemporaryDirectory() as folder:
        out.send(asyncio.run(PIPELINES[name](url, folder, ctl)))


def server_process(*args, cpus: set[int] | None = None, **kwargs) -> None:
    if cpus:
        os.sched_setaffinity(0, cpus)
    feed_server.serve(*args, **kwargs)


# --- one measured run ------------------------------------------------------------------------


@dataclass
class Figures:
    events: int
    events_per_s: float
    p50_ms: float
    p99_ms: float
    rss_mb: float
    peak_rss_mb: float
    keys: int
    cpu_us: float  # the pipeline's CPU per event, start-up excluded
    server_cpu_us: float  # the feed server's CPU per event
    server_busy: float  # the server's CPU over its sending time: 1.0 is a whole core


@dataclass
class Pinning:
    """Which CPUs the server and the pipelines run on (None: wherever the kernel puts them)."""

    server: set[int] | None = None
    pipeline: set[int] | None = None


def measure(
    pipeline: str,
    frames: Path,
    *,
    count: int | None = None,
    seconds: float | None = None,
    rate: float | None = None,
    pinning: Pinning | None = None,
) -> Figures:
    """Serve frames to a fresh process running `pipeline`; gather its figures."""
    pinning = pinning or Pinning()
    ctx = mp.get_context("spawn")
    with tempfile.NamedTemporaryFile(suffix=".times") as times_file:
        port_in, port_out = ctx.Pipe(duplex=False)
        go_here, go_there = ctx.Pipe()
        server = ctx.Process(
            target=server_process,
            args=(str(frames),),
            kwargs={
                "count": count,
                "seconds": seconds,
                "rate": rate,
                "port_out": port_out,
                "go": go_there,
                "times_path": times_file.name,
                "cpus": pinning.server,
            },
        )
        server.start()
        port = port_in.recv()
        ctl_here, ctl_there = ctx.Pipe()
        result_in, result_out = ctx.Pipe(duplex=False)
        worker = ctx.Process(
            target=pipeline_process,
            args=(pipeline, f"ws://127.0.0.1:{port}/", ctl_there, result_out, pinning.pipeline),
        )
        worker.start()
        if ctl_here.recv() != "ready":
            raise SystemExit(f"{pipeline}: did not start")
        go_here.send("go")
        sent_count, server_cpu, sending = go_here.recv()
        ctl_here.send(sent_count)
        result: Result = result_in.recv()
        worker.join()
        server.join()
        sent = array.array("d")
        sent.frombytes(Path(times_file.name).read_bytes())

    latencies: list[float] = []
    if rate is not None:
        done = 0
        for at, size in result.commits:
            latencies.extend(at - sent[i] for i in range(done, min(done + size, sent_count)))
            done += size
        latencies.sort()
    return Figures(
        events=sent_count,
        events_per_s=sent_count / (result.commits[-1][0] - sent[0]),
        p50_ms=statistics.median(latencies) * 1000 if latencies else float("nan"),
        p99_ms=latencies[int(len(latencies) * 0.99) - 1] * 1000 if latencies else float("nan"),
        rss_mb=result.rss_mb,
        peak_rss_mb=result.peak_rss_mb,
        keys=result.keys,
        cpu_us=result.cpu_s / sent_count * 1e6,
        server_cpu_us=server_cpu / sent_count * 1e6,
        server_busy=server_cpu / sending if sending else 0.0,
    )


# --- the whole benchmark ---------------------------------------------------------------------

COLUMNS = (
    f"{'load':<12} {'pipeline':<11} {'events':>10} {'events/s':>10} {'p50 ms':>7} {'p99 ms':>7} "
    f"{'RSS MB':>7} {'CPU us':>7} {'feed us':>8} {'feed core':>9}"
)


def row(label: str, pipeline: str, f: Figures) -> str:
    return (
        f"{label:<12} {pipeline:<11} {f.events:>10,} {f.events_per_s:>10,.0f} {f.p50_ms:>7.2f} "
        f"{f.p99_ms:>7.2f} {f.rss_mb:>7.0f} {f.cpu_us:>7.1f} {f.server_cpu_us:>8.2f} "
        f"{f.server_busy:>9.0%}"
    )


def median_figures(runs: list[Figures]) -> Figures:
    """Each figure's median over whole runs."""
    return Figures(
        *(statistics.median(getattr(f, name) for f in runs) for name in Figures.__annotations__)
    )


def pinning_for(pin: bool) -> Pinning:
    """With --pin and three CPUs or more, the server gets one CPU and the pipelines the rest."""
    cpus = sorted(os.sched_getaffinity(0))
    if not pin:
        return Pinning()
    if len(cpus) < 3:
        print(f"--pin needs 3 CPUs or more (the pipeline uses two threads); {len(cpus)} here")
        return Pinning()
    return Pinning(server={cpus[-1]}, pipeline=set(cpus[:-1]))


def main() -> None:
    from pg import shown  # noqa: PLC0415 - here: the pipelines' processes never load it

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="1 round, 5 s flat out, short paces")
    parser.add_argument("--rounds", type=int, help="whole rounds; medians are taken (default 3)")
    parser.add_argument("--flat-seconds", type=float, help="length of a flat-out run (60)")
    parser.add_argument("--pin", action="store_true", help="server and pipeline on separate CPUs")
    parser.add_argument(
        "--database-url",
        metavar="URL",
        help="the bot stores in PostgreSQL at URL, emptied before each run (see bench/pg.py); "
        "the baseline stays SQLite",
    )
    args = parser.parse_args()
    if args.database_url:
        os.environ["BENCH_DATABASE_URL"] = args.database_url  # the pipelines' processes read it
    rounds = args.rounds or (1 if args.quick else 3)
    flat_seconds = args.flat_seconds or (5.0 if args.quick else 60.0)
    scale = 0.1 if args.quick else 1.0
    pinning = pinning_for(args.pin)
    print(
        f"ingest benchmark: {os.cpu_count()} cores, Python {sys.version.split()[0]}, "
        f"{STORES * MODELS:,} keys (realistic world); {rounds} round(s), flat out for "
        f"{flat_seconds:.0f} s; command: {' '.join([sys.executable, *map(shown, sys.argv)])}"
    )
    paced_loads = [
        ("1,000/s", int(20_000 * scale), 1_000.0),
        ("10,000/s", int(100_000 * scale), 10_000.0),
    ]
    seen: dict[tuple[str, str], list[Figures]] = {}
    ratios: dict[str, list[float]] = {p: [] for p in PIPELINES if p != "baseline"}
    with tempfile.TemporaryDirectory() as folder:
        frames = Path(folder) / "frames.jsonl"
        build_frames(int(FRAMES * scale), frames)
        print(COLUMNS)
        for n in range(rounds):
            for label, count, rate in paced_loads:
                for pipeline in ("baseline", "bot"):
                    f = measure(pipeline, frames, count=count, rate=rate, pinning=pinning)
                    seen.setdefault((label, pipeline), []).append(f)
                    print(row(f"{label} r{n + 1}", pipeline, f), flush=True)
            flat: dict[str, Figures] = {}
            for pipeline in PIPELINES:
                flat[pipeline] = f = measure(
                    pipeline, frames, seconds=flat_seconds, pinning=pinning
                )
                seen.setdefault(("flat out", pipeline), []).append(f)
                print(row(f"flat r{n + 1}", pipeline, f), flush=True)
            for pipeline, found in ratios.items():
                found.append(flat[pipeline].events_per_s / flat["baseline"].events_per_s)
        memory = measure("bot", frames, count=int(FRAMES * scale), pinning=pinning)

    print(f"\nmedians of {rounds} whole run(s) each:")
    print(COLUMNS)
    for (label, pipeline), runs in seen.items():
        print(row(label, pipeline, median_figures(runs)))
    baseline = statistics.median(f.events_per_s for f in seen[("flat out", "baseline")])
    print()
    for pipeline, target in (("bot", 0.8), ("bot+50ch", 0.7), ("bot+50wide", None)):
        rate = statistics.median(f.events_per_s for f in seen[("flat out", pipeline)])
        each = ", ".join(f"{r:.2f}" for r in ratios[pipeline])
        wanted = f"target >= {target:.2f}" if target else "no target: a stress figure"
        print(
            f"flat out, {pipeline}: {rate:,.0f}/s against the baseline's {baseline:,.0f}/s; "
            f"ratio within each round {each}, median {statistics.median(ratios[pipeline]):.2f}"
            f"  ({wanted})"
        )
    p99 = statistics.median(f.p99_ms for f in seen[("1,000/s", "bot")])
    print(f"p99 send-to-commit at 1,000/s, bot: {p99:.2f} ms  (target < 20 ms)")
    print(
        f"resident memory after {memory.events:,} events over {memory.keys:,} keys: "
        f"{memory.rss_mb:.0f} MB, peak {memory.peak_rss_mb:.0f} MB  (target < 150 MB); "
        f"{memory.events_per_s:,.0f} events/s"
    )
    busiest = max(f.server_busy for runs in seen.values() for f in runs)
    print(
        f"the feed server used at most {busiest:.0%} of a core while sending (its CPU is not "
        f"the pipelines'; {'pinned apart' if pinning.server else 'not pinned'})"
    )


if __name__ == "__main__":
    main()
