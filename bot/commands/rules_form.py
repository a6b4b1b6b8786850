"""The rules form of a channel (Slack draws it as a modal, bot/slack/rules_modal.py): what it
shows, what a submission saves, and the preview of the values as they are typed. A submission
is checked field by field, and nothing is saved unless every field is right; a good one is
saved through the same actions, admin check and audit as `/thresholds set`, and announced.

Fields hold text as typed (store and model as exact names, owners as IDs, from the selects):
store, model, low, high, gate, wait, quiet, owner, second, escalate; empty ones are left out."""

from __future__ import annotations

from dataclasses import dataclass

from bot.commands.parse import Usage
from bot.commands.preview import replayed
from bot.commands.replies import Reply, sentence
from bot.commands.request import Context
from bot.commands.rows import rule_line
from bot.commands.rule_request import asked_rule
from bot.commands.thresholds import quiet_request, saved
from bot.core.alerting.actions import Action, SetQuietHours, SetRule
from bot.core.errors import Refusal
from bot.core.rules import ANY, Channel, Rule
from bot.mrkdwn import escape

FIELDS = ("store", "model", "low", "high", "gate", "wait", "quiet", "owner", "second", "escalate")
LISTED = 20  # rules the form lists


@dataclass(frozen=True)
class Form:
    """What the form shows when it opens: the rules, and the channel default's values."""

    channel: str
    lines: list[str]  # the channel's scope, quiet hours and rules, as Slack shows them
    values: dict[str, str]  # field -> its starting text
    owners: tuple[str | None, str | None]  # the default rule's owner and second owner (IDs)
    may_change: bool


async def form(ctx: Context, channel_id: str, user: str) -> Form:
    """The form of `channel_id` as `user` opens it."""
    channel = await ctx.reads.channel_config(channel_id)
    default = channel.rules.get((ANY, ANY))
    values = _values(default) if default is not None else {"low": "10", "high": "80"}
    if channel.quiet is not None:
        values["quiet"] = channel.quiet.describe()
    owners = (default.owner, default.second_owner) if default is not None else (None, None)
    return Form(channel_id, _lines(channel), values, owners, ctx.may_change(user))


async def submit(ctx: Context, channel_id: str, user: str, fields: dict[str, str]) -> Reply | dict:
    """Save what the form asks for: the reply (with the announcement), or what is wrong by
    field (then nothing was saved)."""
    try:
        ctx.check_admin(user)
    except Usage as refused:
        return {"low": str(refused)}
    asked, errors = await asked_rule(ctx, channel_id, user, _named(fields))
    quiet = None
    if "quiet" in fields:
        try:  # an emptied field means no quiet hours (it opens holding them)
            tokens = fields["quiet"].split() or ["off"]
            quiet = SetQuietHours(channel_id, quiet_request(tokens), user)
        except Usage as error:
            errors["quiet"] = str(error)
    if errors or asked is None:
        return {field: sentence(message) for field, message in errors.items()}
    channel = await ctx.reads.channel_config(channel_id)
    changes: list[Action] = [] if _as_it_stands(channel, asked) else [asked]
    if quiet is not None and quiet.quiet != channel.quiet:
        changes.append(quiet)
    if not changes:
        return Reply(text="Nothing changed: the form held the rules as they stand.")
    try:
        replies = [await saved(ctx, change) for change in changes]
    except Refusal as refused:  # changed meanwhile in a way that makes this impossible
        return {"low": sentence(str(refused))}
    return Reply(
        text="\n".join(r.text for r in replies),
        announce="\n".join(r.announce for r in replies if r.announce),
    )


def _as_it_stands(channel: Channel, asked: SetRule) -> bool:
    """Whether the channel already has exactly the rule the form asks for."""
    rule = channel.rules.get((asked.store, asked.model))
    return rule is not None and (rule.thresholds, rule.owner, rule.second_owner, rule.escalate) == (
        asked.thresholds,
        asked.owner,
        asked.second_owner,
        asked.escalate,
    )


async def preview(ctx: Context, channel_id: str, user: str, fields: dict[str, str]) -> list[str]:
    """What the rule in the form would have posted over the last day (or what to fix first)."""
    asked, errors = await asked_rule(ctx, channel_id, user, _named(fields))
    if asked is None:
        return [f"Fix the {field} first: {sentence(message)}" for field, message in errors.items()]
    rule = Rule(channel_id, asked.store, asked.model, asked.thresholds, user, ctx.clock())
    return await replayed(ctx, channel_id, rule)


def _named(fields: dict[str, str]) -> dict[str, str]:
    return {k: v.strip() for k, v in fields.items() if k != "quiet" and v and v.strip()}


def _values(rule: Rule) -> dict[str, str]:
    t = rule.thresholds
    values = {
        "low": f"{t.low_days:g}d" if t.low_days else ("off" if t.low is None else str(t.low)),
        "high": f"{t.high_days:g}d" if t.high_days else ("off" if t.high is None else str(t.high)),
        "gate": str(t.gate_readings),
        "wait": f"{t.gate_seconds:g}s",
    }
    if rule.escalate is not None:
        values["escalate"] = f"{rule.escalate / 60:g}m"
    return values


def _lines(channel: Channel) -> list[str]:
    quiet = channel.quiet.describe() if channel.quiet else "none"
    lines = [f"Watching: {escape(channel.scope.describe())} · quiet hours: {quiet}"]
    rules = sorted(
        channel.rules.values(), key=lambda r: (bool(r.store), bool(r.model), r.store, r.model)
    )
    lines += [f"• {rule_line(r)}" for r in rules[:LISTED]]
    if len(rules) > LISTED:
        lines.append(f"… and {len(rules) - LISTED} more: `/thresholds show` lists them all.")
    if not rules:
        lines.append("No rules yet: this channel gets no stock alerts.")
    lines.append(
        "Pick a store and/or model for a narrower rule (the most specific applies). Low and "
        "High take pairs (5) or days of cover (2d); the owner is called again after Escalate "
        "(30m) if nobody acknowledges the alert."
    )
    return lines
