"""The transfer planner at work: plans the models that sold, in the background, from what is
stored, and hands each plan to the writer.

Every `every` seconds it plans again each model that sold since its last plan, or whose
transfers changed (accepted, sent, received, ...). A model's levels and paces come from the
read-only connection; its low thresholds from the channels watching it; what is reserved and which
pairs are blocked from the transfers in memory, read with the version they had. The writer makes
the plans current in order with the feed, and refuses one whose transfers changed meanwhile:
that model is planned again next round. Planning yields to the event loop between models, so
the feed and Slack are never kept waiting for more than one model's plan.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

import aiosqlite
import numpy as np

from bot.core.engine import AlertEngine
from bot.core.events import SaleEvent
from bot.core.transfers import ModelStock, PlanSettings, Suggestion, plan_model
from bot.core.velocity import Pace, rate

log = logging.getLogger(__name__)

PLANS_PER_COMMIT = 200  # models whose plans go to the writer together

Mutate = Callable[[Callable[[AlertEngine, float], object]], Awaitable[object]]
Plan = tuple[str, list[Suggestion], int]  # model, its suggestions, the transfers' version


@dataclass(slots=True)
class PlannerStats:
    rounds: int = 0
    models_planned: int = 0
    suggestions: int = 0  # in the last round
    last_round_seconds: float = 0.0
    stale: int = 0  # plans refused because the model's transfers changed meanwhile


class Planner:
    """Runs the planner; see the module docstring."""

    def __init__(
        self,
        db: aiosqlite.Connection,
        engine: AlertEngine,
        mutate: Mutate,
        *,
        settings: PlanSettings | None = None,
        locations: dict[str, tuple[float, float]] | None = None,
        every: float = 30.0,
        default_low: int = 10,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._db = db
        self._engine = engine
        self._mutate = mutate
        self._settings = settings or PlanSettings()
        self._locations = locations
        self._every = every
        self._default_low = default_low
        self._clock = clock
        self._dirty: set[str] = set()
        self._everything = True  # the first round plans every model
        self.stats = PlannerStats()
        self._rounds = asyncio.Condition()

    def sold(self, events: Sequence[SaleEvent], _at: float) -> None:
        """The writer's commit hook: these models sold, so their plans may change."""
        self._dirty.update(e.model for e in events)

    async def run(self) -> None:
        """Plan a round every `every` seconds, for ever."""
        while True:
            try:
                await self.plan_round()
            except Exception:
                # Suggestions wait; alerts and commands must not: the bot runs on.
                log.exception("transfer planning failed; trying again next round")
            await asyncio.sleep(self._every)

    async def plan_round(self) -> int:
        """Plan the models due; returns how many were planned."""
        started = time.perf_counter()
        if self._everything:
            async with self._db.execute("SELECT name FROM models") as cursor:
                self._dirty.update(name for (name,) in await cursor.fetchall())
            self._everything = False
        transfers = self._engine.transfers
        due = sorted(self._dirty | transfers.replan)
        self._dirty.clear()
        transfers.replan.clear()
        plans: list[Plan] = []
        suggestions = 0
        for model in due:
            plan = await self.plan_one(model)
            plans.append(plan)
            suggestions += len(plan[1])
            if len(plans) >= PLANS_PER_COMMIT:
                await self._hand_over(plans)
                plans = []
            await asyncio.sleep(0)  # let the feed and Slack in between models
        if plans:
            await self._hand_over(plans)
        stats = self.stats
        stats.rounds += 1
        stats.models_planned += len(due)
        stats.suggestions = suggestions
        stats.last_round_seconds = time.perf_counter() - started
        async with self._rounds:
            self._rounds.notify_all()
        return len(due)

    async def wait_for(self, predicate: Callable[[PlannerStats], bool]) -> None:
        """Wait until `predicate(stats)` holds after some round (wrap in a timeout)."""
        async with self._rounds:
            await self._rounds.wait_for(lambda: predicate(self.stats))

    async def plan_one(self, model: str) -> Plan:
        """One model's plan from its stored levels and paces, as of now."""
        now = self._clock()
        async with self._db.execute(_MODEL_ROWS, (model,)) as cursor:
            rows = await cursor.fetchall()
        async with self._db.execute(_MODEL_PACE, (model,)) as cursor:
            pooled_row = await cursor.fetchone()
        transfers, book = self._engine.transfers, self._engine.book
        version = transfers.version(model)
        if not rows:
            return model, [], version
        pooled = Pace(*pooled_row) if pooled_row else None
        stores = [row[0] for row in rows]
        levels = np.fromiter((row[1] for row in rows), dtype=np.int64, count=len(rows))
        rates = np.fromiter(
            (_risk(Pace(*row[3:], row[2], int(row[1] > 0)), pooled, now) for row in rows),
            dtype=np.float64,
            count=len(rows),
        )
        # The highest low threshold a channel watching the store has (quiet_above; -1 if
        # none): short there is short for someone; unwatched stores take the default.
        lows = np.fromiter(
            (book.watching(store, model).quiet_above for store in stores),
            dtype=np.int64,
            count=len(rows),
        )
        lows[lows < 0] = self._default_low
        incoming, outgoing = transfers.reserved(model)
        stock = ModelStock(
            model,
            stores,
            levels,
            rates,
            lows,
            np.array([incoming.get(s, 0) for s in stores], dtype=np.int64),
            np.array([outgoing.get(s, 0) for s in stores], dtype=np.int64),
        )
        plan = plan_model(
            stock,
            self._settings,
            blocked=transfers.blocked(model, now),
            locations=self._locations,
        )
        return model, plan, version

    async def _hand_over(self, plans: list[Plan]) -> None:
        stale = await self._mutate(lambda engine, at: engine.set_plans(plans, at))
        self.stats.stale += len(stale)
        # Refused plans are already marked to plan again (the transfers' `replan`).


_MODEL_ROWS = """
    SELECT s.name, l.inventory, l.last_sale_at, l.fast_sold, l.fast_hours, l.slow_sold,
           l.slow_hours
    FROM levels l JOIN stores s ON s.id = l.store_id
    WHERE l.model_id = (SELECT id FROM models WHERE name = ?)
    ORDER BY s.name
"""
_MODEL_PACE = """
    SELECT fast_sold, fast_hours, slow_sold, slow_hours, at, stocked FROM model_paces
    WHERE model_id = (SELECT id FROM models WHERE name = ?)
"""


def _risk(shelf: Pace, pooled: Pace | None, now: float) -> float:
    found = rate(shelf, pooled, now).risk
    return math.nan if found is None else found
