"""How alert state is written as rows and JSON, and read back: incidents, machines, channel
configuration and the views the outbox holds. Shared by the writer's processor and the reads."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import time as clock_time

import orjson

from bot.core.alerts import AlertMachine, Phase, Severity, Side
from bot.core.engine import View
from bot.core.incidents import Incident, Kind, Shown
from bot.core.rules import Channel, QuietHours, Rule


def encode_view(view: View) -> dict:
    """A view as JSON-ready data, for the outbox."""
    return {
        "incident": incident_row(view.incident),
        "members": [incident_row(m) for m in view.members],
        "open_members": view.open_members,
        "counts": view.counts,
        "rule": view.rule,
        "now": view.now,
    }


def decode_view(data: dict) -> View:
    return View(
        incident_from_row(data["incident"]),
        tuple(incident_from_row(m) for m in data["members"]),
        data["open_members"],
        tuple((name, count) for name, count in data["counts"]),
        data["rule"],
        data["now"],
    )


INCIDENT_COLUMNS = (
    "id, channel, kind, store, model, severity, opened_at, fired_at, resolved_at, level, "
    "threshold, shown, parent_id, acked_by, acked_at, snoozed_by, snoozed_until, muted_by, detail"
)


def incident_row(i: Incident) -> tuple:
    return (
        i.id,
        i.channel,
        i.kind.value,
        i.store,
        i.model,
        i.severity.value if i.severity else None,
        i.opened_at,
        i.fired_at,
        i.resolved_at,
        i.level,
        i.threshold,
        i.shown.value,
        i.parent_id,
        i.acked_by,
        i.acked_at,
        i.snoozed_by,
        i.snoozed_until,
        i.muted_by,
        orjson.dumps(i.detail).decode(),
    )


def incident_from_row(row: Sequence) -> Incident:
    (
        id_,
        channel,
        kind,
        store,
        model,
        severity,
        opened,
        fired,
        resolved,
        level,
        threshold,
        shown,
        parent,
        acked_by,
        acked_at,
        snoozed_by,
        snoozed_until,
        muted_by,
        detail,
    ) = row
    return Incident(
        id_,
        channel,
        Kind(kind),
        store,
        model,
        Severity(severity) if severity else None,
        opened,
        fired,
        level,
        threshold,
        resolved,
        Shown(shown),
        parent,
        acked_by,
        acked_at,
        snoozed_by,
        snoozed_until,
        muted_by,
        orjson.loads(detail),
    )


def machine_json(m: AlertMachine) -> str:
    state = {
        "phase": m.phase.value,
        "severity": m.severity.value if m.severity else None,
        "started_at": m.started_at,
        "fired_at": m.fired_at,
        "readings": m.readings,
        "level": m.level,
        "flips": m.flips,
        "flapping": m.flapping,
    }
    return orjson.dumps(state).decode()


def machine_from_json(side: Side, encoded: str) -> AlertMachine:
    state = orjson.loads(encoded)
    state["phase"] = Phase(state["phase"])
    state["severity"] = Severity(state["severity"]) if state["severity"] else None
    return AlertMachine(side, **state)


def channel_row(channel: Channel, now: float) -> tuple:
    scope, quiet = channel.scope, channel.quiet
    quiet_json = None
    if quiet is not None:
        quiet_json = orjson.dumps(
            {
                "start": f"{quiet.start:%H:%M}",
                "end": f"{quiet.end:%H:%M}",
                "timezone": quiet.timezone,
            }
        ).decode()
    return (
        channel.id,
        orjson.dumps(sorted(scope.stores)).decode() if scope.stores is not None else None,
        orjson.dumps(sorted(scope.models)).decode() if scope.models is not None else None,
        quiet_json,
        now,
    )


def rule_row(rule: Rule) -> tuple:
    t = rule.thresholds
    return (
        rule.channel,
        rule.store,
        rule.model,
        t.low,
        t.high,
        t.gate_readings,
        t.gate_seconds,
        rule.updated_by,
        rule.updated_at,
    )


def scope_names(encoded: str | None) -> frozenset[str] | None:
    return None if encoded is None else frozenset(orjson.loads(encoded))


def quiet_hours(encoded: str | None) -> QuietHours | None:
    if encoded is None:
        return None
    q = orjson.loads(encoded)
    return QuietHours(
        clock_time.fromisoformat(q["start"]), clock_time.fromisoformat(q["end"]), q["timezone"]
    )
