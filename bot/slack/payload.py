"""An outbox row's payload as the arguments of its Slack call: the sender renders each message
when it sends it, from the view committed with the change, so an edit that a later one
supersedes is never rendered."""

from __future__ import annotations

from bot.core.alerting.effects import Note
from bot.mrkdwn import escape
from bot.slack.render import render
from bot.store.codec import decode_view


def render_payload(payload: dict) -> dict:
    """An outbox payload as the Slack call's arguments: {"text", "blocks"?, "broadcast"?}."""
    if "view" in payload:
        message = render(decode_view(payload["view"]))
        return {"text": message.text, "blocks": message.blocks}
    # A thread line: the bot's words, with names and people escaped here. (A row committed by
    # a version before notes had fields holds finished text.)
    text = payload["note"]
    if "fields" in payload:
        text = Note(text, tuple(payload["fields"].items())).text(escape)
    return {"text": text, "broadcast": payload.get("broadcast", False)}
