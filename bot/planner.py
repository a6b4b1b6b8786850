"""The transfer planner at work: plans the models that sold, in the background, and hands each
plan to the writer.

Every `every` seconds it plans again each model that sold since its last plan, or whose
transfers changed (accepted, sent, received, ...). A model's levels and paces come from the
writer's PaceBook (in memory: reading 3,000 shelves from SQLite took longer than planning
them), its low thresholds from the channels watching it, what is reserved and which pairs are
blocked from the transfers, read with their version. The writer makes the plans current in
order with the feed, and refuses one whose transfers changed meanwhile: that model is planned
again next round. Planning yields to the event loop between models, so the feed and Slack never
wait for more than one model's plan.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from operator import attrgetter

import numpy as np

from bot.core.alerting.actions import Apply, SetPlans
from bot.core.alerting.engine import AlertEngine
from bot.core.events import SaleEvent
from bot.core.transfers.plan import ModelStock, PlanSettings, Suggestion, plan_model
from bot.core.velocity import PaceBook, risk_rates

log = logging.getLogger(__name__)
_MODEL = attrgetter("model")

PLANS_PER_COMMIT = 200  # models whose plans go to the writer together

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
        paces: PaceBook,
        engine: AlertEngine,
        apply: Apply,
        *,
        settings: PlanSettings | None = None,
        locations: dict[str, tuple[float, float]] | None = None,
        every: float = 30.0,
        default_low: int = 10,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._paces = paces
        self._engine = engine
        self._apply = apply
        self._settings = settings or PlanSettings()
        self._locations = locations
        self._every = every
        self._default_low = default_low
        self._clock = clock
        self._dirty: set[str] = set(paces.shelves)  # the first round plans every model
        self._planned: set[str] = set()  # models planned since the start
        self._lows: dict[str, tuple[int, int, np.ndarray]] = {}
        self.stats = PlannerStats()
        self._rounds = asyncio.Condition()

    def sold(self, events: Sequence[SaleEvent], _at: float) -> None:
        """The writer's commit hook: these models sold, so their plans may change."""
        self._dirty.update(map(_MODEL, events))

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
        transfers = self._engine.transfers
        due = sorted(self._dirty | transfers.replan)
        self._dirty.clear()
        transfers.replan.clear()
        plans: list[Plan] = []
        suggestions = handed = 0
        try:
            for model in due:
                plan = self.plan_one(model)
                plans.append(plan)
                suggestions += len(plan[1])
                if len(plans) >= PLANS_PER_COMMIT:
                    await self._hand_over(plans)
                    handed, plans = handed + len(plans), []
                await asyncio.sleep(0)  # let the feed and Slack in between models
            if plans:
                await self._hand_over(plans)
        except BaseException:
            self._dirty.update(due[handed:])  # not planned after all: next round, again
            raise
        self._planned.update(due)
        stats = self.stats
        stats.rounds += 1
        stats.models_planned += len(due)
        stats.suggestions = suggestions
        stats.last_round_seconds = time.perf_counter() - started
        async with self._rounds:
            self._rounds.notify_all()
        return len(due)

    def unplanned(self, model: str | None) -> str | None:
        """Why `model`'s transfers (all models' for None) are not planned yet, for a person;
        None if they are: a plan with no suggestion then means no transfer would help."""
        if self.stats.rounds == 0:
            return (
                "The first transfer plan since the bot started is still being made: "
                "ask again in a minute."
            )
        if model is not None and model not in self._planned:
            return (
                f"{model} first sold since the last plan: it is planned within "
                f"{self._every:g} s. Ask again then."
            )
        return None

    async def wait_for(self, predicate: Callable[[PlannerStats], bool]) -> None:
        """Wait until `predicate(stats)` holds after some round (wrap in a timeout)."""
        async with self._rounds:
            await self._rounds.wait_for(lambda: predicate(self.stats))

    def plan_one(self, model: str) -> Plan:
        """One model's plan from its shelves as they stand."""
        now = self._clock()
        transfers = self._engine.transfers
        version = transfers.version(model)
        shelves = self._paces.shelves.get(model)
        if not shelves:
            return model, [], version
        stores = list(shelves)
        numbers = np.array(
            [
                (p.level, p.fast_sold, p.fast_hours, p.slow_sold, p.slow_hours, p.at, p.stocked)
                for p in shelves.values()
            ],
            dtype=np.float64,
        )
        incoming, outgoing = transfers.reserved(model)
        stock = ModelStock(
            model,
            stores,
            numbers[:, 0].astype(np.int64),
            risk_rates(numbers[:, 1:], self._paces.models.get(model), now),
            self._lows_of(model, stores),
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

    def _lows_of(self, model: str, stores: list[str]) -> np.ndarray:
        """Each store's low threshold for `model`: the highest a channel watching it has
        (KeyWatch.quiet_above, -1 if none), else the default. Kept until the rules change
        or the model reaches a new store (stores only ever join the end of the list)."""
        book = self._engine.book
        cached = self._lows.get(model)
        if cached is not None and cached[0] == book.version and cached[1] == len(stores):
            return cached[2]
        lows = np.fromiter(
            (book.watching(store, model).quiet_above for store in stores),
            dtype=np.int64,
            count=len(stores),
        )
        lows[lows < 0] = self._default_low
        self._lows[model] = (book.version, len(stores), lows)
        return lows

    async def _hand_over(self, plans: list[Plan]) -> None:
        stale = await self._apply(SetPlans(tuple((m, tuple(s), v) for m, s, v in plans)))
        assert isinstance(stale, list)
        self.stats.stale += len(stale)
        # Refused plans are already marked to plan again (the transfers' `replan`).
