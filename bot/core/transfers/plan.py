"""Transfer suggestions: which store should send how many pairs of a model to which other.

Per model, stores are balanced towards equal cover (McGavin, Ward and Schwarz, 1997: with
symmetric demand, equal inventory normalised by demand is optimal):
- a store's position is its level, plus what is already promised to it, minus what it has
  promised away (accepted transfers not yet received): stock is never promised twice;
- with rates, cover = position / rate and the pooled target is the chain's total position over
  its total rate; without rates, levels are balanced around the chain mean instead;
- stores at or below their low threshold and well below the target receive, the most urgent
  first: a suggestion answers a shortage people were told of, not every dip before a regular
  delivery; stores far above the target give, never below their floor (their own low
  threshold plus a margin) nor below the target; a move is at least `min_quantity`; a pair
  that just moved stock one way is not asked to move it back (the caller passes such pairs as
  `blocked`);
- donors are taken nearest first when store locations are known.
Pure and deterministic: every order has a total-order tie-break, so the same state gives the
same plan. Each model's stores are classified with numpy; only the few short and spare ones go
through the matching loop.
"""

from __future__ import annotations

import csv
import itertools
import math
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass

import numpy as np

EARTH_KM = 6371.0


@dataclass(frozen=True, slots=True)
class PlanSettings:
    receive_below: float = 0.6  # receive under this share of the target cover (or level)
    give_above: float = 1.5  # give above this share of it
    min_quantity: int = 2
    slowest_per_hour: float = 1 / (30 * 24)  # a shelf selling nothing still has finite cover


@dataclass(frozen=True, slots=True)
class Suggestion:
    """Move `quantity` pairs of `model` from one store to another, and why, in one line."""

    model: str
    source: str
    target: str
    quantity: int
    why: str
    urgency: float  # the receiver's cover (hours) or level before the move: lower is worse
    by_rate: bool  # True: balanced by cover; False: by level (no rates)
    source_before: float
    source_after: float
    target_before: float
    target_after: float
    source_level: int  # the levels the plan saw, before anything promised
    target_level: int
    km: float | None = None


@dataclass(frozen=True, slots=True)
class ModelStock:
    """One model across its stores, as arrays aligned with `stores`.

    `rates` are pairs sold per hour in stock (NaN where unknown); `lows` the low thresholds: a
    store at or below its own asks for stock, and a store giving keeps more than it
    (`floor_for`); `incoming`/`outgoing` what accepted transfers already promise."""

    model: str
    stores: Sequence[str]
    levels: np.ndarray
    rates: np.ndarray
    lows: np.ndarray
    incoming: np.ndarray
    outgoing: np.ndarray


def plan_model(
    stock: ModelStock,
    settings: PlanSettings = PlanSettings(),
    *,
    blocked: frozenset[tuple[str, str]] = frozenset(),
    locations: dict[str, tuple[float, float]] | None = None,
) -> list[Suggestion]:
    """The suggestions for one model, the most urgent receiver first."""
    position = (stock.levels + stock.incoming - stock.outgoing).astype(np.float64)
    known = ~np.isnan(stock.rates)
    rates = None
    if known.any():
        # Stores whose pace is not known yet take the median of those known.
        rates = np.where(known, stock.rates, np.nanmedian(stock.rates))
        rates = np.maximum(rates, settings.slowest_per_hour)
        measure = position / rates  # hours of cover
        # fsum is exact, so the target does not depend on the order stores come in.
        target = position.sum() / math.fsum(rates)
        goal = np.ceil(rates * target)
    else:
        measure = position
        target = position.mean()
        goal = np.full(position.shape, math.ceil(target))
    need = goal - position
    spare = position - np.maximum(floor_for(stock.lows), goal)
    short = (position <= stock.lows) & (measure < target * settings.receive_below)
    receivers = np.flatnonzero(short & (need >= settings.min_quantity))
    high = measure > target * settings.give_above
    donors = np.flatnonzero(high & (spare >= settings.min_quantity))
    if not len(receivers) or not len(donors):
        return []
    matcher = _Matcher(stock, settings, position, rates, blocked, locations)
    return matcher.match(receivers, donors, need, spare, measure)


class _Matcher:
    """Greedy matching for one model: receivers in order of urgency, each taking from the
    donors in order until its need is met. Donors are ordered once, most to spare first; with
    locations, each receiver orders them by distance instead (stores with no location last).
    Without locations a receiver's search starts at the first donor with anything left, so a
    model costs about one step per receiver and per donor."""

    def __init__(
        self,
        stock: ModelStock,
        settings: PlanSettings,
        position: np.ndarray,
        rates: np.ndarray | None,
        blocked: frozenset[tuple[str, str]],
        locations: dict[str, tuple[float, float]] | None,
    ) -> None:
        self.stock, self.settings, self.blocked, self.locations = (
            stock,
            settings,
            blocked,
            locations,
        )
        # Plain lists: reading one number from a numpy array costs ten times more.
        self.position = position.tolist()
        self.rates = rates.tolist() if rates is not None else None
        self.levels = stock.levels.tolist()

    def match(self, receivers, donors, need, spare, measure) -> list[Suggestion]:
        stores, minimum, blocked = self.stock.stores, self.settings.min_quantity, self.blocked
        spare_of = spare.tolist()
        order = sorted(donors.tolist(), key=lambda d: (-spare_of[d], stores[d]))
        left = {d: int(spare_of[d]) for d in order}
        given = dict.fromkeys(order, 0)
        where = self._places(order)
        first = 0  # in `order`, the first donor that may still give
        suggestions = []
        urgency = measure.tolist()
        for r in sorted(receivers.tolist(), key=lambda i: (urgency[i], stores[i])):
            while first < len(order) and left[order[first]] < minimum:
                first += 1
            wanted, received = int(need[r]), 0
            for d, km in self._donors_for(r, order, first, where):
                if wanted < minimum:
                    break
                if left[d] < minimum or (blocked and (stores[d], stores[r]) in blocked):
                    continue
                quantity = min(wanted, left[d])
                suggestions.append(self._suggestion(d, r, quantity, given[d], received, km))
                left[d] -= quantity
                given[d] += quantity
                wanted -= quantity
                received += quantity
        return suggestions

    def _places(self, order: list[int]) -> tuple[np.ndarray, np.ndarray] | None:
        """The donors' latitudes and longitudes in radians (NaN where unknown), if any."""
        locations = self.locations
        if not locations:
            return None
        stores = self.stock.stores
        spots = [locations.get(stores[d], (math.nan, math.nan)) for d in order]
        return np.radians(np.array(spots, dtype=np.float64).reshape(-1, 2)).T

    def _donors_for(self, receiver: int, order: list[int], first: int, where) -> Iterator:
        """(donor, km or None) in the order this receiver asks them."""
        here = self.locations.get(self.stock.stores[receiver]) if where is not None else None
        if here is None:
            return ((d, None) for d in itertools.islice(order, first, None))
        kms = _haversine_many(here, *where)
        # Unknown places (NaN) sort last; among equals the fixed order (most to spare) holds.
        nearest = np.argsort(np.nan_to_num(kms, nan=np.inf), kind="stable")
        return ((order[i], None if math.isnan(kms[i]) else float(kms[i])) for i in nearest)

    def _suggestion(
        self, d: int, r: int, quantity: int, given: int, received: int, km: float | None
    ) -> Suggestion:
        stores, rates = self.stock.stores, self.rates
        levels = (
            self.position[d] - given,
            self.position[d] - given - quantity,
            self.position[r] + received,
            self.position[r] + received + quantity,
        )
        if rates is not None:
            values = [
                levels[0] / rates[d],
                levels[1] / rates[d],
                levels[2] / rates[r],
                levels[3] / rates[r],
            ]
            shown = [_cover(v) for v in values]
        else:
            values = [float(v) for v in levels]
            shown = [f"{int(v)} pairs" for v in values]
        why = (
            f"Move {quantity} {self.stock.model} from {stores[d]} ({shown[0]} → {shown[1]}) "
            f"to {stores[r]} ({shown[2]} → {shown[3]})"
        )
        if km is not None:
            why += f", {km:.0f} km"
        return Suggestion(
            self.stock.model,
            stores[d],
            stores[r],
            quantity,
            why,
            values[2],
            rates is not None,
            *values,
            int(self.levels[d]),
            int(self.levels[r]),
            km=km,
        )


def _cover(hours: float) -> str:
    """`45 d of cover` or `30 h of cover`."""
    if hours >= 48:
        return f"{hours / 24:.0f} d of cover"
    return f"{hours:.0f} h of cover"


def _haversine_many(here: tuple[float, float], lats: np.ndarray, lons: np.ndarray) -> np.ndarray:
    """Great-circle distances in km from `here` (degrees) to points given in radians."""
    lat, lon = math.radians(here[0]), math.radians(here[1])
    h = np.sin((lats - lat) / 2) ** 2 + math.cos(lat) * np.cos(lats) * np.sin((lons - lon) / 2) ** 2
    return 2 * EARTH_KM * np.arcsin(np.sqrt(h))


def parse_locations(lines: Iterable[str]) -> dict[str, tuple[float, float]]:
    """Store locations from CSV lines `store,latitude,longitude` (a header line is allowed).
    Raises ValueError naming the first bad line."""
    found: dict[str, tuple[float, float]] = {}
    for number, row in enumerate(csv.reader(lines), start=1):
        if not row or not "".join(row).strip():
            continue
        if number == 1 and [c.strip().lower() for c in row] == ["store", "latitude", "longitude"]:
            continue
        if len(row) != 3:
            raise ValueError(f"line {number}: expected store,latitude,longitude, got {row!r}")
        store, *numbers = (c.strip() for c in row)
        try:
            lat, lon = (float(n) for n in numbers)
        except ValueError:
            raise ValueError(f"line {number}: latitude and longitude must be numbers") from None
        if not (-90 <= lat <= 90 and -180 <= lon <= 180) or not store:
            raise ValueError(f"line {number}: {store!r} at ({lat}, {lon}) is not a place")
        if store in found:
            raise ValueError(f"line {number}: {store!r} is listed twice")
        found[store] = (lat, lon)
    return found


def floor_for(lows: np.ndarray) -> np.ndarray:
    """What a giving store keeps at least: its low threshold plus a fifth, and 2 pairs more at
    the least, so a transfer never sets off an alert at the store that gave."""
    return lows + np.maximum(2, np.ceil(0.2 * lows))
