"""`/thresholds`: the rules form of the channel in Slack (rules_form.py), the channel's rules and
their latest changes as text (`show`, and wherever no form can open); `set`, `clear`, `watch`
and `quiet` change them (for the admins, if ADMIN_USER_IDS names any), and each change is
announced in the channel with who made it. `preview` is in preview.py."""

from __future__ import annotations

from dataclasses import replace

from bot.commands.help import help_reply
from bot.commands.parse import Usage, options
from bot.commands.preview import preview
from bot.commands.replies import Reply, ago, answer, sentence
from bot.commands.request import Context, Request
from bot.commands.rows import change_line, rule_line
from bot.commands.rule_request import RULE_OPTIONS, asked_rule
from bot.core.alerting.actions import Action, ClearRule, SetQuietHours, SetRule, Watch
from bot.core.errors import RuleError
from bot.core.names import Kind as NameKind
from bot.core.quiet import QuietHours, parse_quiet_hours
from bot.core.rules import Change, Scope
from bot.core.thresholds import Thresholds
from bot.mrkdwn import date, escape, quoted
from bot.store.rows import MuteRow

CHANGES = ("set", "clear", "watch", "quiet")
OPEN_FORM = "rules_open"  # the "Change rules" button: opens the channel's rules form


async def thresholds(ctx: Context, request: Request, tokens: list[str]) -> Reply:
    action = tokens[0].lower() if tokens else "form"
    rest = tokens[1:]
    if action == "help":
        return help_reply("thresholds")
    if action in ("show", "form"):
        if rest:
            raise Usage("`/thresholds show` shows this channel's rules; it takes no more words.")
        shown = await show_rules(ctx, request.channel)
        if action == "form" and ctx.may_change(request.user):
            return replace(shown, form=request.channel)
        return shown
    if action == "preview":
        asked = await rule_request(ctx, request.channel, request.user, rest)
        return await preview(ctx, request, asked.store, asked.model, asked.thresholds)
    if action not in CHANGES:
        raise Usage(
            f"I don't know `/thresholds {quoted(action)}`. Try `set`, `clear`, `watch`, "
            "`quiet`, `preview`, `show`, or `/thresholds help`."
        )
    ctx.check_admin(request.user)
    channel, user = request.channel, request.user
    asked: Action
    if action == "set":
        asked = await rule_request(ctx, channel, user, rest)
    elif action == "clear":
        plain, named = options(rest, ("store", "model"))
        if plain:
            raise Usage(f"`/thresholds clear` takes store= and model=, not `{quoted(plain[0])}`.")
        store, model = await ctx.names.store_and_model(named)
        asked = ClearRule(channel, user, store=store, model=model)
    elif action == "watch":
        asked = Watch(channel, await _watch_request(ctx, rest), user)
    else:
        asked = SetQuietHours(channel, quiet_request(rest), user)
    return await saved(ctx, asked)


async def saved(ctx: Context, asked: Action) -> Reply:
    """Apply a change to a channel's rules; the reply says what was saved, and the channel is
    told who changed what."""
    change = await ctx.apply(asked)
    assert isinstance(change, Change)
    said = change_line(change)
    return Reply(
        text=f":white_check_mark: Saved: {said}.",
        announce=f":gear: <@{change.user}> changed this channel's alert rules: {said}.",
    )


async def show_rules(ctx: Context, channel_id: str) -> Reply:
    channel = await ctx.reads.channel_config(channel_id)
    now = ctx.clock()
    lines = [
        f"Watching: {escape(channel.scope.describe())}",
        f"Quiet hours: {channel.quiet.describe() if channel.quiet else 'none'}",
    ]
    rules = sorted(
        channel.rules.values(), key=lambda r: (bool(r.store), bool(r.model), r.store, r.model)
    )
    for r in rules:
        by = f"set by {_who(r.updated_by)} {ago(r.updated_at, now)}"
        lines.append(f"• {rule_line(r)}{_gate(r.thresholds)} · {by}")
    if not rules:
        lines.append(
            "No rules: this channel gets no stock alerts. `/thresholds set low=10 high=80` starts."
        )
    mutes = await ctx.reads.mutes(channel_id)
    if mutes:
        lines.append("*Muted here*")
        lines += [_mute_line(m, now) for m in mutes]
    changes = await ctx.reads.config_changes(channel_id)
    if changes:
        lines.append("*Latest changes*")
        lines += [
            f"{ago(at, now)}: {_who(user)} {escape(summary)}" for at, user, _, summary in changes
        ]
    return answer(
        "Alert rules in this channel",
        lines,
        footer="`/thresholds help` for how to change them",
        buttons=[(OPEN_FORM, "Change rules", channel_id)],
    )


async def rule_request(ctx: Context, channel_id: str, user: str, tokens: list[str]) -> SetRule:
    """The rule that `low=5 high=80 store=maine ...` asks for."""
    plain, named = options(tokens, RULE_OPTIONS)
    if plain:
        raise Usage(f"I don't understand `{quoted(plain[0])}`: use name=value, like low=5 high=80.")
    if not {"low", "high", "gate", "wait", "owner", "second", "escalate"} & named.keys():
        raise Usage(
            "Say what to set: low=, high= (pairs, or days of cover: 2d), gate= (readings), "
            "wait= (time), owner=, second= or escalate=, like low=5 high=80."
        )
    asked, errors = await asked_rule(ctx, channel_id, user, named)
    if asked is None:
        raise Usage(sentence(next(iter(errors.values()))))
    return asked


async def _watch_request(ctx: Context, tokens: list[str]) -> Scope:
    if [t.lower() for t in tokens] == ["all"]:
        return Scope()
    plain, named = options(tokens, ("stores", "models"))
    if plain or not named:
        raise Usage(
            "`/thresholds watch all`, or watch stores= and/or models=, names "
            'separated by commas: stores="maine, auburn" models=aderi.'
        )
    stores = models = None
    if "stores" in named:
        stores = frozenset(
            [await ctx.names.name(n, NameKind.STORE) for n in _listed(named["stores"])]
        )
    if "models" in named:
        models = frozenset(
            [await ctx.names.name(n, NameKind.MODEL) for n in _listed(named["models"])]
        )
    return Scope(stores, models)


def quiet_request(tokens: list[str]) -> QuietHours | None:
    """`22:00-07:00 America/Toronto` (the zone optional) or `off`."""
    if [t.lower() for t in tokens] == ["off"]:
        return None
    if not 1 <= len(tokens) <= 2:
        raise Usage(
            "`/thresholds quiet 22:00-07:00 America/Toronto` (the zone is optional, UTC "
            "if not given), or `/thresholds quiet off`."
        )
    try:
        return parse_quiet_hours(tokens[0], tokens[1] if len(tokens) > 1 else "UTC")
    except RuleError as error:
        raise Usage(sentence(str(error))) from None


def _listed(value: str) -> list[str]:
    names = [n.strip() for n in value.split(",") if n.strip()]
    if not names or len(names) > 200:
        raise Usage("Give one or more names, separated by commas.")
    return names


def _mute_line(m: MuteRow, now: float) -> str:
    what = " at ".join(escape(n) for n in (m.model, m.store) if n)
    until = f"until {date(m.until)}" if m.until is not None else "until someone unmutes it"
    kind = m.kind.replace("_", " ")
    return f"• {kind} alerts of {what or 'everything'} · by <@{m.by}> {ago(m.at, now)} · {until}"


def _gate(t: Thresholds) -> str:
    return f" · after {t.gate_readings} readings and {t.gate_seconds:g} s"


def _who(user: str) -> str:
    return "the settings" if user == "settings" else f"<@{user}>"
