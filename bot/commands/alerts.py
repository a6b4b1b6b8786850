"""`/alerts`: a channel's open alerts; `ack`, `snooze`, `mute` and `unmute` by number. The
buttons on an alert call `act` as the typed words do, with the same checks."""

from __future__ import annotations

from bot.commands.help import help_reply
from bot.commands.parse import Usage, duration, incident_id
from bot.commands.replies import Reply, answer
from bot.commands.request import Context, Request
from bot.commands.rows import alert_line
from bot.core.alerting.actions import Acknowledge, Action, Mute, Snooze, Unmute
from bot.core.alerting.silences import MAX_MUTE, MAX_SNOOZE, MIN_SNOOZE, SNOOZE_CHOICES
from bot.mrkdwn import quoted

LISTED = 40
VERBS = {"ack": "ack", "acknowledge": "ack", "snooze": "snooze", "mute": "mute", "unmute": "unmute"}


async def alerts(ctx: Context, request: Request, tokens: list[str]) -> Reply:
    action = tokens[0].lower() if tokens else "list"
    if action == "help":
        return help_reply("alerts")
    if action == "list":
        if tokens[1:]:
            raise Usage("`/alerts` lists this channel's open alerts; it takes no more words.")
        return await _list(ctx, request)
    verb = VERBS.get(action)
    if verb is None:
        raise Usage(
            f"I don't know `/alerts {quoted(action)}`. Try `ack`, `snooze`, `mute`, "
            "`unmute`, or `/alerts help`."
        )
    if len(tokens) < 2:
        raise Usage(f"Which alert? `/alerts {action} 12` (the number is on the alert).")
    most = 3 if verb in ("snooze", "mute") else 2
    if len(tokens) > most:
        example = f"`/alerts {verb} 12 4h`" if most == 3 else f"`/alerts {action} 12`"
        raise Usage(f"{example} takes no more words.")
    seconds = None
    if verb in ("snooze", "mute") and len(tokens) > 2:
        seconds = duration(verb, tokens[2], most=MAX_SNOOZE if verb == "snooze" else MAX_MUTE)
    number = incident_id(tokens[1])
    return await act(ctx, request.channel, request.user, verb, number, seconds, request.user_name)


async def act(
    ctx: Context,
    channel: str,
    user: str,
    verb: str,
    number: int,
    seconds: float | None = None,
    name: str = "",
) -> Reply:
    """Acknowledge, snooze (for `seconds`, the first snooze choice if None), mute (for
    `seconds`, until unmuted if None) or unmute alert `number` of `channel`. `name` is how the
    alert's thread names the person (a mention would ping them)."""
    found = await ctx.reads.incident(number)
    if found is None or found.channel != channel:
        raise Usage(f"There is no alert #{number} in this channel.")
    if verb in ("mute", "unmute"):
        ctx.check_admin(user)  # a mute silences a key for everyone, like a rule
    if seconds is not None and seconds < MIN_SNOOZE:
        raise Usage(f"A {verb} lasts a minute at least.")
    asked: Action
    if verb == "ack":
        asked, done = Acknowledge(number, user, name), f"acknowledged #{number}"
    elif verb == "snooze":
        seconds = SNOOZE_CHOICES[0] if seconds is None else seconds
        asked = Snooze(number, user, seconds, name)
        done = f"snoozed #{number} for {_hours(seconds)}"
    elif verb == "mute":
        asked = Mute(number, user, seconds, name)
        done = f"muted what #{number} is about, in this channel" + (
            f", for {_hours(seconds)}" if seconds else ", until someone unmutes it"
        )
    else:
        asked, done = Unmute(number, user, name), f"unmuted what #{number} is about"
    await ctx.apply(asked)
    return Reply(text=f":white_check_mark: Done: {done}. Its message shows it.")


async def _list(ctx: Context, request: Request) -> Reply:
    now = ctx.clock()
    incidents = await ctx.reads.open_incidents(request.channel)
    lines = [alert_line(i, now) for i in incidents[:LISTED]]
    if len(incidents) > LISTED:
        lines.append(f"… and {len(incidents) - LISTED} more.")
    if not lines:
        lines = ["No open alerts in this channel."]
    footer = "`/alerts ack 12` · `/alerts snooze 12 4h` · `/alerts mute 12` · `/alerts help`"
    return answer(
        f"Open alerts in this channel ({len(incidents)})",
        lines,
        footer=footer,
        share={"command": "alerts", "text": ""},
    )


def _hours(seconds: float) -> str:
    return f"{seconds / 3600:g} h" if seconds >= 3600 else f"{seconds / 60:g} min"
