"""What /readyz and /metrics read from the running bot: narrow callables over its parts, each
read when asked (the parts exist only once the bot has started)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Protocol

from bot.api.metrics import Readings
from bot.core.alerting.engine import AlertEngine
from bot.feed.client import FeedClient
from bot.leading import Leader
from bot.planner import Planner
from bot.slack.sender import Sender
from bot.store.writer import Writer
from bot.succession import Role, Succession
from bot.supervisor import Supervisor

STANDBY_LAG_LIMIT = 60.0  # seconds a standby's copy may lag before it says it is not ready


class Running(Protocol):
    """The parts of the running bot that are read."""

    writer: Writer | None
    engine: AlertEngine | None
    sender: Sender | None
    planner: Planner | None
    supervisor: Supervisor | None  # the process's own tasks
    leader: Leader  # its supervisor runs the leader's tasks
    succession: Succession | None  # with several bots (PostgreSQL)
    feeds: Sequence[FeedClient]


def delivery_check(sender: Sender | None, now: float, limit: float) -> dict:
    """Alerts reach Slack in time: none waits longer than OUTBOX_MAX_AGE_SECONDS, and the
    sender can record what it sends. (A channel Slack refuses is named; its alerts wait,
    and once they are late that is what makes the bot not ready.)"""
    if sender is None:
        return {"ok": True, "detail": "nothing to send yet"}
    wrong = []
    oldest = sender.oldest_pending_at()
    if oldest is not None and now - oldest > limit:
        wrong.append(f"an alert has waited {now - oldest:.0f} s for Slack (limit {limit:g} s)")
    if storage := sender.storage_problem():
        wrong.append(f"deliveries cannot be recorded: {storage}")
    notes = list(wrong)
    refused = sorted(f"{c} ({why})" for c, why in sender.problems().items() if c != "*")
    if refused:
        notes.append("Slack refuses " + ", ".join(refused))
    detail = "; ".join(notes) or f"{sender.pending()} call(s) waiting, none late"
    return {"ok": not wrong, "detail": detail}


def role_check(succession: Succession, now: float) -> dict:
    """Whether this process leads or stands by; a standby whose copy of the paces has fallen
    far behind the log is not ready (it would take long to take over)."""
    role, term = succession.role, succession.leadership.term
    if role is Role.LEADER:
        took = succession.takeover_seconds
        after = f", taken over in {took:.1f} s" if took is not None else ""
        return {"ok": True, "detail": f"leading (term {term}{after})"}
    if role is not Role.STANDBY:
        return {"ok": True, "detail": role.value}
    lag = succession.lag(now)
    ok = lag <= STANDBY_LAG_LIMIT
    detail = "standby: another process leads; the paces follow its log"
    detail += f", {lag:.0f} s behind" if lag else ", caught up"
    return {"ok": ok, "detail": detail if ok else f"{detail} (limit {STANDBY_LAG_LIMIT:g} s)"}


def _role(bot: Running, now: float) -> tuple[float, float, float]:
    succession = bot.succession
    if succession is None:
        return 1.0, 0.0, 0.0
    leading = succession.role is Role.LEADER
    return float(leading), float(succession.leadership.term), succession.lag(now)


def readings(bot: Running) -> Readings:
    """What /metrics reads, each when scraped: the parts exist only once started."""
    return Readings(
        writer=lambda: (bot.writer.stats, len(bot.writer.queue)) if bot.writer else None,
        feeds=lambda: [(feed.name, feed.health) for feed in bot.feeds],
        open_incidents=lambda: bot.engine.open_incidents() if bot.engine else [],
        slack_calls=lambda: bot.sender.counts if bot.sender else Counter(),
        outbox_pending=lambda: bot.sender.pending() if bot.sender else 0,
        outbox_oldest_at=lambda: bot.sender.oldest_pending_at() if bot.sender else None,
        transfers=lambda: bot.engine.transfers if bot.engine else None,
        planner_round_seconds=lambda: bot.planner.stats.last_round_seconds if bot.planner else 0.0,
        slack_methods=lambda: bot.sender.calls if bot.sender else Counter(),
        budgets=lambda now: (
            {
                method: (used, limit.calls, bot.sender.budgets.paused(now).get(method, 0.0))
                for method, (used, limit) in bot.sender.budgets.usage(now).items()
            }
            if bot.sender
            else {}
        ),
        refused_channels=lambda: sum(c != "*" for c in bot.sender.problems()) if bot.sender else 0,
        storage_failures=lambda: bot.sender.storage_failures if bot.sender else 0,
        restarts=lambda: _restarts(bot),
        role=lambda now: _role(bot, now),
    )


def _restarts(bot: Running) -> Counter[str]:
    restarts: Counter[str] = Counter()
    for supervisor in (bot.supervisor, bot.leader.supervisor):
        if supervisor is not None:
            restarts.update(supervisor.restarts)
    if bot.sender is not None:
        restarts["sender lane"] = bot.sender.restarts
    return restarts
