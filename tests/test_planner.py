"""The planner task: a round that fails leaves its models to plan again, none forgotten."""

import sqlite3

import pytest

from bot.core.alerting.engine import AlertEngine, EngineSettings
from bot.core.rules import RuleBook
from bot.core.velocity import PaceBook
from bot.planner import Planner

H = 3600.0


def busy_chain() -> PaceBook:
    """Two models, each selling out at one store while another holds plenty."""
    paces = PaceBook()
    for model in ("ADERI", "MIRIRA"):
        for i in range(40):
            paces.sale("Maine", model, max(1, 8 - i // 5), i * 180.0)
            paces.sale("Auburn", model, 90, i * 180.0)
    return paces


async def test_models_of_a_round_that_failed_are_planned_in_the_next():
    engine = AlertEngine(RuleBook(), EngineSettings())
    refusals = [sqlite3.OperationalError("database is locked")]

    async def apply(action):
        if refusals:
            raise refusals.pop()
        return engine.apply(action, 2 * H)

    planner = Planner(busy_chain(), engine, apply, clock=lambda: 2 * H)
    with pytest.raises(sqlite3.OperationalError):
        await planner.plan_round()
    assert not engine.transfers.suggestions

    assert await planner.plan_round() == 2
    planned = {s.suggestion.model for s in engine.transfers.suggestions.values()}
    assert planned == {"ADERI", "MIRIRA"}
    assert await planner.plan_round() == 0  # nothing sold since: nothing to plan
