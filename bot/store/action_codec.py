"""People's changes (bot/core/alerting/actions.py), what they made, and their refusals, as JSON:
how a process that does not lead hands a change to the one that does, through the database,
and reads the answer back."""

from __future__ import annotations

import dataclasses
import typing
from datetime import time as clock_time

import orjson

from bot.core.alerting import actions
from bot.core.alerting.incidents import Incident
from bot.core.errors import CommandError, Refusal, RuleError
from bot.core.quiet import QuietHours
from bot.core.rules import Change, Scope
from bot.core.thresholds import Thresholds
from bot.core.transfers.book import Transfer
from bot.store.codec import (
    incident_from_row,
    incident_row,
    rule_from_row,
    rule_row,
    transfer_from_row,
    transfer_row,
)

# Those a person can ask for (the planner's plans never leave the leader).
HANDED_OVER = {
    cls.__name__: cls for cls in typing.get_args(actions.Action) if cls is not actions.SetPlans
}
_REFUSALS = {cls.__name__: cls for cls in (CommandError, RuleError, Refusal)}


def encode_action(action: actions.Action) -> str:
    kind = type(action).__name__
    if kind not in HANDED_OVER:
        raise TypeError(f"{kind} is not handed to another process")
    fields = {f.name: _plain(getattr(action, f.name)) for f in dataclasses.fields(action)}
    return orjson.dumps({"type": kind, **fields}).decode()


def decode_action(text: str) -> actions.Action:
    data = orjson.loads(text)
    cls = HANDED_OVER[data.pop("type")]
    hints = typing.get_type_hints(cls)
    return cls(**{name: _typed(hints[name], value) for name, value in data.items()})


def encode_result(result: object) -> str:
    """What `AlertEngine.apply` returned, as JSON."""
    if isinstance(result, Incident):
        data: object = {"incident": incident_row(result)}
    elif isinstance(result, Transfer):
        data = {"transfer": transfer_row(result)}
    elif isinstance(result, Change):
        rules = {k: rule_row(r) for k in ("rule", "before") if (r := getattr(result, k))}
        data = {"change": {**dataclasses.asdict(result), **rules}}
    else:
        data = {"value": result}  # None, or a list of names
    return orjson.dumps(data).decode()


def decode_result(text: str) -> object:
    data = orjson.loads(text)
    if "incident" in data:
        return incident_from_row(data["incident"])
    if "transfer" in data:
        return transfer_from_row(data["transfer"])
    if "change" in data:
        change = data["change"]
        rules = {k: rule_from_row(change[k]) for k in ("rule", "before") if change.get(k)}
        return Change(**{**change, **rules})
    return data["value"]


def encode_refusal(error: Refusal) -> str:
    return orjson.dumps({"kind": type(error).__name__, "message": str(error)}).decode()


def decode_refusal(text: str) -> Refusal:
    data = orjson.loads(text)
    return _REFUSALS.get(data["kind"], Refusal)(data["message"])


def _plain(value: object) -> object:
    if isinstance(value, Thresholds):
        return dataclasses.asdict(value)
    if isinstance(value, Scope):
        return {
            name: None if names is None else sorted(names)
            for name, names in (("stores", value.stores), ("models", value.models))
        }
    if isinstance(value, QuietHours):
        return {"start": f"{value.start:%H:%M}", "end": f"{value.end:%H:%M}", "tz": value.timezone}
    return value


def _typed(hint: object, value: object) -> object:
    if value is None:
        return None
    kinds = typing.get_args(hint) or (hint,)  # X | None
    if Thresholds in kinds:
        return Thresholds(**value)
    if Scope in kinds:
        return Scope(*(None if v is None else frozenset(v) for v in value.values()))
    if QuietHours in kinds:
        start, end = (clock_time.fromisoformat(value[k]) for k in ("start", "end"))
        return QuietHours(start, end, value["tz"])
    if typing.get_origin(hint) is tuple:
        return tuple(value)
    return value
