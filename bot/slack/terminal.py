"""Slack's mrkdwn as rich markup, for showing in a terminal what Slack would show: *bold*,
`code`, mentions, dates and links by their readable part, emoji codes left for rich to draw."""

from __future__ import annotations

import html
import re

from rich.markup import escape

_LINK = re.compile(r"<([@#!]?)([^<>|]*)(?:\|([^<>]*))?>")
_BOLD = re.compile(r"(?<![\w*])\*([^*\n]+)\*(?![\w*])")
_CODE = re.compile(r"`([^`\n]+)`")


def to_rich(mrkdwn: str) -> str:
    """Rich console markup showing `mrkdwn` as Slack would."""

    def link(match: re.Match) -> str:
        sigil, target, label = match.groups()
        if label:
            return label
        if sigil == "@":
            return "@" + target
        if sigil == "#":
            return "#" + target
        if sigil == "!":
            return "@" + target.split("^", 1)[0]
        return target

    text = _LINK.sub(link, mrkdwn)
    text = escape(html.unescape(text))
    text = _CODE.sub(lambda m: f"[cyan]{m.group(1)}[/cyan]", text)
    return _BOLD.sub(lambda m: f"[bold]{m.group(1)}[/bold]", text)
