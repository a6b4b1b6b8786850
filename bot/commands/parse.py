"""Reading what people type after a slash command. Pure: text in, words and options out, or a
Usage error whose message is shown to the person, privately, with nothing changed."""

from __future__ import annotations

import html
import re
import shlex

from bot.core.errors import Refusal
from bot.core.events import MAX_INVENTORY
from bot.mrkdwn import quoted

MAX_TEXT = 500  # no command needs more; longer text is refused before any work


class Usage(Refusal):
    """What was typed cannot be done; the message says why and how to say it."""


def words(text: str) -> list[str]:
    """The words of a command's text; quoted names stay whole: store="ALDO Maine Mall"."""
    if len(text) > MAX_TEXT:
        raise Usage(f"That is longer than any command needs ({MAX_TEXT} characters at most).")
    # Slack escapes &, < and > in command text; typed mentions and links arrive as <@U123>,
    # <#C123|name>, <!here> or <https://...> markup, which no store or model is called.
    if re.search(r"<[@#!]|<https?:", text):
        raise Usage("Mentions and links are not store or model names.")
    text = html.unescape(text)
    if any(ord(c) < 32 and c not in "\t\n" for c in text):
        raise Usage("That text has control characters in it.")
    try:
        return shlex.split(text.replace("\u201c", '"').replace("\u201d", '"'), posix=True)
    except ValueError:
        raise Usage(
            'A quote is not closed. Put names with spaces in quotes: store="ALDO Maine Mall".'
        ) from None


def options(tokens: list[str], allowed: tuple[str, ...]) -> tuple[list[str], dict[str, str]]:
    """Split `name=value` options from the other words; refuse unknown or repeated names."""
    plain, named = [], {}
    for token in tokens:
        key, sep, value = token.partition("=")
        if not sep:
            plain.append(token)
            continue
        key = key.strip().lower()
        if key not in allowed:
            raise Usage(
                f"I don't know `{quoted(key)}=`. I know: {', '.join(f'`{a}=`' for a in allowed)}."
            )
        if key in named:
            raise Usage(f"`{key}=` is there twice.")
        if not value.strip():
            raise Usage(f"`{key}=` needs a value.")
        named[key] = value.strip()
    return plain, named


def level(name: str, value: str, *, off: bool = True) -> int | None:
    """A stock level: a whole number from 0 to MAX_INVENTORY, or `off` (None) if allowed."""
    if off and value.lower() in ("off", "none", "-"):
        return None
    if not re.fullmatch(r"\d{1,7}", value) or int(value) > MAX_INVENTORY:
        also = " (or off)" if off else ""
        raise Usage(
            f"`{name}` must be a whole number from 0 to {MAX_INVENTORY:,}{also}, "
            f"not `{quoted(value)}`."
        )
    return int(value)


def side(name: str, value: str) -> tuple[int | None, float | None]:
    """A low or high threshold: `5` pairs, `2d` (or `1.5d`) days of cover, or `off`: (pairs,
    days), each None where not given."""
    text = value.strip().lower()
    if text in ("off", "none", "-") or re.fullmatch(r"[-+]?\d+", text):
        return level(name, value), None
    match = re.fullmatch(r"(\d{1,3}(?:\.\d{1,2})?)\s*d(?:ays?)?", text)
    if match is None:
        raise Usage(
            f"`{name}` is a number of pairs (5), of days of cover (2d), or off, "
            f"not `{quoted(value)}`."
        )
    days = float(match.group(1))
    if not 0.05 <= days <= 365:
        raise Usage(f"`{name}` in days of cover is from 0.05d to 365d, not `{quoted(value)}`.")
    return None, days


def count(name: str, value: str, low: int, high: int) -> int:
    if not re.fullmatch(r"\d{1,4}", value) or not low <= int(value) <= high:
        raise Usage(f"`{name}` must be a whole number from {low} to {high}, not `{quoted(value)}`.")
    return int(value)


_UNITS = {"s": 1, "m": 60, "min": 60, "h": 3600, "d": 86400}


def duration(name: str, value: str, *, most: float) -> float:
    """`90s`, `2m`, `4h`, `1d` (a bare number is seconds) into seconds."""
    match = re.fullmatch(r"(\d{1,6})\s*(s|m|min|h|d)?", value.strip().lower())
    seconds = int(match.group(1)) * _UNITS[match.group(2) or "s"] if match else None
    if seconds is None or seconds > most:
        raise Usage(
            f"`{name}` must be a duration like 30m, 4h or 1d (at most {most / 3600:g} h), "
            f"not `{quoted(value)}`."
        )
    return float(seconds)


def incident_id(value: str) -> int:
    """`12` or `#12`."""
    match = re.fullmatch(r"#?(\d{1,9})", value.strip())
    if not match:
        raise Usage(f"`{quoted(value)}` is not an alert number; they look like #12.")
    return int(match.group(1))


def numbered(value: str, letter: str, what: str) -> int:
    """`12`, `#12` or `S12` (with `letter` "S"): a suggestion's or transfer's number."""
    match = re.fullmatch(rf"#?(?:{letter})?(\d{{1,9}})", value.strip(), re.IGNORECASE)
    if not match:
        raise Usage(f"`{quoted(value)}` is not a {what} number; they look like {letter}12.")
    return int(match.group(1))
