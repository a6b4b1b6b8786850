"""Alert noise benchmark: one simulated hour of each simulator world through the real alert
engine with the default settings, and Slack delivery replayed with the real lane policy; then
the Slack budget with 20 channels of rules on the random feed, delivered for real.

    .venv/bin/python bench/alert_noise.py           # about a minute
    .venv/bin/python bench/alert_noise.py --hours 8 --seed 3
    .venv/bin/python bench/alert_noise.py --budget-minutes 30 --speed 30

Part one, noise. For each world it prints, per channel: new Slack messages, edits and thread
replies per hour; incidents by kind; incidents that reached no message (must be 0); and how
long after its cause each stock-out and each low-stock alert reached Slack. Time is simulated:
the engine sees the world's own clock, ticks every 0.5 s as the bot's ticker does, and each
channel's deliveries are paced by bot.core.delivery.Lane (one call a second, measured from the
previous answer), with Slack answering in SLACK_LATENCY seconds.

Part two, the budget. 20 channels each watch 5 of the random world's 20 models (so each shelf
is watched by 5 channels) for --budget-minutes simulated minutes. The outbox rows come from
the writer's own AlertingProcessor over the engine, batched per 0.5 s tick; they are committed
to a real SQLite outbox at their simulated times and delivered by the real Sender, through
slack_sdk's AsyncWebClient, to the local strict Slack (tests/fakes/slack.py) with its rate
limits. What is simulated: time runs --speed times faster, so every window, pace and budget,
the bot's and the local Slack's alike, is divided by --speed; figures are given in simulated
minutes. It prints, per method, calls per minute against the budget, the busiest minute, 429s,
and whether every incident's message ends showing its final state.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import math
import random
import sqlite3
import statistics
import sys
import tempfile
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from slack_sdk.web.async_client import AsyncWebClient

from bot.config import Settings
from bot.core.alerting.actions import DefaultRule, Watch
from bot.core.alerting.engine import AlertEngine
from bot.core.alerting.incidents import Kind, Shown
from bot.core.alerting.machine import Severity
from bot.core.delivery import LIMITS, MIN_INTERVAL, Budgets, Delivery, Lane, Limit
from bot.core.events import SaleEvent
from bot.core.rules import RuleBook, Scope
from bot.feed.worlds import RandomWorld, RealisticWorld, model_names
from bot.leading import TICK_SECONDS
from bot.parts import default_thresholds, engine_settings
from bot.slack.payload import render_payload
from bot.slack.sender import Sender
from bot.slack.transport import SlackTransport
from bot.store.batch import OutboxRow
from bot.store.processor import AlertingProcessor
from bot.store.sqlite import connect as database
from bot.store.sqlite.deliveries import SqliteDeliveries
from bot.store.writer import Tick

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from tests.fakes.rate_limits import WORKSPACE, Tier
from tests.fakes.slack import FakeSlack

CHANNEL = "C-STORES"
SLACK_LATENCY = 0.1  # seconds from a call going out to its answer
DRAIN = 900.0  # simulated seconds after the hour for what is queued to go out
DIGEST_MINUTES = 10  # ALERT_DIGEST_MINUTES's default


@dataclass
class Sent:
    op: str
    incident_id: int
    enqueued: float
    reached: float  # when Slack had it
    broadcast: bool = False  # a thread reply also shown in the channel


@dataclass
class Replay:
    """What one hour produced."""

    hours: float
    events: int = 0
    sent: dict[str, list[Sent]] = field(default_factory=lambda: defaultdict(list))
    fired: dict[int, tuple] = field(
        default_factory=dict
    )  # id -> (channel, kind, sev, opened, fired)
    # id -> every (parent, when) it was folded into: a chain member that runs out of stock in a
    # flooded channel moves from the chain to the digest
    folds: dict[int, list[tuple[int, float]]] = field(default_factory=lambda: defaultdict(list))
    escalations: list[tuple[int, float]] = field(default_factory=list)  # (id, when)
    # flood digest -> the fresh digest posted after it, which counts what the older one only
    # showed by edits (those closed since are counted, not listed)
    successor: dict[int, int] = field(default_factory=dict)
    muted: set[int] = field(default_factory=set)
    severity: dict[int, Severity | None] = field(default_factory=dict)  # as last seen

    def record(self, incident, now: float) -> None:
        """What an incident's change, taken from the engine at `now`, tells the figures."""
        if incident.kind is Kind.DIGEST and "next" in incident.detail:
            self.successor[incident.id] = incident.detail["next"]
        if incident.id not in self.fired and incident.kind is not Kind.DIGEST:
            self.fired[incident.id] = (
                incident.channel,
                incident.kind,
                incident.severity,
                incident.opened_at,
                incident.fired_at,
            )
        if incident.shown is Shown.FOLDED and (
            not self.folds[incident.id] or self.folds[incident.id][-1][0] != incident.parent_id
        ):
            self.folds[incident.id].append((incident.parent_id, now))
        if incident.shown is Shown.MUTED:
            self.muted.add(incident.id)
        before = self.severity.get(incident.id)
        if before is not None and before is not Severity.OUT and incident.severity is Severity.OUT:
            self.escalations.append((incident.id, now))
        self.severity[incident.id] = incident.severity


def replay(world, hours: float, seed: int) -> Replay:
    settings = Settings(_env_file=None, alert_channel=CHANNEL)
    engine = AlertEngine(RuleBook(), engine_settings(settings))
    engine.apply(DefaultRule(CHANNEL, default_thresholds(settings)), 0.0)
    engine.take_effects()
    result = Replay(hours)
    lanes: dict[str, Lane] = {}
    enqueued: dict[int, tuple[float, int, str]] = {}
    broadcasts: dict[int, bool] = {}
    outbox_id = 0

    def collect(now: float) -> None:
        nonlocal outbox_id
        effects = engine.take_effects()
        for incident in effects.incidents.values():
            result.record(incident, now)
        for outgoing in effects.outgoing:
            outbox_id += 1
            lane = lanes.setdefault(outgoing.channel, Lane(outgoing.channel))
            lane.add(Delivery(outbox_id, outgoing.op.value, outgoing.incident_id, ""))
            enqueued[outbox_id] = (now, outgoing.incident_id, outgoing.op.value)
            broadcasts[outbox_id] = outgoing.broadcast
        engine.forget_closed()

    def deliver_until(now: float) -> None:
        for channel, lane in lanes.items():
            while True:
                for dropped in lane.superseded():
                    lane.done(dropped)
                if not lane.queue:
                    break
                head = lane.queue[0]
                wait = lane.next(enqueued[head.outbox_id][0])
                start = enqueued[head.outbox_id][0] + (wait if isinstance(wait, float) else 0.0)
                if start > now:
                    break
                lane.started(head, start)
                lane.done(head)
                lane.finished(start + SLACK_LATENCY, head.op)
                when, incident_id, op = enqueued[head.outbox_id]
                result.sent[channel].append(
                    Sent(
                        op,
                        incident_id,
                        when,
                        start + SLACK_LATENCY / 2,
                        broadcasts[head.outbox_id],
                    )
                )

    end = hours * 3600
    next_tick = TICK_SECONDS
    clock = 0.0
    sales = world.sales()
    while clock <= end + DRAIN:
        delay, sale = next(sales)
        clock += delay
        while next_tick <= min(clock, end + DRAIN):
            engine.tick(next_tick)
            collect(next_tick)
            deliver_until(next_tick)
            next_tick += TICK_SECONDS
        if clock > end:
            continue  # the hour is over: only time passes, so what is queued goes out
        engine.sale(sale.store, sale.model, sale.inventory, clock)
        result.events += 1
        collect(clock)
        deliver_until(clock)
    return result


def reached(result: Replay, incident_id: int, since: float) -> float | None:
    """When Slack first showed the incident as it stood at `since`: its own message, or an
    edit of the message that folds it made after the fold."""
    candidates = [
        sent.reached
        for sent in _sent_for(result, incident_id)
        if sent.op in ("post", "update") and sent.enqueued >= since
    ]
    for parent, when in result.folds.get(incident_id, []):
        for sent in _sent_for(result, parent):
            if sent.op in ("post", "update") and sent.enqueued >= max(since, when):
                candidates.append(sent.reached)
        if result.folds.get(parent):  # the parent is itself folded (a chain inside a digest)
            through = reached(result, parent, max(since, when))
            if through is not None:
                candidates.append(through)
    return min(candidates) if candidates else None


def surfaced(result: Replay, incident_id: int, since: float) -> float | None:
    """When a new message in the channel (a post or a reply also sent to the channel, which
    notify and show at the bottom, where an edit does neither) first showed the incident after
    `since`: its own, or one that folds it, posted after it joined (a fresh digest carries what
    is new)."""
    candidates = [
        s.reached for s in _sent_for(result, incident_id) if _new(s) and s.enqueued >= since
    ]
    for first, when in result.folds.get(incident_id, []):
        parent: int | None = first
        while parent is not None:
            candidates += [
                s.reached
                for s in _sent_for(result, parent)
                if s.op == "post" and s.enqueued >= max(since, when)
            ]
            parent = result.successor.get(parent)
    return min(candidates) if candidates else None


def _new(sent: Sent) -> bool:
    return sent.op == "post" or (sent.op == "reply" and sent.broadcast)


def _sent_for(result: Replay, incident_id: int) -> list[Sent]:
    return [s for sents in result.sent.values() for s in sents if s.incident_id == incident_id]


def report(name: str, result: Replay) -> dict:
    print(f"\n{name}: {result.events:,} sales in {result.hours:g} simulated hour(s)")
    figures = {}
    for channel in sorted({v[0] for v in result.fired.values()} | set(result.sent)):
        mine = {i: v for i, v in result.fired.items() if v[0] == channel and i not in result.muted}
        ops = Counter(s.op for s in result.sent.get(channel, []))
        kinds = Counter(v[1].value for v in mine.values())
        told = {i: reached(result, i, v[4]) for i, v in mine.items()}
        untold = [i for i, at in told.items() if at is None]
        # Stock-outs: new out-of-stock alerts, and low alerts that ran out.
        out_delay = [
            told[i] - v[4] for i, v in mine.items() if v[2] is Severity.OUT and told[i] is not None
        ]
        for i, when in result.escalations:
            at = reached(result, i, when) if i in mine else None
            if at is not None:
                out_delay.append(at - when)
        # How long each stock-out waited for a new message to show it (an edit alone is silent).
        outs = [(i, v[4]) for i, v in mine.items() if v[2] is Severity.OUT]
        outs += [(i, when) for i, when in result.escalations if i in mine]
        in_new = [surfaced(result, i, when) for i, when in outs]
        new_delay = [
            at - when for (_, when), at in zip(outs, in_new, strict=True) if at is not None
        ]
        lows = {i: v for i, v in mine.items() if v[1] is Kind.LOW and v[2] is Severity.LOW}
        low_delay = [told[i] - v[4] for i, v in lows.items() if told[i] is not None]
        gates = [v[4] - v[3] for v in lows.values()]
        hourly = {op: ops[op] / result.hours for op in ("post", "update", "reply")}
        kind_list = ", ".join(f"{k} {n}" for k, n in sorted(kinds.items()))
        print(
            f"  {channel}: {hourly['post']:.0f} new messages/h, {hourly['update']:.0f} edits/h, "
            f"{hourly['reply']:.0f} thread replies/h"
        )
        print(f"    incidents: {len(mine)} ({kind_list}); reached no message: {len(untold)}")
        print(f"    stock-outs told (new and escalated): {len(out_delay)}, {_spread(out_delay)}")
        print(
            f"    stock-outs in a new message: {len(new_delay)} of {len(outs)}, "
            f"{_spread(new_delay)}"
        )
        print(
            f"    low-stock alerts told: {len(low_delay)}, {_spread(low_delay)} after their gate "
            f"(the gate took {_spread(gates)})"
        )
        figures[channel] = {
            "posts_per_hour": hourly["post"],
            "untold": len(untold),
            "worst_out_s": max(out_delay, default=0.0),
            "worst_out_in_new_message_s": max(new_delay, default=0.0),
            "worst_low_s": max(low_delay, default=0.0),
        }
    return figures


def _spread(values: list[float]) -> str:
    if not values:
        return "-"
    values = sorted(values)
    p99 = values[max(0, math.ceil(len(values) * 0.99) - 1)]
    return f"median {statistics.median(values):.2f} s, p99 {p99:.2f} s, worst {values[-1]:.2f} s"


BUDGET_CHANNELS = 20
MODELS_PER_CHANNEL = 5
METHODS_SHOWN = (
    "chat.postMessage",
    "chat.update",
    "conversations.history",
    "conversations.replies",
    "conversations.join",
)


def budget_outbox(minutes: float, seed: int) -> list[OutboxRow]:
    """The outbox rows the writer commits for 20 channels of rules on the random feed."""
    settings = Settings(_env_file=None)
    engine = AlertEngine(RuleBook(), engine_settings(settings))
    models = model_names(20)
    for n in range(BUDGET_CHANNELS):
        channel = f"C{n:02d}"
        engine.apply(DefaultRule(channel, default_thresholds(settings)), 0.0)
        watched = frozenset(models[(n + k) % len(models)] for k in range(MODELS_PER_CHANNEL))
        engine.apply(Watch(channel, Scope(models=watched), "bench"), 0.0)
    engine.take_effects()
    processor = AlertingProcessor(engine, next_outbox_id=1)
    rows: list[OutboxRow] = []
    batch: list[object] = []
    end, clock, next_tick = minutes * 60, 0.0, TICK_SECONDS
    sales = RandomWorld(random.Random(seed)).sales()
    while next_tick <= end:
        delay, sale = next(sales)
        clock += delay
        while next_tick <= min(clock, end):
            prepared = processor.prepare([*batch, Tick(next_tick)], next_tick)
            rows += prepared.outbox if prepared is not None else []
            batch, next_tick = [], next_tick + TICK_SECONDS
        batch.append(SaleEvent(sale.store, sale.model, sale.inventory, clock, "bench"))
    return rows


@dataclass
class Delivered:
    rows: list[OutboxRow]
    speed: float
    started: float  # wall-clock time simulated time 0 was
    calls: list  # the local Slack's record of every call
    messages: list
    superseded: int
    took: float  # real seconds


async def deliver(rows: list[OutboxRow], speed: float, folder: Path) -> Delivered:
    """Commit `rows` at their simulated times (sped up) and deliver them with the real Sender
    to the local Slack, every limit divided by `speed`."""
    path = folder / "inventory.db"
    db = await database.connect(path)
    await database.migrate(db)
    await db.close()
    tiers = {m: Tier(t.calls, t.per / speed) for m, t in WORKSPACE.items()}
    channels = tuple(sorted({r.channel for r in rows}))
    async with FakeSlack(channels=channels, tiers=tiers, post_rate=speed) as slack:
        client = AsyncWebClient(token=slack.token, base_url=slack.api_url, timeout=10)
        budgets = Budgets({m: Limit(lim.calls, lim.per / speed) for m, lim in LIMITS.items()})
        sender = Sender(
            SqliteDeliveries(path),
            SlackTransport(client),
            budgets=budgets,
            min_interval=MIN_INTERVAL / speed,
        )
        await sender.start()
        loop = asyncio.get_running_loop()
        began, started = loop.time(), time.time()
        by_tick: dict[float, list[OutboxRow]] = defaultdict(list)
        for row in rows:
            by_tick[row.created_at].append(row)
        with contextlib.closing(sqlite3.connect(path)) as writer:
            for at, committed in sorted(by_tick.items()):
                await asyncio.sleep(max(0.0, began + at / speed - loop.time()))
                with writer:
                    writer.executemany(
                        "INSERT INTO outbox (id, created_at, channel, op, incident_id, payload) "
                        "VALUES (?, ?, ?, ?, ?, ?)",
                        [
                            (r.id, r.created_at, r.channel, r.op, r.incident_id, r.payload)
                            for r in committed
                        ],
                    )
                sender.enqueue(committed)
        await asyncio.wait_for(sender.wait_idle(), 600)
        await sender.stop()
        with contextlib.closing(sqlite3.connect(path)) as done:
            (superseded,) = done.execute(
                "SELECT count(*) FROM deliveries WHERE state = 'superseded'"
            ).fetchone()
        return Delivered(
            rows,
            speed,
            started,
            list(slack.calls),
            list(slack.messages),
            superseded,
            loop.time() - began,
        )


def busiest(times: list[float], window: float) -> int:
    """Most of `times` (sorted) within any `window`."""
    most, first = 0, 0
    for last, at in enumerate(times):
        while at - times[first] >= window:
            first += 1
        most = max(most, last - first + 1)
    return most


def budget_report(result: Delivered, minutes: float) -> bool:
    """Print the figures; True if no call went beyond the budget and every final state shows."""
    rows, speed = result.rows, result.speed
    ops = Counter(r.op for r in rows)
    print(
        f"\nbudget: {BUDGET_CHANNELS} channels, each watching {MODELS_PER_CHANNEL} of 20 "
        f"models, random world, {minutes:g} simulated minutes delivered in {result.took:.0f} s "
        f"(time {speed:g}x faster)"
    )
    print(
        f"  committed: {ops['post']} posts, {ops['update']} edits, {ops['reply']} thread "
        f"replies; {result.superseded} edits skipped for a later one of the same message"
    )

    def sim(at: float) -> float:
        return (at - result.started) * speed

    length = max(minutes, max((sim(c.at) for c in result.calls), default=0.0) / 60)
    print(
        f"  {'method':24} {'calls':>6} {'per min':>8} {'busiest min':>12} {'budget':>7} {'429s':>5}"
    )
    within = True
    for method in METHODS_SHOWN:
        calls = [c for c in result.calls if c.method == method]
        times = sorted(sim(c.at) for c in calls if c.outcome != "429")
        most = busiest(times, 60.0)
        limit = LIMITS[method].calls
        refused = sum(c.outcome == "429" for c in calls)
        within = within and most <= limit and refused == 0
        print(
            f"  {method:24} {len(calls):>6} {len(calls) / length:>8.1f} {most:>12} "
            f"{limit:>7} {refused:>5}"
        )
    posts_by_channel: dict[str, list[float]] = defaultdict(list)
    for c in result.calls:
        if c.method == "chat.postMessage" and c.outcome == "ok":
            posts_by_channel[c.args.get("channel")].append(sim(c.at))
    per_second = max((busiest(sorted(t), 1.0) for t in posts_by_channel.values()), default=0)
    print(f"  most messages in one channel within a second: {per_second} (Slack: about 1)")

    latest: dict[int, OutboxRow] = {}
    replies = 0
    for row in rows:
        if row.op == "reply":
            replies += 1
        else:
            latest[row.incident_id] = row
    post_of = {r.id: r.incident_id for r in rows if r.op == "post"}
    shown: dict[int, object] = {}
    told_at: dict[int, float] = {}
    committed_at = {r.id: r.created_at for r in rows}
    for m in result.messages:
        outbox_id = (m.metadata or {}).get("event_payload", {}).get("outbox_id")
        if m.thread_ts is None and outbox_id in post_of:
            shown[post_of[outbox_id]] = m
    for c in result.calls:
        if c.method == "chat.postMessage" and c.outcome == "ok" and "thread_ts" not in c.args:
            outbox_id = c.args["metadata"]["event_payload"]["outbox_id"]
            told_at[outbox_id] = sim(c.at) - committed_at[outbox_id]
    final = sum(
        1
        for incident, row in latest.items()
        if incident in shown
        and shown[incident].text == render_payload(json.loads(row.payload))["text"]
    )
    threaded = sum(1 for m in result.messages if m.thread_ts is not None)
    print(
        f"  incidents whose message shows their final state: {final} of {len(latest)}; "
        f"thread replies delivered: {threaded} of {replies}"
    )
    print(f"  new alerts reached Slack after their commit: {_spread(list(told_at.values()))}")
    return within and final == len(latest) and threaded == replies


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--hours", type=float, default=1.0)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--budget-minutes", type=float, default=20.0)
    parser.add_argument("--speed", type=float, default=30.0)
    args = parser.parse_args()
    print(
        "defaults: "
        + ", ".join(
            f"{k}={v}"
            for k, v in {
                "DEFAULT_LOW": 10,
                "DEFAULT_HIGH": 80,
                "ALERT_GATE_READINGS": 2,
                "ALERT_GATE_SECONDS": 60,
                "ALERT_GROUP_SECONDS": 1,
                "ALERT_FLOOD_LIMIT": 10,
                "ALERT_DIGEST_MINUTES": DIGEST_MINUTES,
            }.items()
        )
    )
    noisy = report(
        "random world (the public demo generator)",
        replay(RandomWorld(random.Random(args.seed)), args.hours, args.seed),
    )
    calm = report(
        "realistic world",
        replay(RealisticWorld(random.Random(args.seed)), args.hours, args.seed),
    )
    random_posts = noisy[CHANNEL]["posts_per_hour"]
    print("\ntargets:")
    print(f"  random world: {random_posts:.0f} new messages/h (target at most 30)")
    print(
        f"  incidents that reached no message: random {noisy[CHANNEL]['untold']}, "
        f"realistic {calm[CHANNEL]['untold']} (target 0)"
    )
    print(
        f"  every stock-out in a new message within: random world "
        f"{noisy[CHANNEL]['worst_out_in_new_message_s'] / 60:.1f} min, realistic world "
        f"{calm[CHANNEL]['worst_out_in_new_message_s'] / 60:.1f} min "
        f"(target the digest interval, {DIGEST_MINUTES:g} min, plus one)"
    )
    print(
        f"  realistic world: every stock-out told within "
        f"{calm[CHANNEL]['worst_out_s']:.2f} s (target 2 s); every low-stock alert within "
        f"{calm[CHANNEL]['worst_low_s']:.2f} s of its gate (target 2 s)"
    )

    rows = budget_outbox(args.budget_minutes, args.seed)
    with tempfile.TemporaryDirectory() as folder:
        result = asyncio.run(deliver(rows, args.speed, Path(folder)))
    ok = budget_report(result, args.budget_minutes)
    print(f"  no call beyond the budget and every final state delivered: {'yes' if ok else 'NO'}")
    met = ok and (
        random_posts <= 30
        and noisy[CHANNEL]["untold"] == calm[CHANNEL]["untold"] == 0
        and max(w[CHANNEL]["worst_out_in_new_message_s"] for w in (noisy, calm))
        <= (DIGEST_MINUTES + 1) * 60
        and calm[CHANNEL]["worst_out_s"] <= 2
        and calm[CHANNEL]["worst_low_s"] <= 2
    )
    if not met:
        raise SystemExit("a target was missed (above)")


if __name__ == "__main__":
    main()
