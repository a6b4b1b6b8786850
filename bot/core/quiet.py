"""Quiet hours: a channel's hours of the day, in its time zone, when only critical alerts are
posted (the rest wait for one summary) and escalations wait."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from datetime import time as clock_time
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.core.errors import RuleError
from bot.mrkdwn import quoted


@dataclass(frozen=True, slots=True)
class QuietHours:
    """Hours when only critical alerts are posted, e.g. 22:00-07:00 in America/Toronto."""

    start: clock_time
    end: clock_time
    timezone: str = "UTC"

    def __post_init__(self) -> None:
        if self.start == self.end:
            raise RuleError("quiet hours must start and end at different times")
        try:
            ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError, OSError):
            # OSError: a folder of the zone database ("America"), a name too long for a file.
            # The name is what someone typed, said back escaped (this goes to Slack).
            raise RuleError(f"unknown time zone '{quoted(self.timezone)}'") from None

    def active(self, now: float) -> bool:
        local = datetime.fromtimestamp(now, ZoneInfo(self.timezone)).time()
        if self.start < self.end:
            return self.start <= local < self.end
        return local >= self.start or local < self.end

    def describe(self) -> str:
        return f"{self.start:%H:%M}-{self.end:%H:%M} {self.timezone}"


def parse_quiet_hours(text: str, timezone: str = "UTC") -> QuietHours:
    """`22:00-07:00` into QuietHours; RuleError if it is not that shape."""
    try:
        start, end = (datetime.strptime(part.strip(), "%H:%M").time() for part in text.split("-"))
    except ValueError:
        raise RuleError(f"quiet hours look like 22:00-07:00, not '{quoted(text)}'") from None
    return QuietHours(start, end, timezone)
