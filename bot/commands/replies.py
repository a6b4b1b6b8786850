"""Replies to commands: Block Kit built with slack_sdk (which checks Slack's limits), with a
plain-text version for notifications and the terminal."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass

from slack_sdk.models.blocks import (
    ActionsBlock,
    ButtonElement,
    ContextBlock,
    MarkdownTextObject,
    SectionBlock,
)

from bot.mrkdwn import cut

SHARE_ACTION = "share_answer"
SECTION_LIMIT = 3000  # characters in one section's text
MAX_SECTIONS = 40  # of Slack's 50 blocks a message, leaving room for the rest
MAX_BUTTONS = 10  # Slack allows 25 in a block; more than ten is a wall, not a choice


@dataclass(frozen=True)
class Reply:
    """What a command answers.

    `text` is the whole answer as plain mrkdwn (notifications, the terminal); `blocks` the same
    for Slack. `announce` is a line the whole channel should see (a change, confirmed). A reply
    with `share` offers a button that posts the same answer in the channel. `form` names the
    channel whose rules form Slack should open instead (the text answers where it cannot).
    """

    text: str
    blocks: list[dict] | None = None
    announce: str | None = None
    share: dict | None = None  # {"command", "text"} to run again for the channel
    error: bool = False
    form: str | None = None


def answer(
    title: str,
    lines: list[str],
    *,
    footer: str | None = None,
    share: dict | None = None,
    announce: str | None = None,
    buttons: list[tuple[str, str, str]] = (),
) -> Reply:
    """A reply: a bold title, its lines (split into sections within Slack's limits), a footer,
    `buttons` as (action_id, label, value), and a Share button when `share` names the command
    to run again for the channel."""
    blocks = section_blocks(f"*{title}*", lines)
    if buttons:
        blocks.append(
            ActionsBlock(
                block_id="actions",
                elements=[
                    ButtonElement(text=label, action_id=action, value=value)
                    for action, label, value in buttons[:MAX_BUTTONS]
                ],
            )
        )
    if footer:
        blocks.append(ContextBlock(elements=[MarkdownTextObject(text=footer[:SECTION_LIMIT])]))
    if share is not None:
        value = json.dumps(share, separators=(",", ":"))
        if len(value) <= 2000:
            blocks.append(
                ActionsBlock(
                    block_id="share",
                    elements=[
                        ButtonElement(text="Share in channel", action_id=SHARE_ACTION, value=value)
                    ],
                )
            )
        else:
            share = None
    text = "\n".join([f"*{title}*", *lines, *([footer] if footer else [])])
    return Reply(text=text, blocks=[b.to_dict() for b in blocks], share=share, announce=announce)


def section_blocks(title: str, lines: list[str]) -> list[SectionBlock]:
    """`title` and `lines` as sections of mrkdwn, each within Slack's 3,000 characters and at
    most MAX_SECTIONS of them; a line is never split (one longer than a section is cut)."""
    sections, current = [], title
    for line in lines:
        if len(current) + 1 + len(line) > SECTION_LIMIT:
            sections.append(current)
            current = ""
        current = f"{current}\n{line}" if current else line
    sections.append(current)
    return [
        SectionBlock(text=MarkdownTextObject(text=cut(s, SECTION_LIMIT)))
        for s in sections[:MAX_SECTIONS]
    ]


def problem(message: str) -> Reply:
    """A private reply that something could not be done; nothing was changed."""
    return Reply(text=f":warning: {message}", blocks=None, error=True)


def sentence(text: str) -> str:
    """An error's text as a sentence: first letter up, a full stop (the rest left as it is,
    so <@U1> stays <@U1>)."""
    text = text[:1].upper() + text[1:]
    return text if text.endswith((".", "?", "!")) else text + "."


def ago(at: float | None, now: float | None = None) -> str:
    """`just now`, `4 min ago`, `3 h ago`, `2 d ago`."""
    if at is None:
        return "never"
    seconds = max(0.0, (now if now is not None else time.time()) - at)
    if seconds < 60:
        return "just now"
    if seconds < 3600:
        return f"{seconds // 60:.0f} min ago"
    if seconds < 86_400:
        return f"{seconds // 3600:.0f} h ago"
    return f"{seconds // 86_400:.0f} d ago"
