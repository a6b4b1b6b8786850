"""What the store's reads hand back, the same from SQLite and PostgreSQL: plain data, with the
row layouts both backends select into (so one decoder serves both)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TypeVar

from bot.core.velocity import Pace, Rate, rate

T = TypeVar("T")

# The lowest levels of the whole chain are listed (indexed, or kept aside) up to this many pairs.
LOW_LISTED = 20

# Suggestions are counted up to this many: an exact count of 200,000 costs /transfers 25 ms at
# p99 (bench/commands.py), and "over 1,000 more" tells a reader as much.
COUNTED = 1000


def more(total: int, shown: int) -> str:
    """How many were not shown, from a count capped at COUNTED: "12" or "over 980"."""
    return f"over {COUNTED - shown:,}" if total > COUNTED else f"{total - shown:,}"


@dataclass(frozen=True, slots=True)
class Level:
    """Current stock of one model at one store, and how fast it sells."""

    store: str
    model: str
    inventory: int
    last_sale_at: float
    sale_count: int
    pace: Pace = field(compare=False)
    model_pace: Pace | None = field(compare=False)

    def rate(self, now: float) -> Rate:
        """Pairs sold per hour in stock, as of `now`."""
        return rate(self.pace, self.model_pace, now)

    @classmethod
    def from_row(cls, row: tuple) -> Level:
        store, model, inventory, at, count, fs, fh, ss, sh, *pooled = row
        model_pace = Pace(*pooled) if pooled[0] is not None else None
        return cls(
            store,
            model,
            inventory,
            at,
            count,
            Pace(fs, fh, ss, sh, at, int(inventory > 0), inventory),
            model_pace,
        )


@dataclass(frozen=True, slots=True)
class StoredEvent:
    id: int
    at: float
    feed: str
    store: str
    model: str
    inventory: int


@dataclass(frozen=True, slots=True)
class DeadLetter:
    id: int
    at: float
    feed: str
    reason: str
    detail: str
    sample: str
    size: int


@dataclass(frozen=True, slots=True)
class MuteRow:
    """What a channel has muted: a kind of alert for a store and model, by whom, until when."""

    kind: str
    store: str
    model: str
    by: str
    at: float
    until: float | None


def after_id(after: str | None) -> int:
    """The id a page's cursor names (0: from the start)."""
    return int(after.partition(".")[0]) if after else 0


def paged(items: list[T], rows: Sequence[Sequence], limit: int) -> tuple[list[T], str | None]:
    """The first `limit` items, and the id of the last as the cursor if more follow (the read
    fetched one row more than `limit` to know)."""
    if len(rows) > limit:
        return items[:limit], str(rows[limit - 1][0])
    return items, None
