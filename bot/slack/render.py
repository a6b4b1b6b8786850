"""Slack messages for incidents, built with slack_sdk's Block Kit models (which check Slack's
limits), each with a plain-text fallback for notifications, screen readers and the console."""

from __future__ import annotations

import functools
from dataclasses import dataclass

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ConfirmObject,
    ContextBlock,
    HeaderBlock,
    MarkdownTextObject,
    PlainTextObject,
    SectionBlock,
)

from bot.core.alerting.incidents import Incident, Kind
from bot.core.alerting.machine import FLAP_SETTLE, Severity
from bot.core.alerting.view import TransferLine, View
from bot.mrkdwn import ICONS, cut, date, escape, icon, mention
from bot.slack.buttons import INCIDENT_BUTTONS, TRANSFER_BUTTONS

_SETTLE = f"{FLAP_SETTLE / 60:g} minutes"


@dataclass(frozen=True, slots=True)
class Message:
    """What to send: `text` is the fallback; `blocks` the Block Kit layout (JSON-ready)."""

    text: str
    blocks: list[dict] | None = None


def render(view: View) -> Message:
    """The message of an incident as it stands."""
    incident = view.incident
    if incident.kind in (Kind.LOW, Kind.HIGH):
        title, body = _stock(view)
    elif incident.kind is Kind.CHAIN:
        title, body = _chain(view)
    elif incident.kind is Kind.FLAPPING:
        title, body = _flapping(view)
    elif incident.kind is Kind.DIGEST:
        title, body = _digest(view)
    else:
        title, body = _feed(view)
    blocks: list[Block] = [HeaderBlock(text=PlainTextObject(text=cut(title, 150), emoji=True))]
    if body:
        blocks.append(SectionBlock(text=MarkdownTextObject(text=cut(body, 3000))))
    rendered = [block.to_dict() for block in blocks]
    if incident.open and view.transfer is not None and view.transfer.kind == "suggested":
        rendered.append(_transfer_buttons(view.transfer.id))
    rendered.append(
        ContextBlock(elements=[MarkdownTextObject(text=cut(_footer(view), 3000))]).to_dict()
    )
    if incident.open and incident.kind is not Kind.DIGEST:
        rendered.append(incident_buttons(incident))
    plain_title = title.split(" ", 1)[1] if title.startswith(":") else title
    return Message(
        text=cut(f"{escape(plain_title)}. {_plain(body)}".strip(), 3000), blocks=rendered
    )


def _stock(view: View) -> tuple[str, str]:
    i = view.incident
    where = f"{i.model} at {i.store}"
    if not i.open:
        title = f":white_check_mark: Resolved: {where}"
    elif i.severity is Severity.OUT:
        title = f"{ICONS[Severity.OUT]} Out of stock: {where}"
    elif i.severity is Severity.LOW:
        title = f"{ICONS[Severity.LOW]} Low stock: {where}"
    else:
        title = f"{ICONS[Severity.HIGH]} Overstock: {where}"
    lines = [f"*{i.level}* left{_threshold(i)}"]
    if not i.open:
        lines[0] = f"*{i.level}* in stock now; the alert lasted {_span(i.fired_at, i.resolved_at)}"
    if view.pace:
        lines.append(f":hourglass_flowing_sand: {view.pace}")
    if view.transfer is not None:
        lines.append(_transfer_line(view.transfer))
    lines.extend(_handling(i, view.now))
    return title, "\n".join(lines)


def _threshold(i: Incident) -> str:
    """` (alert at 10 or fewer)`; for a rule in days of cover, the pairs it meant at the pace,
    or that no pace was known and the pairs threshold stood in."""
    if i.threshold is None:
        return ""
    side = "or fewer" if i.kind is Kind.LOW else "or more"
    days = i.detail.get("cover_days")
    if days is None:
        return f" (alert at {i.threshold} {side})"
    cover = f"{days:g} days of cover {'or less' if i.kind is Kind.LOW else 'or more'}"
    if i.detail.get("per_hour") is None:
        return (
            f" (alert at {i.threshold} {side}: the pace is not known yet, so this stands in"
            f" for {cover})"
        )
    return f" (alert at {cover}: {i.threshold} pairs at its pace of the last days)"


def _transfer_line(t: TransferLine) -> str:
    if t.kind == "accepted":
        return (
            f":truck: Transfer T{t.id} accepted by <@{t.by}>: {t.quantity} pairs "
            f"from {escape(t.source)} on their way"
        )
    return f":truck: Suggested: {escape(t.why)}"


def _chain(view: View) -> tuple[str, str]:
    i = view.incident
    stores = i.detail.get("stores", view.open_members)
    if not i.open:
        return f":white_check_mark: Resolved: {i.model} is back in stock", ""
    title = f"{ICONS[Severity.LOW]} {i.model} is short in {stores} stores"
    lines = [
        f"• {escape(m.store or '')}: *{m.level}* left"
        + (" (out of stock)" if m.severity is Severity.OUT else "")
        for m in view.members
    ]
    if view.open_members > len(view.members):
        lines.append(f"… and {view.open_members - len(view.members)} more stores")
    lines.extend(_handling(i, view.now))
    return title, "\n".join(lines)


def _flapping(view: View) -> tuple[str, str]:
    i = view.incident
    side = i.detail.get("side", "low")
    where = f"{i.model} at {i.store}"
    if not i.open:
        return f":white_check_mark: Settled: {where}", f"No threshold crossing for {_SETTLE}."
    body = (
        f"It keeps crossing its {side} threshold: {i.detail.get('alerts', 0)} alerts lately"
        f" (now {i.level}). Those alerts are counted here instead of posted one by one, until"
        f" it settles ({_SETTLE} without a crossing)."
    )
    return f":warning: Flapping: {where}", body


def _digest(view: View) -> tuple[str, str]:
    i = view.incident
    folded, detail = i.detail.get("folded", 0), i.detail
    if detail.get("reason") == "quiet":
        title = f":crescent_moon: While quiet hours ran: {folded} alerts"
    elif "next" in detail:
        newer = detail["next"]
        title = f":rotating_light: Alert flood: {folded} alerts here, newer ones in #{newer}"
    elif "ended_at" in detail:
        title = f":rotating_light: Alert flood is over: {folded} alerts were folded here"
    elif "since" in detail:
        title = f":rotating_light: Alert flood continues: {folded} new alerts in this message"
    else:
        title = f":rotating_light: Alert flood: {folded} alerts folded into this message"
    counts = dict(view.counts)
    summary = ", ".join(
        f"{counts[key]} {name}"
        for key, name in [("out", "out of stock"), ("low", "low"), ("high", "overstocked")]
        if counts.get(key)
    )
    lines = []
    if "since" in detail:
        new = detail.get("new", {})
        kinds = ", ".join(
            f"{new[key]} {name}"
            for key, name in [("out", "out of stock"), ("low", "low"), ("high", "overstocked")]
            if new.get(key)
        )
        lines.append(
            f"*{sum(new.values())}* new since the last digest ({date(detail['since'])})"
            + (f": {kinds}" if kinds else "")
            + ". Those still open are listed, stock-outs first."
        )
    lines.append(
        f"*{view.open_members}* still open"
        + (f" ({summary})" if summary else "")
        + f", {folded - view.open_members} resolved since."
    )
    for m in view.members:
        lines.append(f"{icon(m.severity)} {escape(_name(m))}: {_level(m)} `#{m.id}`")
    if view.open_members > len(view.members):
        more = view.open_members - len(view.members)
        lines.append(f"… and {more} more: `/alerts` lists them all.")
    if "next" in detail:
        lines.append(f"Newer alerts are in the digest `#{detail['next']}`, posted after this one.")
    elif i.open and "ended_at" not in detail and detail.get("reason") != "quiet":
        lines.append(
            "The channel is flooded with alerts: new ones join this message, and what is new is"
            " posted again in a fresh digest every few minutes until the channel calms down."
        )
    return title, "\n".join(lines)


def _feed(view: View) -> tuple[str, str]:
    i = view.incident
    if i.kind is Kind.FEED_DOWN:
        if not i.open:
            return (
                f":white_check_mark: Feed back: {i.store}",
                f"Down for {_span(i.opened_at, i.resolved_at)}.",
            )
        state = i.detail.get("state", "disconnected")
        return (
            f":rotating_light: Feed {state}: {i.store}",
            f"No sales are coming in since {date(i.opened_at)}: "
            f"{escape(i.detail.get('reason', ''))}",
        )
    if not i.open:
        return f":white_check_mark: Bad frames back to normal: {i.store}", ""
    reasons = ", ".join(f"{escape(k)} {v}" for k, v in sorted(i.detail.get("reasons", {}).items()))
    return (
        f":warning: Bad frames from {i.store}",
        f"*{i.level}* refused in the last minute (limit {i.threshold}): {reasons}. "
        "They are kept in the dead-letter table.",
    )


def _handling(i: Incident, now: float) -> list[str]:
    lines = _owners(i)
    if i.acked_by:
        lines.append(f":eyes: Acknowledged by <@{i.acked_by}> at {date(i.acked_at)}")
    if i.snoozed_until and i.snoozed(now):
        lines.append(f":zzz: Snoozed by <@{i.snoozed_by}> until {date(i.snoozed_until)}")
    if i.muted_by:
        lines.append(f":no_bell: Muted by <@{i.muted_by}>: no new alerts for this here")
    return lines


def _owners(i: Incident) -> list[str]:
    """Who owns the alert, as mentions: the bot's own marks, from IDs the rule checked."""
    detail = i.detail
    owner = detail.get("owner")
    if owner is None or not i.open:
        return []
    line = f":bust_in_silhouette: {mention(owner)} owns this"
    second = detail.get("second_owner")
    if "escalated_at" in detail:
        also = f" with {mention(second)}" if second else ""
        line += f"; called again{also} at {date(detail['escalated_at'])}"
    elif "escalate_at" in detail and not i.acked_by:
        also = f" with {mention(second)}" if second else ""
        line += f"; called again{also} at {date(detail['escalate_at'])} unless acknowledged"
    return [line]


def _footer(view: View) -> str:
    i = view.incident
    parts = [f"#{i.id}"]
    if view.rule is not None:
        parts.append(f"rule: {escape(view.rule)}")
    parts.append(f"since {date(i.opened_at)}")
    return " · ".join(parts)


def incident_buttons(i: Incident) -> dict:
    """The actions block for an open incident: the buttons are built and validated by slack_sdk
    once per variant (with or without Acknowledge), then copied with this incident's id, since
    building them anew costs most of a message's rendering time."""
    return _stamped(_button_template(acknowledged=bool(i.acked_by)), "incident", i.id)


def _transfer_buttons(suggestion_id: int) -> dict:
    return _stamped(_transfer_template(), "transfer", suggestion_id)


def _stamped(template: dict, kind: str, number: int) -> dict:
    """A copy of a validated actions block whose buttons carry `number`."""
    value = str(number)
    return {
        **template,
        "block_id": f"{kind}:{number}",
        "elements": [{**element, "value": value} for element in template["elements"]],
    }


@functools.cache
def _transfer_template() -> dict:
    (accept, (accept_label, _)), (dismiss, (dismiss_label, _)) = TRANSFER_BUTTONS.items()
    return ActionsBlock(
        block_id="transfer:0",
        elements=[
            ButtonElement(text=accept_label, action_id=accept, value="0", style="primary"),
            ButtonElement(text=dismiss_label, action_id=dismiss, value="0"),
        ],
    ).to_dict()


@functools.cache
def _button_template(*, acknowledged: bool) -> dict:
    elements = []
    for action_id, (label, _, _) in INCIDENT_BUTTONS.items():
        if action_id == "incident_ack" and acknowledged:
            continue
        if action_id == "incident_mute":
            elements.append(
                ButtonElement(
                    text=label,
                    action_id=action_id,
                    value="0",
                    style="danger",
                    confirm=ConfirmObject(
                        title="Mute this alert?",
                        text="No new alerts for this in this channel until someone unmutes it.",
                        confirm="Mute",
                        deny="Cancel",
                    ),
                )
            )
            continue
        style = "primary" if action_id == "incident_ack" else None
        elements.append(ButtonElement(text=label, action_id=action_id, value="0", style=style))
    return ActionsBlock(block_id="incident:0", elements=elements).to_dict()


def _name(i: Incident) -> str:
    if i.kind is Kind.CHAIN:
        return f"{i.model} in {i.detail.get('stores', '?')} stores"
    if i.store and i.model:
        return f"{i.model} at {i.store}"
    return i.store or i.model or i.kind.value


def _level(i: Incident) -> str:
    if i.level is None:
        return i.kind.value
    return "out of stock" if i.severity is Severity.OUT else f"{i.level} left"


def _span(start: float, end: float | None) -> str:
    seconds = max(0, (end or start) - start)
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 5400:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


def _plain(markdown: str) -> str:
    """Block Kit markdown as plain text for the fallback (escapes kept, marks removed)."""
    text = markdown.replace("*", "").replace("`", "")
    while "<!date^" in text:
        start = text.index("<!date^")
        end = text.index(">", start)
        text = text[:start] + text[start:end].rsplit("|", 1)[-1] + text[end + 1 :]
    return " ".join(line.strip() for line in text.splitlines())
