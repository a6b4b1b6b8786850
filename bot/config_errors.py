"""How bad settings are told: one plain line per variable, never echoing a secret, nor a URL
that may hold a password."""

from __future__ import annotations

from urllib.parse import SplitResult, urlsplit

from pydantic import ValidationError

from bot.core.errors import CannotStart

_SECRETS = {
    "SLACK_BOT_TOKEN",
    "SLACK_APP_TOKEN",
    "SLACK_SIGNING_SECRET",
    "API_TOKEN",
    "DATABASE_URL",
}
# Never echoed back either: URLs may carry a password (their checks name them masked).
_NOT_ECHOED = _SECRETS | {"FEED_URLS", "SLACK_API_URL"}


class SettingsError(CannotStart):
    """Bad settings, described in plain lines that name each variable."""

    def __init__(self, lines: list[str]) -> None:
        super().__init__("\n".join(lines))
        self.lines = lines


def describe(error: ValidationError) -> list[str]:
    """One plain line per bad variable: its environment name and what is wrong."""
    lines = []
    for item in error.errors(include_url=False):
        message = item["msg"].removeprefix("Value error, ")
        if not item["loc"]:  # a check across variables names them itself
            lines.append(message)
            continue
        name = str(item["loc"][0]).upper()
        value = item.get("input")
        shown = ""
        if (
            isinstance(value, str | int | float)
            and name not in _NOT_ECHOED
            and str(value) not in message
        ):
            shown = f" (got {value!r})"
        lines.append(f"{name}: {message}{shown}")
    return lines


def split_url(url: str) -> SplitResult:
    """urlsplit, whose own error (a bad IPv6 address) quotes no URL: it may hold a password."""
    try:
        return urlsplit(url)
    except ValueError as error:
        raise ValueError(f"a URL cannot be read ({error})") from None
