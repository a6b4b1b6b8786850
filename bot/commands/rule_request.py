"""The rule someone asks for, from `name=value` options, typed (`/thresholds set low=2d
owner=@buyers`) or filled in the rules form: each option checked on its own, so that the form
can say what is wrong next to each field at once. Unsaid values come from the rule for exactly
this store and model, else from the rule that applies there now, else from the defaults."""

from __future__ import annotations

from bot.commands.parse import Usage, count, duration, side
from bot.commands.people import owner_id
from bot.commands.request import Context
from bot.core.alerting.actions import SetRule
from bot.core.errors import RuleError
from bot.core.names import Kind
from bot.core.rules import ANY, MAX_ESCALATE, MIN_ESCALATE, Rule
from bot.core.thresholds import Thresholds
from bot.mrkdwn import quoted

# What a rule takes, in the order a form shows them.
RULE_OPTIONS = ("store", "model", "low", "high", "gate", "wait", "owner", "second", "escalate")
SIDES = ("low", "high")
OWNERS = ("owner", "second", "escalate")


async def asked_rule(
    ctx: Context, channel_id: str, user: str, named: dict[str, str]
) -> tuple[SetRule | None, dict[str, str]]:
    """The SetRule `named` asks for, or None and what is wrong, by option."""
    errors: dict[str, str] = {}
    where = {}
    for option, kind in (("store", Kind.STORE), ("model", Kind.MODEL)):
        try:
            where[option] = await ctx.names.name(named[option], kind) if option in named else ANY
        except Usage as error:
            errors[option] = str(error)
    store, model = where.get("store", ANY), where.get("model", ANY)
    base = await _base(ctx, channel_id, store, model)
    t = base.thresholds if base is not None else Thresholds()
    values: dict[str, object] = {}
    for option in named.keys() & {*SIDES, "gate", "wait", *OWNERS}:
        try:
            values[option] = await _value(ctx, option, named[option])
        except Usage as error:
            errors[option] = str(error)
    if errors:
        return None, errors
    low, low_days = values.get("low", (t.low, t.low_days))
    high, high_days = values.get("high", (t.high, t.high_days))
    # A side in days keeps the pairs it had as its stand-in until a pace is known.
    if low_days is not None and low is None:
        low = t.low if t.low is not None else Thresholds().low
    if high_days is not None and high is None:
        high = t.high if t.high is not None else Thresholds().high
    try:
        thresholds = Thresholds(
            low,
            high,
            values.get("gate", t.gate_readings),
            values.get("wait", t.gate_seconds),
            low_days,
            high_days,
        )
    except RuleError as error:
        return None, {_side_at_fault(str(error), named): str(error)}
    owner, second, escalate = _owners(base, values)
    try:
        Rule(channel_id, store, model, thresholds, user, 0.0, owner, second, escalate)
    except RuleError as error:
        return None, {_owner_at_fault(str(error)): str(error)}
    return SetRule(channel_id, thresholds, user, store, model, owner, second, escalate), {}


async def _base(ctx: Context, channel_id: str, store: str, model: str) -> Rule | None:
    channel = await ctx.reads.channel_config(channel_id)
    base = channel.rules.get((store, model))
    if base is None:
        applies = channel.rule_for(store or "\0", model or "\0") if (store or model) else None
        base = applies or channel.rules.get((ANY, ANY))
    return base


async def _value(ctx: Context, option: str, value: str) -> object:
    if option in SIDES:
        return side(option, value)
    if option == "gate":
        return count("gate", value, 1, 100)
    if option == "wait":
        return duration("wait", value, most=86_400)
    if option == "escalate":
        if value.strip().lower() in ("off", "none", "-"):
            return None
        seconds = duration("escalate", value, most=MAX_ESCALATE)
        if seconds < MIN_ESCALATE:
            raise Usage(f"`escalate` is a minute at least, not `{quoted(value)}`.")
        return seconds
    return await owner_id(ctx.people, value)


def _owners(base: Rule | None, values: dict[str, object]) -> tuple:
    """Owner, second owner and escalation: as said, else as the base rule has them; no owner
    (owner=off) takes the other two away."""
    said = [values[o] if o in values else getattr(base, a, None) for o, a in _ATTRIBUTES]
    if "owner" in values and values["owner"] is None:
        return None, None, None
    return tuple(said)


_ATTRIBUTES = (("owner", "owner"), ("second", "second_owner"), ("escalate", "escalate"))


def _side_at_fault(message: str, named: dict[str, str]) -> str:
    if message.startswith("the gate"):
        return "gate" if "reading" in message else "wait"
    if message.startswith("high") and "high" in named:
        return "high"
    return "low" if "low" in named or "high" not in named else "high"


def _owner_at_fault(message: str) -> str:
    if message.startswith("a second owner"):
        return "second"
    if message.startswith("an escalation"):
        return "escalate"
    return "owner"  # not an ID, or escalate= without an owner
