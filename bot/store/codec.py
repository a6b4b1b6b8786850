"""How alert and transfer state is written as rows and JSON, and read back: incidents, machines,
channel configuration, the views the outbox holds, suggestions and transfers. Shared by the
writer's processor and the reads."""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import fields
from datetime import time as clock_time

import orjson

from bot.core.alerting.incidents import Incident, Kind, Shown
from bot.core.alerting.machine import AlertMachine, Phase, Severity, Side
from bot.core.alerting.view import TransferLine, View
from bot.core.errors import RuleError
from bot.core.quiet import QuietHours
from bot.core.rules import Channel, Rule
from bot.core.thresholds import Thresholds
from bot.core.throttle import LogThrottle
from bot.core.transfers.book import Status, Suggested, Transfer
from bot.core.transfers.plan import Suggestion
from bot.mrkdwn import OWNER_ID

log = logging.getLogger(__name__)
# Stored rows found wrong: each said once an hour in the log, however often it is read.
_told = LogThrottle(3600.0)


def _wrong(message: str, **where: object) -> None:
    now = time.time()
    _told.summary(now)  # a new hour: each is said again
    if _told.admit(repr((message, sorted(where.items()))), now):
        log.error(message, extra=where)


def encode_view(view: View) -> dict:
    """A view as JSON-ready data, for the outbox."""
    return {
        "incident": incident_row(view.incident),
        "members": [incident_row(m) for m in view.members],
        "open_members": view.open_members,
        "counts": view.counts,
        "rule": view.rule,
        "now": view.now,
        "pace": view.pace,
        "transfer": _fields_of(view.transfer) if view.transfer else None,
    }


def decode_view(data: dict) -> View:
    return View(
        incident_from_row(data["incident"]),
        tuple(incident_from_row(m) for m in data["members"]),
        data["open_members"],
        tuple((name, count) for name, count in data["counts"]),
        data["rule"],
        data["now"],
        data.get("pace"),
        TransferLine(*data["transfer"]) if data.get("transfer") else None,
    )


# Suggestions and transfers: a row holds the dataclass's fields in order, so the column lists
# are the field names (the tables in migration 4 are made to match).
SUGGESTION_COLUMNS = ", ".join(["id", *(f.name for f in fields(Suggestion)), "planned_at"])
TRANSFER_COLUMNS = ", ".join(f.name for f in fields(Transfer))


def suggestion_row(found: Suggested) -> tuple:
    return (found.id, *_fields_of(found.suggestion), found.planned_at)


def suggestion_from_row(row: Sequence) -> Suggested:
    id_, *values, planned_at = row
    values[6] = bool(values[6])  # by_rate
    return Suggested(id_, Suggestion(*values), planned_at)


def transfer_row(t: Transfer) -> tuple:
    return _fields_of(t)


def transfer_from_row(row: Sequence) -> Transfer:
    t = Transfer(*row)
    t.status, t.sent = Status(t.status), bool(t.sent)
    return t


def _fields_of(item: object) -> tuple:
    return tuple(getattr(item, f.name) for f in fields(item))


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
        _checked_owners(orjson.loads(detail), id_),
    )


# What an alert's owners are in its `detail`: the owners are mentioned, the rest says when.
_OWNED = ("owner", "second_owner", "escalate_after", "escalate_at", "escalated_at")


def _checked_owners(detail: dict, incident_id: int) -> dict:
    """An alert's detail as stored, but for owners that are not Slack IDs (the database edited
    behind the bot's back): those are no owners, so nobody is mentioned or called, and a
    message or escalation never fails on them (mention() refuses anything but an ID)."""
    owner, second = detail.get("owner"), detail.get("second_owner")
    if owner is not None and not (isinstance(owner, str) and OWNER_ID.fullmatch(owner)):
        dropped = [key for key in _OWNED if detail.pop(key, None) is not None]
    elif second is not None and not (isinstance(second, str) and OWNER_ID.fullmatch(second)):
        dropped = [key for key in ("second_owner",) if detail.pop(key, None) is not None]
    else:
        return detail
    _wrong(
        "a stored alert's owner is not a Slack ID: left out", incident=incident_id, dropped=dropped
    )
    return detail


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


RULE_COLUMNS = (
    "channel, store, model, low, high, gate_readings, gate_seconds, updated_by, updated_at, "
    "low_days, high_days, owner, second_owner, escalate_seconds"
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
        t.low_days,
        t.high_days,
        rule.owner,
        rule.second_owner,
        rule.escalate,
    )


def rule_from_row(row: Sequence) -> Rule:
    """A rule from the columns RULE_COLUMNS names, in that order."""
    channel, store, model, low, high, readings, seconds, by, at, *cover, owner, second, after = row
    thresholds = Thresholds(low, high, readings, seconds, *cover)
    try:
        return Rule(channel, store, model, thresholds, by, at, owner, second, after)
    except RuleError as error:  # owners edited behind the bot's back: the rule, without them
        where = {"channel": channel, "store": store, "model": model}
        _wrong(f"a stored rule's owners are left out: {error}", **where)
        return Rule(channel, store, model, thresholds, by, at)


def scope_names(encoded: str | None) -> frozenset[str] | None:
    return None if encoded is None else frozenset(orjson.loads(encoded))


def quiet_hours(encoded: str | None) -> QuietHours | None:
    if encoded is None:
        return None
    q = orjson.loads(encoded)
    return QuietHours(
        clock_time.fromisoformat(q["start"]), clock_time.fromisoformat(q["end"]), q["timezone"]
    )
