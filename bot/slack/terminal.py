"""Slack's mrkdwn as rich Text, for showing in a terminal what Slack would show: *bold*,
`code`, mentions, dates and links by their readable part, emoji codes drawn.

The result is built as styled spans, never as rich markup: a store name or a command holding
"[" or a backslash would otherwise be read as markup and break the screen."""

from __future__ import annotations

import html
import re

from rich.emoji import Emoji
from rich.text import Text

_LINK = re.compile(r"<([@#!]?)([^<>|]*)(?:\|([^<>]*))?>")
_SPAN = re.compile(r"`(?P<code>[^`\n]+)`|(?<![\w*])\*(?P<bold>[^*\n]+)\*(?![\w*])")


def to_rich(mrkdwn: str, style: str = "") -> Text:
    """`mrkdwn` as Slack would show it, as rich Text in `style`."""

    def link(match: re.Match) -> str:
        sigil, target, label = match.groups()
        if label:
            return label
        if sigil in ("@", "#"):
            return sigil + target
        if sigil == "!":
            return "@" + target.split("^", 1)[0]
        return target

    text = html.unescape(_LINK.sub(link, mrkdwn))
    shown, at = Text(style=style), 0
    for span in _SPAN.finditer(text):
        shown.append(Emoji.replace(text[at : span.start()]))
        if span["code"] is not None:
            shown.append(span["code"], "cyan")  # as typed: Slack draws no emoji in code
        else:
            shown.append(Emoji.replace(span["bold"]), "bold")
        at = span.end()
    shown.append(Emoji.replace(text[at:]))
    return shown
