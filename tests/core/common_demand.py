"""The realistic chain on common random numbers, to compare two ways of running it fairly.

`bot.feed.worlds.RealisticWorld` draws demand, supplier lead times and oversized deliveries from
one random stream, so a single transfer (which can make a store reorder early) shifts every
draw after it: two runs that treat the chain differently then meet different customers. Here
the same chain (RealisticWorld's shelves, paces, reorder points and late suppliers, built from
the same seed) is run with demand from a stream of its own, which takes the same draws whatever
the shelves hold, and each shelf's supplier from a stream of its own. Two runs of one seed then
see exactly the same customers at the same moments.

The ordering rule is RealisticWorld's: a shelf at or below its reorder point orders (once until
the delivery comes) up to its target, delivered after a lead time (six times longer for a late
supplier), one delivery in twenty three times too big. With `supply` given, nothing is ordered
by the rule: exactly those supplier deliveries arrive instead, so two runs get equal supply.
"""

from __future__ import annotations

import bisect
import heapq
import itertools
import random
from collections.abc import Iterator
from dataclasses import dataclass

from bot.feed.worlds import RealisticWorld, Sale

LEAD_SECONDS = 15 * 60  # as RealisticWorld: a delivery's expected lead time
Delivery = tuple[float, int, int, bool]  # (due, shelf index, pairs, from the supplier)
Order = tuple[float, float, int, int]  # (ordered at, due, shelf index, pairs) from the supplier


@dataclass(slots=True)
class Shelf:
    store: str
    model: str
    level: int
    target: int
    reorder_at: int
    late: bool
    ordered: bool = False
    empty_since: float | None = None


class CommonDemandWorld:
    """See the module docstring. `sales()` yields each sale for ever; `clock` is its time."""

    def __init__(
        self,
        seed: int,
        *,
        stores: int,
        models: int,
        supply: list[Order] | None = None,
        marks: tuple[float, ...] = (),
    ) -> None:
        chain = RealisticWorld(random.Random(seed), stores=stores, models=models)
        self.shelves = [
            Shelf(s.store, s.model, s.level, s.target, s.reorder_at, s.late) for s in chain.shelves
        ]
        self._index = {(s.store, s.model): i for i, s in enumerate(self.shelves)}
        self._cumulative = list(itertools.accumulate(chain.rates))
        self._demand = random.Random(f"demand {seed}")
        self._suppliers = [random.Random(f"supplier {seed} {i}") for i in range(len(self.shelves))]
        self._replayed = supply is not None
        self.orders: list[Order] = list(supply or [])  # the supplier's, placed or replayed
        self._deliveries: list[Delivery] = [(due, i, q, True) for _, due, i, q in self.orders]
        heapq.heapify(self._deliveries)
        self.clock = 0.0
        self.demand = 0  # customers who came, served or not
        self.lost_sales = 0  # customers who met an empty shelf
        self._empty_seconds = 0.0
        self._marks = sorted(marks)
        # At each mark: (stock-out seconds, lost sales, customers) so far, taken at that moment.
        self.counts: dict[float, tuple[float, int, int]] = {}

    def sales(self) -> Iterator[Sale]:
        demand, cumulative, shelves = self._demand, self._cumulative, self.shelves
        total = cumulative[-1]
        while True:
            # Two draws per customer, whatever the shelves hold: the runs stay in step.
            arrives = self.clock + demand.expovariate(total)
            index = min(bisect.bisect(cumulative, demand.random() * total), len(shelves) - 1)
            while self._marks and self._marks[0] <= arrives:
                self._pass_to(self._marks[0])
                mark = self._marks.pop(0)
                self.counts[mark] = (self.stockout_seconds(), self.lost_sales, self.demand)
            self._pass_to(arrives)
            self.demand += 1
            shelf = shelves[index]
            if shelf.level == 0:
                self.lost_sales += 1
                continue
            self._take(index, 1)
            yield Sale(shelf.store, shelf.model, shelf.level)

    def transfer(self, model: str, source: str, target: str, quantity: int, transit: float) -> int:
        """Send up to `quantity` pairs between two stores, arriving after `transit` seconds;
        returns how many left (never more than the source has)."""
        index = self._index[(source, model)]
        sent = min(quantity, self.shelves[index].level)
        if sent:
            self._take(index, sent)
            due = self.clock + transit
            heapq.heappush(self._deliveries, (due, self._index[(target, model)], sent, False))
        return sent

    def stockout_seconds(self) -> float:
        """Time shelves have spent empty so far, summed over the shelves."""
        ongoing = sum(self.clock - s.empty_since for s in self.shelves if s.empty_since is not None)
        return self._empty_seconds + ongoing

    def pairs_ordered(self, start: float, end: float) -> int:
        """Pairs ordered from the supplier between `start` and `end`."""
        return sum(q for at, _, _, q in self.orders if start <= at < end)

    def _take(self, index: int, pairs: int) -> None:
        shelf = self.shelves[index]
        shelf.level -= pairs
        if shelf.level == 0:
            shelf.empty_since = self.clock
        if not self._replayed and shelf.level <= shelf.reorder_at and not shelf.ordered:
            supplier = self._suppliers[index]
            lead = supplier.uniform(0.5, 1.5) * LEAD_SECONDS * (6 if shelf.late else 1)
            quantity = shelf.target - shelf.reorder_at
            if supplier.random() < 0.05:  # a delivery far bigger than asked for
                quantity *= 3
            shelf.ordered = True
            self.orders.append((self.clock, self.clock + lead, index, quantity))
            heapq.heappush(self._deliveries, (self.clock + lead, index, quantity, True))

    def _pass_to(self, at: float) -> None:
        """Let time run to `at`, delivering what is due by then."""
        deliveries = self._deliveries
        while deliveries and deliveries[0][0] <= at:
            due, index, quantity, from_supplier = heapq.heappop(deliveries)
            shelf = self.shelves[index]
            if shelf.empty_since is not None:
                self._empty_seconds += due - shelf.empty_since
                shelf.empty_since = None
            shelf.level += quantity
            if from_supplier:
                shelf.ordered = False
        self.clock = at
