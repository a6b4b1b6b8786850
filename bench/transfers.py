"""Transfer planner benchmark: a whole chain planned at once, and one model planned again.

    .venv/bin/python bench/transfers.py            # 3,000 stores x 5,000 models, minutes
    .venv/bin/python bench/transfers.py --quick    # 1,000 x 1,000

The chain is synthetic but shaped like a shoe chain: a store sells about 60 pairs a day, spread
over the models by a Zipf-like popularity and scaled by the store's size; a shelf is stocked
for three weeks of its sales, a size run (6 pairs) at the least, give or take half; each
model's low threshold is 30% of its usual shelf. Then 3% of shelves are short (at or below
their low threshold), 2% hold four times too much, and one pace in ten is not known yet.

- full plan: every model planned from (models x stores) arrays, as the planner's first round
  after a start. The baseline, timed in the same run, is one vectorised pass that only
  computes each model's pooled cover: the least any planner reading the whole chain must do.
- memory: what planning allocates, and what the bot keeps per shelf in memory (its PaceBook).
- one model: `Planner.plan_one`, the path the bot runs after a sale, for a model sold in all
  3,000 stores: its shelves read from the PaceBook into arrays, paces turned into rates, low
  thresholds from the channels' rules, reservations, the plan. The baseline is `plan_model`
  alone on ready arrays.
- first round: the planner's real first round after a start, `Planner.plan_round` over the
  whole chain: every model's shelves from the PaceBook into arrays, its low thresholds from the
  rules, its plan, and the plans handed to the writer in groups of 200 and committed through
  it (the alert engine's transfer book, suggestion rows) to a real SQLite file. Its baseline is
  the full plan over ready arrays above, timed in the same run.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import math
import resource
import statistics
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

import numpy as np

from bot.core.alerting.engine import AlertEngine, EngineSettings
from bot.core.rules import RuleBook
from bot.core.thresholds import Thresholds
from bot.core.transfers.plan import ModelStock, plan_model
from bot.core.velocity import Pace, PaceBook
from bot.feed.worlds import model_names, store_names
from bot.planner import Planner
from bot.store.processor import AlertingProcessor, Submitted
from bot.store.sqlite.backend import SqliteBackend
from bot.store.writer import Writer


def chain(stores: int, models: int, seed: int = 1) -> tuple[np.ndarray, ...]:
    """(levels, rates, lows), each of shape (models, stores)."""
    rng = np.random.default_rng(seed)
    size = rng.lognormal(0, 0.4, stores)
    popularity = 1 / (np.arange(models) + 1.0) ** 0.8
    rng.shuffle(popularity)
    share = popularity / popularity.sum()
    rates = 60 / 24 * share[:, None] * size[None, :]  # pairs an hour
    usual = np.maximum(6, rates * 21 * 24)  # what a shelf is stocked to
    levels = np.round(usual * rng.uniform(0.5, 1.5, rates.shape)).astype(np.int64)
    lows = np.broadcast_to(
        np.maximum(2, np.round(0.3 * np.median(usual, axis=1))).astype(np.int64)[:, None],
        levels.shape,
    )
    draw = rng.random(rates.shape)
    short = draw < 0.03
    levels[short] = np.floor(rng.random(int(short.sum())) * (lows[short] + 1))
    over = draw > 0.98
    levels[over] = levels[over] * 4
    rates[rng.random(rates.shape) < 0.1] = np.nan
    return levels, rates, lows


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def timed(function, *args, **kwargs):
    started = time.perf_counter()
    result = function(*args, **kwargs)
    return result, time.perf_counter() - started


def plan_everything(names, shops, levels, rates, lows) -> list:
    """Every model planned, as the planner's first round after a start does."""
    nothing = np.zeros(len(shops), dtype=np.int64)
    return [
        s
        for m in range(len(names))
        for s in plan_model(
            ModelStock(names[m], shops, levels[m], rates[m], lows[m], nothing, nothing)
        )
    ]


def pooled_cover(levels: np.ndarray, rates: np.ndarray) -> np.ndarray:
    """The baseline: each model's pooled cover in one vectorised pass, nothing decided. No
    planner reading the whole chain can do less."""
    return levels.sum(axis=1) / np.nansum(rates, axis=1)


def full_plan(stores: int, models: int) -> float:
    """Prints the full plan over ready arrays; returns how long it took (s)."""
    levels, rates, lows = chain(stores, models)
    names, shops = model_names(models), store_names(stores)
    inputs = (levels.nbytes + rates.nbytes + lows.nbytes) / 2**20
    _, baseline = timed(pooled_cover, levels, rates)
    plan, took = timed(plan_everything, names, shops, levels, rates, lows)
    moved = sum(s.quantity for s in plan)
    short = int((levels <= lows).sum())
    print(
        f"full plan, {stores:,} stores x {models:,} models: {took:.2f} s (target < 10 s); "
        f"{len(plan):,} suggestions moving {moved:,} pairs to {short:,} short shelves"
    )
    print(
        f"  baseline, pooled cover of every model in one numpy pass: {baseline:.3f} s; "
        f"plan / baseline {took / baseline:,.0f}"
    )
    # Memory apart: tracemalloc slows every allocation several times over.
    del plan
    gc.collect()
    tracemalloc.start()
    plan = plan_everything(names, shops, levels, rates, lows)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    print(
        f"  memory: inputs {inputs:,.0f} MB; planning allocated at most {peak / 2**20:,.0f} MB "
        f"more, {len(plan):,} suggestions included; process peak RSS {peak_rss_mb():,.0f} MB"
    )
    return took


def shelf_memory(count: int = 200_000) -> None:
    """What the bot keeps in memory per shelf (its PaceBook entry), measured."""
    gc.collect()
    tracemalloc.start()
    paces = PaceBook()
    stores = store_names(1_000)
    for i in range(count):
        paces.sale(stores[i % 1_000], f"MODEL-{i // 1_000:05d}", 7, 1_000.0 + i)
    size, _ = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    per_shelf = size / count
    print(
        f"memory the bot keeps per shelf (PaceBook, measured on {count:,}): {per_shelf:.0f} B; "
        f"3,000 x 5,000 shelves would need {per_shelf * 15e6 / 2**30:.1f} GB"
    )


def stocked(paces: PaceBook, book: RuleBook, shelves, models, names, now: float) -> None:
    """Fill `paces` with the chain's shelves as the writer leaves them (a day of sales and
    in-stock hours at each shelf's pace), and `book` with each model's low threshold, as a
    lead would set it."""
    levels, rates, lows = shelves
    stores = len(names)
    for m, model in enumerate(models):
        known = np.nan_to_num(rates[m])
        paces.shelves[model] = {
            store: Pace(r, 1.0, 24 * r, 24.0, now - 60, int(level > 0), int(level))
            for store, r, level in zip(names, known.tolist(), levels[m].tolist(), strict=True)
        }
        total = float(known.sum())
        paces.models[model] = Pace(total, stores, 24 * total, 24.0 * stores, now - 60, stores)
        low = Thresholds(low=int(lows[m, 0]), high=None)
        book.set_rule("C1", model=model, thresholds=low, user="bench", at=now)


async def first_round(stores: int, models: int, ready_arrays: float) -> None:
    """The planner's real first round over the whole chain, through the writer into SQLite."""
    shelves = chain(stores, models)
    names, shops, now = model_names(models), store_names(stores), time.time()
    with tempfile.TemporaryDirectory() as folder:
        store = SqliteBackend(Path(folder) / "inventory.db")
        await store.open()
        engine = await store.load_engine(EngineSettings(), now=now)
        processor = AlertingProcessor(engine, next_outbox_id=await store.next_outbox_id())
        writer = Writer(
            store,
            queue_size=10_000,
            batch_size=5_000,
            dead_letter_limit=1_000,
            retention_days=30,
            clock=lambda: now,
            processor=processor,
        )
        await writer.start()
        engine.paces = writer.paces
        stocked(writer.paces, engine.book, shelves, names, shops, now)

        async def apply(action):
            future = asyncio.get_running_loop().create_future()
            await writer.submit(Submitted(action, now, future))
            return await future

        planner = Planner(writer.paces, engine, apply, clock=lambda: now)  # every model is due
        planned, took = await timed_async(planner.plan_round)
        await writer.stop()
        async with store.db.execute(
            "SELECT count(*), coalesce(sum(quantity), 0) FROM suggestions"
        ) as cursor:
            rows, pairs = await cursor.fetchone()
        await store.close()
    print(
        f"planner's real first round (Planner.plan_round, {planned:,} models, through the "
        f"writer into SQLite): {took:.2f} s; {rows:,} suggestions stored moving {pairs:,} pairs"
    )
    print(
        f"  baseline, the full plan over ready arrays (above, same chain): {ready_arrays:.2f} s; "
        f"first round / baseline {took / ready_arrays:.1f}"
    )


async def timed_async(function, *args):
    started = time.perf_counter()
    result = await function(*args)
    return result, time.perf_counter() - started


def one_model(stores: int, rounds: int) -> None:
    levels, rates, lows = chain(stores, 40, seed=2)
    now = time.time()
    models = model_names(levels.shape[0])
    names = store_names(stores)
    paces = PaceBook()
    book = RuleBook()
    stocked(paces, book, (levels, rates, lows), models, names, now)
    engine = AlertEngine(book, EngineSettings())

    async def never(_action):
        raise AssertionError("the benchmark plans; it hands nothing over")

    planner = Planner(paces, engine, never, clock=lambda: now)
    for model in models:  # the rules are looked up once per model and store, then kept
        planner.plan_one(model)
    whole, pure = [], []
    for i in range(rounds):
        m = i % len(models)
        _, took = timed(planner.plan_one, models[m])
        whole.append(took)
        stock = ModelStock(
            models[m],
            names,
            levels[m],
            rates[m],
            lows[m],
            np.zeros(stores, int),
            np.zeros(stores, int),
        )
        _, took = timed(plan_model, stock)
        pure.append(took)
    for name, samples in (
        ("Planner.plan_one (read shelves + plan)", whole),
        ("plan_model alone (baseline)", pure),
    ):
        ordered = sorted(samples)
        p50 = statistics.median(ordered) * 1000
        p99 = ordered[math.ceil(len(ordered) * 0.99) - 1] * 1000
        print(f"one model in {stores:,} stores, {name}: p50 {p50:.2f} ms, p99 {p99:.2f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="1,000 stores x 1,000 models")
    args = parser.parse_args()
    stores, models = (1_000, 1_000) if args.quick else (3_000, 5_000)
    print(f"transfer planner benchmark: Python {sys.version.split()[0]}, numpy {np.__version__}")
    one_model(stores, rounds=200)
    ready_arrays = full_plan(stores, models)
    asyncio.run(first_round(stores, models, ready_arrays))
    shelf_memory()


if __name__ == "__main__":
    main()
