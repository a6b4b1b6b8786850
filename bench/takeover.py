"""How long the chain goes unwatched when the leading bot dies: two `inventory-bot run` processes
on one PostgreSQL database, a feed sending sales all along, the leader killed (-9) or frozen
(SIGSTOP) round after round. Measured from the signal to the standby saying it leads
(/readyz) and to the first sale it commits.

Baseline, in the same run on the same data: one bot alone, killed and started again at once
(what a service manager does with Restart=always and no delay): it must reload every pace
before it stores a sale again, where the standby kept them warm.

    .venv/bin/python bench/takeover.py --quick      # 100,000 levels, 3 rounds
    .venv/bin/python bench/takeover.py              # 1,000,000 levels, 20 rounds

Then the standby's lag (its /metrics) while the leader stores as fast as the feed sends.
"""

from __future__ import annotations

import argparse
import asyncio
import math
import random
import re
import signal
import statistics
import sys
import tempfile
import time
from pathlib import Path

import aiohttp
import asyncpg

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from commands import write_levels
from pg import durable_server, emptied

from bot.feed.worlds import model_names, store_names
from bot.store.move import move
from tests.fakes.feed import BufferingFeed
from tests.helpers import BotProcess, free_port

RATE = 200.0  # sales a second on the feed, all along
LOAD_SECONDS = 30.0  # how long the standby's lag is sampled under a flat-out feed


class Bench:
    def __init__(self, folder: Path, url: str, feed: BufferingFeed, stores: int, models: int):
        self.folder, self.url, self.feed = folder, url, feed
        self.stores, self.models = store_names(stores), model_names(models)
        self.http = aiohttp.ClientSession()
        self.conn: asyncpg.Connection | None = None
        self.ports: dict[BotProcess, int] = {}

    def start(self) -> BotProcess:
        port = free_port()
        bot = BotProcess(
            self.folder,
            DATABASE_URL=self.url,
            FEED_URLS=self.feed.url,
            HTTP_PORT=str(port),
            LOG_LEVEL="WARNING",
        )
        self.ports[bot] = port
        return bot

    async def role(self, bot: BotProcess) -> str:
        try:
            async with self.http.get(f"http://127.0.0.1:{self.ports[bot]}/readyz") as response:
                body = await response.json()
        except (aiohttp.ClientError, ValueError):
            return ""
        return body["checks"].get("role", {}).get("detail", "")

    async def until_role(self, bot: BotProcess, role: str, within: float = 300) -> float:
        deadline = time.monotonic() + within
        while not (await self.role(bot)).startswith(role):
            if bot.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"no {role!r} from the bot; its log:\n{bot.output()[-3000:]}")
            await asyncio.sleep(0.02)
        return time.monotonic()

    async def standby_lag(self, bot: BotProcess) -> float:
        url = f"http://127.0.0.1:{self.ports[bot]}/metrics"
        async with self.http.get(url) as response:
            text = await response.text()
        return float(re.search(r"^inventory_standby_lag_seconds (\S+)$", text, re.M)[1])

    async def newest(self) -> int:
        assert self.conn is not None
        return await self.conn.fetchval("SELECT coalesce(max(id), 0) FROM events")

    async def until_stored_after(self, since: int, within: float = 300) -> float:
        deadline = time.monotonic() + within
        while await self.newest() <= since:
            if time.monotonic() > deadline:
                raise RuntimeError("no sale stored")
            await asyncio.sleep(0.02)
        return time.monotonic()

    async def sell_forever(self) -> None:
        rng = random.Random(3)
        while True:
            await self.feed.put(
                {
                    "store": rng.choice(self.stores),
                    "model": rng.choice(self.models),
                    "inventory": rng.randint(1, 90),
                }
            )
            await asyncio.sleep(1 / RATE)


async def one_round(bench: Bench, leader: BotProcess, standby: BotProcess, how: str) -> tuple:
    """Kill or freeze `leader`; the seconds until `standby` leads and until it stores."""
    if how == "kill -9":
        leader.process.kill()
    else:
        leader.process.send_signal(signal.SIGSTOP)
    signalled = time.monotonic()
    leads = await bench.until_role(standby, "leading")
    stores = await bench.until_stored_after(await bench.newest())
    if how != "kill -9":
        leader.process.send_signal(signal.SIGCONT)  # it finds the lead lost, and exits 1
    leader.process.wait(60)
    return leads - signalled, stores - signalled


async def alone(bench: Bench, rounds: int) -> list[tuple]:
    """The baseline: one bot, killed and started again at once."""
    times = []
    bot = bench.start()
    await bench.until_role(bot, "leading")
    for _ in range(rounds):
        await bench.until_stored_after(await bench.newest())
        bot.process.kill()
        killed = time.monotonic()
        bot.process.wait(10)
        bot = bench.start()
        leads = await bench.until_role(bot, "leading")
        stores = await bench.until_stored_after(await bench.newest())
        times.append((leads - killed, stores - killed))
    bot.process.kill()
    bot.process.wait(10)
    return times


async def paired(bench: Bench, rounds: int, how: str) -> list[tuple]:
    times = []
    leader = bench.start()
    await bench.until_role(leader, "leading")
    standby = bench.start()
    await bench.until_role(standby, "standby")
    for _ in range(rounds):
        await bench.until_stored_after(await bench.newest())
        times.append(await one_round(bench, leader, standby, how))
        leader, standby = standby, bench.start()  # the old one, started again, stands by
        await bench.until_role(standby, "standby")
    for bot in (leader, standby):
        bot.process.kill()
        bot.process.wait(10)
    return times


async def lag_under_load(bench: Bench, seconds: float) -> tuple[float, list[float]]:
    """A leader storing as fast as the feed sends, a standby following: the leader's events a
    second, and the standby's lag (its /metrics) sampled every 100 ms."""
    leader = bench.start()
    await bench.until_role(leader, "leading")
    standby = bench.start()
    await bench.until_role(standby, "standby")
    rng = random.Random(4)
    await bench.feed.put(
        *(
            {
                "store": rng.choice(bench.stores),
                "model": rng.choice(bench.models),
                "inventory": rng.randint(1, 90),
            }
            for _ in range(int(seconds * 100_000))  # more than it can send in that time
        )
    )
    first, began, lags = await bench.newest(), time.monotonic(), []
    while time.monotonic() - began < seconds:
        lags.append(await bench.standby_lag(standby))
        await asyncio.sleep(0.1)
    rate = (await bench.newest() - first) / (time.monotonic() - began)
    bench.feed.pending.clear()
    for bot in (leader, standby):
        bot.process.kill()
        bot.process.wait(10)
    return rate, lags


def line(name: str, times: list[tuple]) -> str:
    leads = statistics.median(t[0] for t in times)
    stores = statistics.median(t[1] for t in times)
    worst = max(t[1] for t in times)
    return f"  {name:34} {leads:8.2f} s {stores:10.2f} s {worst:10.2f} s"


async def main(stores: int, models: int, rounds: int) -> None:
    with durable_server() as url, tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "levels.db"
        await write_levels(path, stores, models)
        await emptied(url)
        moved = await move(path, url, retention_days=30)
        print(f"{stores * models:,} levels in PostgreSQL (moved in {moved.seconds:.1f} s)")
        async with BufferingFeed() as feed:
            bench = Bench(Path(folder), url, feed, stores, models)
            bench.conn = await asyncpg.connect(url)
            selling = asyncio.create_task(bench.sell_forever())
            try:
                results = {
                    "one bot, started again (baseline)": await alone(bench, rounds),
                    "two bots, leader killed (-9)": await paired(bench, rounds, "kill -9"),
                    "two bots, leader frozen (SIGSTOP)": await paired(bench, rounds, "SIGSTOP"),
                }
                selling.cancel()
                rate, lags = await lag_under_load(bench, LOAD_SECONDS)
            finally:
                selling.cancel()
                await bench.conn.close()
                await bench.http.close()
    print(
        f"\n{rounds} rounds each, {RATE:g} sales/s on the feed all along; medians from the "
        "signal, and the worst time to store again"
    )
    print(f"  {'':34} {'leads':>10} {'stores':>12} {'worst':>12}")
    for name, times in results.items():
        print(line(name, times))
    lags.sort()
    print(
        f"\nstandby lag while the leader stores flat out ({rate:,.0f} sales/s, "
        f"{LOAD_SECONDS:g} s): median {statistics.median(lags):.2f} s, "
        f"p99 {lags[math.ceil(len(lags) * 0.99) - 1]:.2f} s, worst {lags[-1]:.2f} s"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="100,000 levels, 3 rounds")
    parser.add_argument("--rounds", type=int)
    args = parser.parse_args()
    stores, models = (100, 1000) if args.quick else (1000, 1000)
    print("command:", " ".join([Path(sys.executable).name, *sys.argv]))
    asyncio.run(main(stores, models, args.rounds or (3 if args.quick else 20)))
