"""How fast each (store, model) sells, from the feed alone.

Each message is one sale, so the rate is a decayed count of sales over decayed time in stock:
N <- N e^(-d/tau) + 1 at each sale, E <- E e^(-d/tau) + tau (1 - e^(-d/tau)) for the time d
since the last sale if the shelf was not empty meanwhile. Time at zero stock does not count:
an empty shelf sells nothing because it is empty, not for want of demand. Two speeds, half-lives
of an hour (a flash sale shows within the hour) and of three days; the faster is the one used
for risk. A shelf seen little borrows strength from its model's pace across the chain
(Gamma-Poisson shrinkage: as if PRIOR_HOURS had been seen at the model's rate).

Rates are pairs sold per hour of being in stock. Pure: times are passed in.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, replace

import numpy as np

from bot.core.events import SaleEvent

FAST_HALF_LIFE = 3_600.0
SLOW_HALF_LIFE = 3 * 86_400.0
TAU_FAST = FAST_HALF_LIFE / math.log(2)
TAU_SLOW = SLOW_HALF_LIFE / math.log(2)
_FAST_HOURS = TAU_FAST / 3600  # in-stock hours a shelf adds at each speed over a long gap
_SLOW_HOURS = TAU_SLOW / 3600
PRIOR_HOURS = 8.0  # the model's pace counts as this many hours of the shelf's own
KNOWN_AFTER_HOURS = 1.0  # in-stock time (own or borrowed) before a rate is given at all
SPEEDS = (("fast_sold", "fast_hours", TAU_FAST), ("slow_sold", "slow_hours", TAU_SLOW))


@dataclass(slots=True)
class Pace:
    """The decayed sums of one shelf, or of one model across its shelves, as of `at`.
    `stocked` is 1 for a shelf holding stock (or the number of such shelves of a model);
    `level` is a shelf's last level (a model's is not kept)."""

    fast_sold: float = 0.0
    fast_hours: float = 0.0
    slow_sold: float = 0.0
    slow_hours: float = 0.0
    at: float = 0.0
    stocked: int = 0
    level: int = 0

    def sums(self) -> tuple[float, float, float, float]:
        """(fast_sold, fast_hours, slow_sold, slow_hours), as stored."""
        return self.fast_sold, self.fast_hours, self.slow_sold, self.slow_hours


def after_sale(pace: Pace | None, level: int, at: float) -> Pace:
    """A shelf's pace after a sale that left `level` pairs (the shelf's first sale starts it)."""
    if pace is None:
        return Pace(1.0, 0.0, 1.0, 0.0, at, 1 if level > 0 else 0, level)
    advance(pace, at, sold=1.0)
    pace.stocked = 1 if level > 0 else 0
    pace.level = level
    return pace


def advance(pace: Pace, at: float, sold: float = 0.0) -> None:
    """Decay the sums to `at`, adding in-stock time for every stocked shelf they cover, then
    count `sold` sales at `at`."""
    gap = at - pace.at
    if gap <= 0:
        pace.fast_sold += sold
        pace.slow_sold += sold
        return
    # Written out for both speeds, the sale counted in the same step: this runs twice for
    # every sale the feed sends (shelf and model), and calls cost more than the arithmetic.
    fast, slow, stocked = math.exp(-gap / TAU_FAST), math.exp(-gap / TAU_SLOW), pace.stocked
    pace.fast_sold = pace.fast_sold * fast + sold
    pace.slow_sold = pace.slow_sold * slow + sold
    pace.fast_hours = pace.fast_hours * fast + stocked * _FAST_HOURS * (1 - fast)
    pace.slow_hours = pace.slow_hours * slow + stocked * _SLOW_HOURS * (1 - slow)
    pace.at = at


def pooled(shelves: Iterable[Pace]) -> Pace:
    """A model's pace from its shelves' (each brought to the latest of their times)."""
    shelves = list(shelves)
    at = max((shelf.at for shelf in shelves), default=0.0)
    total = Pace(at=at)
    for stored in shelves:
        shelf = replace(stored)
        advance(shelf, at)
        total.fast_sold += shelf.fast_sold
        total.fast_hours += shelf.fast_hours
        total.slow_sold += shelf.slow_sold
        total.slow_hours += shelf.slow_hours
        total.stocked += shelf.stocked
    return total


class PaceBook:
    """Every shelf's pace and every model's across its shelves, kept sale by sale.

    A model's pace is the sum of its shelves' (the sums are linear), so it is kept whole
    rather than added up when asked: `stocked` counts its shelves holding stock. Shelves are
    kept by model, so the planner reads one model's shelves without a query. The writer fills
    the book from the stored paces at start and keeps it, a batch of sales at a time; others
    only read it."""

    def __init__(self) -> None:
        self.shelves: dict[str, dict[str, Pace]] = {}  # model -> store -> that shelf's pace
        self.models: dict[str, Pace] = {}

    def shelf(self, store: str, model: str) -> Pace | None:
        return self.shelves.get(model, {}).get(store)

    def sale(self, store: str, model: str, level: int, at: float) -> Pace:
        """Count one sale that left `level` pairs; returns the shelf's pace."""
        self.record([SaleEvent(store, model, level, at, "")])
        return self.shelves[model][store]

    def record(self, sales: Iterable[SaleEvent]) -> list[str]:
        """Count a batch of sales in order; returns the models they were of.

        Each shelf counts its sales one by one. Each model's pace is brought forward once per
        batch, to the batch's last sale of it, rather than at every sale: a batch spans
        milliseconds, so that shifts a few milliseconds of in-stock time, and saves about
        0.7 us of CPU per sale (4%, with 50 channels of rules in bench/ingest.py)."""
        shelves, moved = self.shelves, {}
        for sale in sales:
            model, level, at = sale.model, sale.inventory, sale.at
            stores = shelves.get(model)
            if stores is None:
                stores = shelves[model] = {}
            stocked = 1 if level > 0 else 0
            shelf = stores.get(sale.store)
            if shelf is None:
                stores[sale.store] = Pace(1.0, 0.0, 1.0, 0.0, at, stocked, level)
                was = 0
            else:  # after_sale, written out: this is the feed's hot path
                was = shelf.stocked
                advance(shelf, at, 1.0)
                shelf.stocked, shelf.level = stocked, level
            count = moved.get(model)
            if count is None:
                moved[model] = [1.0, stocked - was, at]
            else:
                count[0] += 1.0
                count[1] += stocked - was
                count[2] = at
        for model, (sold, change, at) in moved.items():
            pooled = self.models.get(model)
            if pooled is None:
                pooled = self.models[model] = Pace(at=at)
            advance(pooled, at, sold)  # with the shelves stocked until the batch
            pooled.stocked += change
        return list(moved)

    def rate(self, store: str, model: str, now: float) -> Rate:
        """The shelf's rate at `now` (see `rate`)."""
        return rate(self.shelf(store, model), self.models.get(model), now)


@dataclass(frozen=True, slots=True)
class Rate:
    """Pairs sold per hour in stock: `fast` (about the last hour), `slow` (about three days);
    `risk` is the faster of the two known. None where not known yet."""

    fast: float | None
    slow: float | None

    @property
    def risk(self) -> float | None:
        known = [r for r in (self.fast, self.slow) if r is not None]
        return max(known) if known else None


def rate(shelf: Pace | None, model: Pace | None, now: float) -> Rate:
    """The shelf's rate at `now`, shrunk towards its model's per-shelf rate. Neither is changed."""
    if shelf is None:
        return Rate(None, None)
    fast, slow = (_shrunk(shelf, model, now, speed) for speed in SPEEDS)
    return Rate(fast, slow)


def _shrunk(
    shelf: Pace, model: Pace | None, now: float, speed: tuple[str, str, float]
) -> float | None:
    own_sold, own_hours = _as_of(shelf, now, speed)
    prior_hours = prior_sold = 0.0
    if model is not None:
        model_sold, model_hours = _as_of(model, now, speed)
        if model_hours >= KNOWN_AFTER_HOURS:  # a prior needs a known pace itself
            prior_hours = PRIOR_HOURS
            prior_sold = PRIOR_HOURS * model_sold / model_hours
    if own_hours + prior_hours < KNOWN_AFTER_HOURS:
        return None
    return (own_sold + prior_sold) / (own_hours + prior_hours)


def _as_of(pace: Pace, now: float, speed: tuple[str, str, float]) -> tuple[float, float]:
    sold, hours, tau = speed
    keep = math.exp(-max(0.0, now - pace.at) / tau)
    in_stock = pace.stocked * tau * (1 - keep) / 3600
    return getattr(pace, sold) * keep, getattr(pace, hours) * keep + in_stock


def risk_rates(shelves: np.ndarray, model: Pace | None, now: float) -> np.ndarray:
    """`rate(...).risk` for many shelves of one model at once, NaN where not known.

    `shelves` has one row per shelf: fast_sold, fast_hours, slow_sold, slow_hours, at, stocked.
    The same arithmetic as `rate`, over arrays: planning a model of 3,000 shelves one `rate`
    call at a time took longer than the plan itself (a test holds the two together)."""
    risk = np.full(len(shelves), np.nan)
    since = np.maximum(0.0, now - shelves[:, 4])
    for column, (_, _, tau) in zip((0, 2), SPEEDS, strict=True):
        keep = np.exp(-since / tau)
        own_sold = shelves[:, column] * keep
        own_hours = shelves[:, column + 1] * keep + shelves[:, 5] * tau * (1 - keep) / 3600
        prior_sold = prior_hours = 0.0
        if model is not None:
            model_sold, model_hours = _as_of(model, now, SPEEDS[column // 2])
            if model_hours >= KNOWN_AFTER_HOURS:
                prior_hours = PRIOR_HOURS
                prior_sold = PRIOR_HOURS * model_sold / model_hours
        hours = own_hours + prior_hours
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            found = np.where(hours >= KNOWN_AFTER_HOURS, (own_sold + prior_sold) / hours, np.nan)
        risk = np.fmax(risk, found)  # the faster of the two known
    return risk


def hours_to_zero(level: int, per_hour: float | None) -> float | None:
    """At this pace, how long the shelf lasts; None if the pace is unknown or nothing sells."""
    if per_hour is None or per_hour <= 0:
        return None
    return level / per_hour


def describe_time_left(hours: float | None) -> str:
    """`about 2 h to zero at the current pace`, or why it cannot be said."""
    if hours is None:
        return "pace not known yet"
    if hours < 1:
        return f"about {max(1, round(hours * 60))} min to zero at the current pace"
    if hours < 48:
        return f"about {round(hours)} h to zero at the current pace"
    return f"about {hours / 24:.0f} days of cover at the current pace"


def describe_pace(level: int, per_hour: float | None) -> str:
    """`12/h, 2 h of cover`, `3/day, 5 days of cover`, or `pace not known yet`: one line of a
    stock listing."""
    if per_hour is None:
        return "pace not known yet"
    sold = f"{per_hour:.0f}/h" if per_hour >= 2 else f"{per_hour * 24:.0f}/day"
    hours = hours_to_zero(level, per_hour)
    if hours is None or level == 0:
        return f"sells {sold}"
    if hours < 1:
        cover = f"{max(1, round(hours * 60))} min"
    elif hours < 48:
        cover = f"{round(hours)} h"
    else:
        cover = f"{hours / 24:.0f} days"
    return f"sells {sold}, {cover} of cover"
