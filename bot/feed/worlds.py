"""Simulated shops: the sales each world produces, with the random source passed in.

`RandomWorld` behaves like the public demo generator: every second 1-3 sales at random stores
and models, each level drawn from 0..100. `RealisticWorld` is a chain a store lead would
recognise: each (store, model) sells at its own pace, a level falls by one per sale, a store
reorders at its reorder point and the delivery arrives after a lead time, so levels jump up on
restock. Most deliveries arrive before the shelf runs low; some come late (low stock, then
stock-outs), some are too big (overstock), and a few shelves start the day short.
"""

from __future__ import annotations

import bisect
import heapq
import itertools
import json
import random
from collections.abc import Iterator
from dataclasses import dataclass

DEMO_STORES = [
    "ALDO Centre Eaton",
    "ALDO Destiny USA Mall",
    "ALDO Pheasant Lane Mall",
    "ALDO Holyoke Mall",
    "ALDO Maine Mall",
    "ALDO Crossgates Mall",
    "ALDO Burlington Mall",
    "ALDO Solomon Pond Mall",
    "ALDO Auburn Mall",
    "ALDO Waterloo Premium Outlets",
]
DEMO_MODELS = [
    "ADERI",
    "MIRIRA",
    "CAELAN",
    "BUTAUD",
    "SCHOOLER",
    "SODANO",
    "MCTYRE",
    "CADAUDIA",
    "RASIEN",
    "WUMA",
    "GRELIDIEN",
    "CADEVEN",
    "SEVIDE",
    "ELOILLAN",
    "BEODA",
    "VENDOGNUS",
    "ABOEN",
    "ALALIWEN",
    "GREG",
    "BOZZA",
]


def store_names(count: int) -> list[str]:
    """The demo's store names, then numbered ones for larger worlds."""
    extra = [f"ALDO Store {i:04d}" for i in range(len(DEMO_STORES) + 1, count + 1)]
    return (DEMO_STORES + extra)[:count]


def model_names(count: int) -> list[str]:
    """The demo's model names, then numbered ones for larger worlds."""
    extra = [f"MODEL-{i:05d}" for i in range(len(DEMO_MODELS) + 1, count + 1)]
    return (DEMO_MODELS + extra)[:count]


@dataclass(frozen=True, slots=True)
class Sale:
    """One feed message: `store` sold a pair of `model` and has `inventory` left."""

    store: str
    model: str
    inventory: int

    def to_json(self) -> str:
        """The frame as the feed sends it."""
        return json.dumps(
            {"store": self.store, "model": self.model, "inventory": self.inventory},
            ensure_ascii=False,
            separators=(",", ":"),
        )


class RandomWorld:
    """The public demo generator: levels are noise, not stock that depletes."""

    def __init__(self, rng: random.Random, *, stores: int = 10, models: int = 20) -> None:
        self._rng = rng
        self._stores = store_names(stores)
        self._models = model_names(models)

    def sales(self) -> Iterator[tuple[float, Sale]]:
        """(seconds since the previous sale, sale) for ever: 1-3 sales, then a second's pause."""
        rng, delay = self._rng, 0.0
        while True:
            for _ in range(rng.randint(1, 3)):
                sale = Sale(rng.choice(self._stores), rng.choice(self._models), rng.randint(0, 100))
                yield delay, sale
                delay = 0.0
            delay = 1.0


_LEAD_MINUTES = 15  # a delivery's expected lead time; late ones take six times longer


@dataclass(slots=True)
class _Shelf:
    store: str
    model: str
    level: int
    target: int  # what a delivery tops the shelf up to
    reorder_at: int
    late: bool  # this store's deliveries of this model come late: it runs out
    ordered: bool = False
    empty_since: float | None = None


class RealisticWorld:
    """Stock that depletes one pair per sale and is restocked after a lead time.

    Demand per (store, model) is the store's size times the model's popularity (Zipf-like), so
    a few shelves sell fast and most sell slowly. `demand` scales every rate (a flash sale).
    A shelf sells 36 pairs an hour on average, so 10 stores x 20 models sell about 2 pairs a
    second in all, and a chain of 15,000 shelves about 150.
    """

    def __init__(
        self,
        rng: random.Random,
        *,
        stores: int = 10,
        models: int = 20,
        demand: float = 1.0,
        sales_per_second: float | None = None,
    ) -> None:
        self._rng = rng
        self.demand = demand
        self.clock = 0.0
        size = [rng.lognormvariate(0, 0.4) for _ in range(stores)]
        popularity = [1 / (rank + 1) ** 0.8 for rank in range(models)]
        rng.shuffle(popularity)
        weights = [s * p for s in size for p in popularity]
        if sales_per_second is None:
            sales_per_second = 0.01 * stores * models
        scale = sales_per_second / sum(weights)
        self.rates = [w * scale for w in weights]  # sales per second at demand 1
        self._cumulative = list(itertools.accumulate(self.rates))
        self._total_rate = self._cumulative[-1]
        self.shelves: list[_Shelf] = []
        for store in store_names(stores):
            for model in model_names(models):
                rate = self.rates[len(self.shelves)] * 3_600  # pairs an hour
                # A delivery tops the shelf up to a few hours of its demand; the store reorders
                # when what is left would last one and a half expected lead times, plus a few
                # pairs: deliveries on time arrive before the shelf runs low.
                target = max(15, min(70, round(rate * rng.uniform(3, 6))))
                reorder = min(target - 5, round(rate * _LEAD_MINUTES / 60 * 1.5) + 12)
                level = rng.randint(reorder + 1, target)
                start = rng.random()
                if start < 0.02:  # overstocked from the start
                    level = rng.randint(90, 150)
                elif start < 0.05:  # a delivery missed before the day began
                    level = rng.randint(1, 8)
                self.shelves.append(
                    _Shelf(store, model, level, target, reorder, rng.random() < 0.1)
                )
        # (due, shelf index, quantity, from the supplier rather than another store)
        self._deliveries: list[tuple[float, int, int, bool]] = []
        self._index = {(s.store, s.model): i for i, s in enumerate(self.shelves)}
        self.empty_seconds = 0.0  # time shelves spent empty, summed, up to the last event
        self.lost_sales = 0  # demand that met an empty shelf

    def sales(self) -> Iterator[tuple[float, Sale]]:
        """(seconds since the previous sale, sale) for ever. Demand at an empty shelf is lost:
        time passes, no message is sent."""
        rng, shelves, cumulative = self._rng, self.shelves, self._cumulative
        waited = 0.0
        while True:
            gap = rng.expovariate(self._total_rate * self.demand)
            self.clock += gap
            waited += gap
            self._deliver_due()
            index = min(
                bisect.bisect(cumulative, rng.random() * self._total_rate), len(shelves) - 1
            )
            shelf = shelves[index]
            if shelf.level == 0:
                self.lost_sales += 1
                continue
            shelf.level -= 1
            if shelf.level == 0:
                shelf.empty_since = self.clock
            if shelf.level <= shelf.reorder_at and not shelf.ordered:
                self._order(index, shelf)
            yield waited, Sale(shelf.store, shelf.model, shelf.level)
            waited = 0.0

    def _order(self, index: int, shelf: _Shelf) -> None:
        rng = self._rng
        lead = rng.uniform(0.5, 1.5) * _LEAD_MINUTES * 60 * (6 if shelf.late else 1)
        quantity = shelf.target - shelf.reorder_at
        if rng.random() < 0.05:  # a delivery far bigger than asked for
            quantity *= 3
        shelf.ordered = True
        heapq.heappush(self._deliveries, (self.clock + lead, index, quantity, True))

    def stockout_seconds(self) -> float:
        """Time shelves have spent empty so far, summed over the shelves."""
        ongoing = sum(self.clock - s.empty_since for s in self.shelves if s.empty_since is not None)
        return self.empty_seconds + ongoing

    def transfer(self, model: str, source: str, target: str, quantity: int, transit: float) -> int:
        """Send up to `quantity` pairs from one store to another, arriving after `transit`
        seconds; returns how many left (never more than the source has)."""
        shelf = self.shelves[self._index[(source, model)]]
        sent = min(quantity, shelf.level)
        if sent:
            shelf.level -= sent
            if shelf.level == 0:
                shelf.empty_since = self.clock
            if shelf.level <= shelf.reorder_at and not shelf.ordered:
                self._order(self._index[(source, model)], shelf)
            due = self.clock + transit
            heapq.heappush(self._deliveries, (due, self._index[(target, model)], sent, False))
        return sent

    def _deliver_due(self) -> None:
        deliveries = self._deliveries
        while deliveries and deliveries[0][0] <= self.clock:
            due, index, quantity, ordered = heapq.heappop(deliveries)
            shelf = self.shelves[index]
            if shelf.level == 0 and shelf.empty_since is not None:
                self.empty_seconds += due - shelf.empty_since
                shelf.empty_since = None
            shelf.level += quantity
            if ordered:
                shelf.ordered = False


def make_world(
    mode: str, *, seed: int | None, stores: int, models: int, flash_sale: float = 1.0
) -> RandomWorld | RealisticWorld:
    """The world for a `--mode`; the same seed gives the same sales."""
    rng = random.Random(seed)
    if mode == "random":
        return RandomWorld(rng, stores=stores, models=models)
    if mode == "realistic":
        return RealisticWorld(rng, stores=stores, models=models, demand=flash_sale)
    raise ValueError(f"unknown simulator mode {mode!r}")
