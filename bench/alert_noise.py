"""Alert noise benchmark: one simulated hour of each simulator world through the real alert
engine with the default settings, and Slack delivery replayed with the real lane policy.

    .venv/bin/python bench/alert_noise.py           # a few seconds
    .venv/bin/python bench/alert_noise.py --hours 8 --seed 3

For each world it prints, per channel: new Slack messages, edits and thread replies per hour;
incidents by kind; incidents that reached no message (must be 0); and how long after its cause
each stock-out and each low-stock alert reached Slack. Time is simulated: the engine sees the
world's own clock, ticks every 0.5 s as the bot's ticker does, and each channel's deliveries
are paced by bot.core.delivery.Lane (one call a second, measured from the previous answer),
with Slack answering in SLACK_LATENCY seconds.
"""

from __future__ import annotations

import argparse
import math
import random
import statistics
from collections import Counter, defaultdict
from dataclasses import dataclass, field

from bot.config import Settings
from bot.core.alerts import Severity
from bot.core.delivery import Delivery, Lane
from bot.core.engine import AlertEngine
from bot.core.incidents import Kind, Shown
from bot.core.rules import RuleBook
from bot.feed.worlds import RandomWorld, RealisticWorld
from bot.runtime import TICK_SECONDS, default_thresholds, engine_settings

CHANNEL = "C-STORES"
SLACK_LATENCY = 0.1  # seconds from a call going out to its answer
DRAIN = 900.0  # simulated seconds after the hour for what is queued to go out


@dataclass
class Sent:
    op: str
    incident_id: int
    enqueued: float
    reached: float  # when Slack had it


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
    muted: set[int] = field(default_factory=set)


def replay(world, hours: float, seed: int) -> Replay:
    settings = Settings(_env_file=None, alert_channel=CHANNEL)
    engine = AlertEngine(RuleBook(), engine_settings(settings))
    engine.ensure_default_rule(CHANNEL, default_thresholds(settings), 0.0)
    engine.take_effects()
    result = Replay(hours)
    lanes: dict[str, Lane] = {}
    enqueued: dict[int, tuple[float, int, str]] = {}
    severity: dict[int, Severity | None] = {}
    outbox_id = 0

    def collect(now: float) -> None:
        nonlocal outbox_id
        effects = engine.take_effects()
        for incident in effects.incidents.values():
            if incident.id not in result.fired and incident.kind is not Kind.DIGEST:
                result.fired[incident.id] = (
                    incident.channel,
                    incident.kind,
                    incident.severity,
                    incident.opened_at,
                    incident.fired_at,
                )
            if incident.shown is Shown.FOLDED and (
                not result.folds[incident.id]
                or result.folds[incident.id][-1][0] != incident.parent_id
            ):
                result.folds[incident.id].append((incident.parent_id, now))
            if incident.shown is Shown.MUTED:
                result.muted.add(incident.id)
            before = severity.get(incident.id)
            if (
                before is not None
                and before is not Severity.OUT
                and incident.severity is Severity.OUT
            ):
                result.escalations.append((incident.id, now))
            severity[incident.id] = incident.severity
        for outgoing in effects.outgoing:
            outbox_id += 1
            lane = lanes.setdefault(outgoing.channel, Lane(outgoing.channel))
            lane.add(Delivery(outbox_id, outgoing.op.value, outgoing.incident_id, ""))
            enqueued[outbox_id] = (now, outgoing.incident_id, outgoing.op.value)
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
                result.sent[channel].append(Sent(op, incident_id, when, start + SLACK_LATENCY / 2))

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
            f"    low-stock alerts told: {len(low_delay)}, {_spread(low_delay)} after their gate "
            f"(the gate took {_spread(gates)})"
        )
        figures[channel] = {
            "posts_per_hour": hourly["post"],
            "untold": len(untold),
            "worst_out_s": max(out_delay, default=0.0),
            "worst_low_s": max(low_delay, default=0.0),
        }
    return figures


def _spread(values: list[float]) -> str:
    if not values:
        return "-"
    values = sorted(values)
    p99 = values[max(0, math.ceil(len(values) * 0.99) - 1)]
    return f"median {statistics.median(values):.2f} s, p99 {p99:.2f} s, worst {values[-1]:.2f} s"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--hours", type=float, default=1.0)
    parser.add_argument("--seed", type=int, default=1)
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
        f"  realistic world: every stock-out told within "
        f"{calm[CHANNEL]['worst_out_s']:.2f} s (target 2 s); every low-stock alert within "
        f"{calm[CHANNEL]['worst_low_s']:.2f} s of its gate (target 2 s)"
    )


if __name__ == "__main__":
    main()
