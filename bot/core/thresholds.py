"""When a level alerts: thresholds in pairs, or in days of cover at the shelf's pace."""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

from bot.core.errors import RuleError
from bot.core.events import MAX_INVENTORY

MAX_COVER_DAYS = 365


@dataclass(frozen=True, slots=True)
class Thresholds:
    """When a level alerts. `low`: at or below it (0 is out of stock; None: never low).
    `high`: at or above it (None: never high). The gate: a low or high condition must hold for
    `gate_readings` readings and `gate_seconds` seconds before it fires.

    A side may be in days of cover instead: `low_days` alerts when the shelf's stock would last
    that long or less at its pace (days = hours of stock at the pace / 24), `high_days` when it
    would last that long or more. The pairs value of that side is then what applies until a
    pace is known (the fallback)."""

    low: int | None = 10
    high: int | None = 80
    gate_readings: int = 2
    gate_seconds: float = 60.0
    low_days: float | None = None
    high_days: float | None = None

    def __post_init__(self) -> None:
        for name in ("low", "high"):
            value = getattr(self, name)
            if value is not None and not 0 <= value <= MAX_INVENTORY:
                raise RuleError(f"{name} must be from 0 to {MAX_INVENTORY:,}, not {value}")
        for name in ("low_days", "high_days"):
            days = getattr(self, name)
            if days is not None and not 1 / 24 <= days <= MAX_COVER_DAYS:
                raise RuleError(f"cover must be from 1 hour to {MAX_COVER_DAYS} days, not {days:g}")
        if self.low is not None and self.high is not None and self.high <= self.low:
            until = " pairs until a pace is known" if self.low_days or self.high_days else ""
            raise RuleError(f"high ({self.high}) must be above low ({self.low}){until}")
        if self.low_days and self.high_days and self.high_days <= self.low_days:
            raise RuleError(
                f"high ({self.high_days:g} days) must be above low ({self.low_days:g} days)"
            )
        if self.gate_readings < 1:
            raise RuleError("the gate needs at least 1 reading")
        if not 0 <= self.gate_seconds <= 86_400:
            raise RuleError("the gate must be from 0 to 86,400 seconds")

    @property
    def by_cover(self) -> bool:
        """A side is in days of cover: what it means in pairs depends on the shelf's pace."""
        return self.low_days is not None or self.high_days is not None

    def at_pace(self, per_hour: float | None) -> Thresholds:
        """The pairs these thresholds mean for a shelf selling `per_hour` pairs an hour: low
        at or below days x 24 x pace, high at or above it. With no pace (None), or one of 0,
        the pairs values stand. Cover is kept, to say why."""
        if not self.by_cover or not per_hour or per_hour <= 0:
            return self
        low, high = self.low, self.high
        if self.low_days is not None:
            low = min(MAX_INVENTORY - 1, math.floor(self.low_days * 24 * per_hour))
        if self.high_days is not None:
            high = min(MAX_INVENTORY, max(1, math.ceil(self.high_days * 24 * per_hour)))
        if low is not None and high is not None and high <= low:
            high = low + 1  # a pairs side and a cover side that cross: running short wins
        return replace(self, low=low, high=high)

    def describe(self) -> str:
        """`low <= 5, high >= 80`, or in days: `low <= 2 days of cover (10 pairs until a pace
        is known)`."""
        return ", ".join(
            (
                _side("low", "<=", self.low, self.low_days),
                _side("high", ">=", self.high, self.high_days),
            )
        )

    @property
    def low_clear(self) -> int:
        """A low alert resolves only at or above this level (a deadband over `low`), so a
        level wobbling around the threshold does not fire and resolve over and over."""
        assert self.low is not None
        return self.low + max(2, math.ceil(0.2 * self.low))

    @property
    def high_clear(self) -> int:
        """A high alert resolves only at or below this level."""
        assert self.high is not None
        return self.high - max(2, math.ceil(0.1 * self.high))


def _side(name: str, sign: str, pairs: int | None, days: float | None) -> str:
    if days is None:
        return f"{name} {sign} {pairs}" if pairs is not None else f"no {name} alert"
    fallback = f"{pairs} pairs" if pairs is not None else f"no {name} alert"
    return f"{name} {sign} {days:g} days of cover ({fallback} until a pace is known)"
