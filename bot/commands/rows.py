"""One line per stored thing, as the commands list them: a shelf's stock, an open alert, a
transfer on its way. Names are escaped here, where they enter a message."""

from __future__ import annotations

from bot.commands.replies import ago
from bot.core.alerting.incidents import Incident, Kind
from bot.core.alerting.machine import Severity
from bot.core.alerting.wording import duration
from bot.core.rules import Change, Rule
from bot.core.transfers.book import Transfer
from bot.core.velocity import describe_pace
from bot.mrkdwn import SEVERITY_WORDS, date, escape, icon, mention
from bot.store.rows import Level


def stock_line(
    row: Level, incident: Incident | None, now: float, *, both: bool, store: bool = True
) -> str:
    """`    4` ADERI at Maine · sells 2/h · last sale 4 min ago · (its alert, if any). `both`
    names the model and the store; else only the store (`store`) or only the model."""
    name = f"{row.model} at {row.store}" if both else (row.store if store else row.model)
    pace = describe_pace(row.inventory, row.rate(now).risk)
    line = f"`{row.inventory:>5}` {escape(name)} · {pace} · last sale {ago(row.last_sale_at, now)}"
    if incident is not None and incident.severity is not None:
        label = SEVERITY_WORDS[incident.severity]
        line += f" · {icon(incident.severity)} {label} `#{incident.id}`"
    return line


def transfer_line(t: Transfer, now: float) -> str:
    """An accepted transfer on its way."""
    state = "left the source" if t.sent else "not seen leaving yet"
    return (
        f"`T{t.id}` {t.quantity} {escape(t.model)} from {escape(t.source)} to "
        f"{escape(t.target)} · accepted by <@{t.by}> {ago(t.at, now)} · {state}"
    )


def alert_line(i: Incident, now: float) -> str:
    """An open alert, with how it is being handled."""
    if i.kind in (Kind.LOW, Kind.HIGH):
        what = {
            Severity.OUT: "out of stock",
            Severity.LOW: f"low, {i.level} left",
            Severity.HIGH: f"overstock, {i.level}",
        }[i.severity]
        name = f"{i.model} at {i.store}"
    elif i.kind is Kind.CHAIN:
        what, name = f"short in {i.detail.get('stores', '?')} stores", i.model or ""
    elif i.kind is Kind.FLAPPING:
        what, name = "flapping", f"{i.model} at {i.store}"
    else:
        what, name = i.kind.value.replace("_", " "), i.store or ""
    notes = []
    if i.acked_by:
        notes.append(f"acknowledged by <@{i.acked_by}>")
    if i.snoozed_until and i.snoozed_until > now:
        notes.append(f"snoozed until {date(i.snoozed_until, '{time}', 'later')}")
    if i.muted_by:
        notes.append("muted")
    extra = f" · {', '.join(notes)}" if notes else ""
    since = ago(i.fired_at, now)
    return f"{icon(i.severity)} `#{i.id}` {escape(name)}: {what} · since {since}{extra}"


def rule_line(rule: Rule) -> str:
    """A rule as Slack shows it: names escaped, its owners as mentions (from checked IDs)."""
    said = escape(rule.describe())
    if rule.owner is not None:
        said += f"; owner {mention(rule.owner)}"
        if rule.escalate is not None:
            also = f" with {mention(rule.second_owner)}" if rule.second_owner else ""
            said += f", called again{also} after {duration(rule.escalate)} unacknowledged"
    return said


def change_line(change: Change) -> str:
    """A change to a channel's rules as Slack shows it."""
    if change.rule is None:
        return escape(change.summary)
    was = f" (was: {rule_line(change.before)})" if change.before is not None else ""
    return rule_line(change.rule) + was
