"""Slack's mrkdwn for text the bot does not control (names from the feed, words people type),
and the few marks every message shares (severity icons and words, Slack dates). One source,
used by alerts, command answers and the App Home alike."""

from __future__ import annotations

import re
from datetime import UTC, datetime

# By severity (bot.core.alerting.machine.Severity, a str enum, looks these up as it is). This
# module imports nothing of the bot, so that every part, the core included, may use it.
ICONS = {"out": ":red_circle:", "low": ":large_orange_circle:", "high": ":large_blue_circle:"}
# What each severity is called in a list of alerts.
SEVERITY_WORDS = {"out": "out of stock", "low": "low", "high": "overstock"}
QUOTED_CHARS = 40
# Slack IDs the bot may mention: people (U..., W... on Enterprise Grid) and user groups (S...).
OWNER_ID = re.compile(r"(?:[UW]|S)[A-Z0-9]{2,20}")


def escape(text: str) -> str:
    """Text from the feed or from people, made safe for Slack's mrkdwn: `<!channel>` in a store
    name must not ping a channel, nor `<https://...|x>` make a link."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def quoted(text: str) -> str:
    """Something a person typed, quoted back inside `code`: short, escaped, no backticks."""
    text = text if len(text) <= QUOTED_CHARS else text[:QUOTED_CHARS] + "…"
    return escape(text.replace("`", "'"))


def mention(owner: str) -> str:
    """The mark that notifies a person (`<@U123>`) or a user group (`<!subteam^S123>`): the
    only marks the bot builds from stored values, so the ID is checked here, strictly; anything
    else raises ValueError rather than ever reach a message."""
    if not OWNER_ID.fullmatch(owner):
        raise ValueError(f"{owner[:40]!r} is not a Slack user or user group ID")
    return f"<!subteam^{owner}>" if owner.startswith("S") else f"<@{owner}>"


def icon(severity: str | None) -> str:
    """The icon of a severity; a warning sign for incidents without one (feeds, flapping)."""
    return ICONS.get(severity, ":warning:") if severity else ":warning:"


def date(
    at: float | None, layout: str = "{date_short_pretty} {time}", fallback: str | None = None
) -> str:
    """A time Slack shows in each reader's own zone; where it cannot, `fallback` (the time in
    UTC unless given)."""
    if at is None:
        return "?"
    if fallback is None:
        fallback = datetime.fromtimestamp(at, UTC).strftime("%Y-%m-%d %H:%M UTC")
    return f"<!date^{int(at)}^{layout}|{fallback}>"


def cut(text: str, limit: int) -> str:
    """`text` shortened to `limit` characters, ending with "…" if cut; never in the middle of
    an escaped character (`&amp;`) or a Slack mark (`<...>`)."""
    if len(text) <= limit:
        return text
    text = text[: limit - 1]
    amp, lt = text.rfind("&"), text.rfind("<")
    if amp > text.rfind(";"):
        text = text[:amp]
    if lt > text.rfind(">"):
        text = text[:lt]
    return text + "…"
