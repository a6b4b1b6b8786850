"""Alert state through the writer: committed with the events, restored after a restart; on
SQLite and on PostgreSQL (the `database` fixture runs each test on both)."""

import asyncio
import sqlite3
from datetime import time

import pytest

from bot.core.alerting.actions import (
    AcceptTransfer,
    Acknowledge,
    DefaultRule,
    SetPlans,
    SetQuietHours,
    SetRule,
    Watch,
)
from bot.core.alerting.engine import EngineSettings
from bot.core.errors import CommandError, RuleError
from bot.core.events import SaleEvent
from bot.core.quiet import QuietHours
from bot.core.rules import Scope
from bot.core.thresholds import Thresholds
from bot.store.processor import AlertingProcessor, Submitted
from bot.store.sqlite.schema import MIGRATIONS
from bot.store.writer import Writer
from tests.helpers import move

C = "C-STORES"


class Running:
    """A writer with the alerting processor on a database file, as the bot runs it."""

    def __init__(self, database):
        self.database = database

    async def __aenter__(self):
        self.store = self.database.new()
        await self.store.open()
        self.engine = await self.store.load_engine(EngineSettings(), now=1000.0)
        self.processor = AlertingProcessor(
            self.engine, next_outbox_id=await self.store.next_outbox_id()
        )
        self.outbox = []
        self.processor.outbox_listeners.append(self.outbox.extend)
        self.writer = Writer(
            self.store,
            queue_size=100,
            batch_size=100,
            dead_letter_limit=10,
            retention_days=30,
            clock=lambda: 1000.0,
            processor=self.processor,
        )
        await self.writer.start()
        self.engine.paces = self.writer.paces
        return self

    async def __aexit__(self, *exc):
        await self.writer.stop()
        await self.store.close()

    async def apply(self, action, at=1000.0):
        future = asyncio.get_running_loop().create_future()
        await self.writer.submit(Submitted(action, at, future))
        return await asyncio.wait_for(future, 5)

    async def sale(self, store, model, level, at=1000.0):
        await self.writer.submit(SaleEvent(store, model, level, at, "ws://feed/"))


def set_rule(user: str, store: str = "", model: str = "", **thresholds):
    return SetRule(C, Thresholds(**thresholds), user, store=store, model=model)


async def test_rules_scope_and_quiet_hours_survive_a_restart_with_their_history(database):
    scope = Scope(stores=frozenset({"Eaton", "Maine"}))
    async with Running(database) as bot:
        await bot.apply(set_rule("U1", low=5, high=90))
        await bot.apply(set_rule("U2", store="Eaton", model="ADERI", low=2, high=None))
        await bot.apply(Watch(C, scope, "U1"))
        quiet = QuietHours(time(22), time(7), "America/Toronto")
        await bot.apply(SetQuietHours(C, quiet, "U3"))

    async with Running(database) as again:
        channel = again.engine.book.channels[C]
        assert channel.scope == scope
        assert channel.quiet == quiet
        assert channel.rule_for("Eaton", "ADERI").thresholds == Thresholds(low=2, high=None)
        assert channel.rule_for("Maine", "ADERI").thresholds == Thresholds(low=5, high=90)
        assert channel.rule_for("Maine", "ADERI").updated_by == "U1"
    history = await database.rows("SELECT {user}, action, summary FROM config_changes ORDER BY id")
    assert history == [
        ("U1", "set_rule", "low <= 5, high >= 90 (channel default)"),
        ("U2", "set_rule", "low <= 2, no high alert for ADERI at Eaton"),
        (
            "U1",
            "watch",
            "watching stores: Eaton, Maine; models: every model (was: every store and model)",
        ),
        ("U3", "quiet_hours", "quiet hours 22:00-07:00 America/Toronto"),
    ]


async def test_a_refused_command_raises_for_its_caller_and_changes_nothing(database):
    async with Running(database) as bot:
        with pytest.raises(RuleError, match=r"high \(10\) must be above low \(50\)"):
            await bot.apply(set_rule("U1", low=50, high=10))
        with pytest.raises(CommandError, match="no open alert #7"):
            await bot.apply(Acknowledge(7, "U1"))
    assert await database.rows("SELECT count(*) FROM rules") == [(0,)]
    assert await database.rows("SELECT count(*) FROM config_changes") == [(0,)]


async def test_an_open_incident_is_picked_up_again_after_a_restart(database):
    async with Running(database) as bot:
        await bot.apply(DefaultRule(C, Thresholds()))
        await bot.sale("Eaton", "ADERI", 0)
        incident = await bot.apply(Acknowledge(1, "U1"))
        assert incident.acked_by == "U1"
        assert [row.op for row in bot.outbox] == ["post", "update", "reply"]

    async with Running(database) as again:
        (open_incident,) = again.engine.open_incidents()
        assert (open_incident.id, open_incident.acked_by) == (1, "U1")
        await again.sale("Eaton", "ADERI", 30)
        await again.writer.wait_for(lambda s: s.events == 1)
        assert again.engine.open_incidents() == []
        assert [row.op for row in again.outbox] == ["update", "reply"]
        assert again.outbox[0].id == bot.outbox[-1].id + 1  # outbox ids go on, never reused
    assert await database.rows("SELECT resolved_at IS NOT NULL FROM incidents WHERE id = 1") == [
        (1,)
    ]
    assert await database.rows(
        "SELECT count(*) FROM alert_machines WHERE state LIKE '%firing%'"
    ) == [(0,)]


async def test_paces_suggestions_and_transfers_survive_a_restart(database):
    async with Running(database) as bot:
        for i in range(20):
            await bot.sale("Maine", "ADERI", 60 - i, at=1000.0 + 360 * i)
            await bot.sale("Auburn", "ADERI", 20 - i // 2, at=1000.0 + 360 * i)
        await bot.writer.wait_for(lambda s: s.events == 40)
        pace = bot.writer.paces.rate("Auburn", "ADERI", 9000.0)
        plan = [move(8, source_level=41, target_level=11), move(3, "Eaton", "Auburn")]
        await bot.apply(SetPlans((("ADERI", tuple(plan), 0),)))
        number = {s.suggestion.source: s.id for s in bot.engine.transfers.suggestions.values()}
        accepted = await bot.apply(AcceptTransfer(number["Maine"], "U1"))

    async with Running(database) as again:
        assert again.writer.paces.rate("Auburn", "ADERI", 9000.0) == pace
        transfers = again.engine.transfers
        assert transfers.best_for("Auburn", "ADERI").id == number["Eaton"]
        assert transfers.reserved("ADERI") == ({"Auburn": 8}, {"Maine": 8})
        await again.sale("Auburn", "ADERI", 17, at=9000.0)  # lowest seen was 11: +6 of 8
        await again.writer.wait_for(lambda s: s.events == 1)
    assert await database.rows("SELECT status FROM transfers WHERE id = ?", accepted.id) == [
        ("received",)
    ]
    assert await database.rows("SELECT count(*) FROM suggestions") == [(1,)]


async def test_a_suggestion_id_is_never_given_twice_across_a_restart(database):
    # A Slack message still shows "Accept S2" after S2 was replaced and the bot restarted:
    # the button must find nothing rather than accept whatever move got the number next.
    async with Running(database) as bot:
        await bot.apply(SetPlans((("ADERI", (move(8), move(3, "Eaton")), 0),)))
        given = set(bot.engine.transfers.suggestions)
        await bot.apply(SetPlans((("ADERI", (), 0),)))
        assert not bot.engine.transfers.suggestions

    async with Running(database) as again:
        await again.apply(SetPlans((("ADERI", (move(5),), 0),)))
        (new,) = again.engine.transfers.suggestions
        assert new > max(given)
        with pytest.raises(CommandError, match=f"S{max(given)}"):
            await again.apply(AcceptTransfer(max(given), "U1"))


async def test_a_database_from_before_paces_counts_its_stocked_shelves(database):
    if database.kind == "sqlite":
        with sqlite3.connect(database.where) as old:  # as version 3 left it: no paces yet
            for migration in MIGRATIONS[:3]:
                old.executescript(migration)
            old.execute("PRAGMA user_version = 3")
    # Levels without paces (in PostgreSQL, as `inventory-bot migrate` copies such a database).
    await database.execute("INSERT INTO stores VALUES (1, 'Maine', 0), (2, 'Auburn', 0)")
    await database.execute("INSERT INTO models VALUES (1, 'ADERI', 0)")
    await database.execute(
        "INSERT INTO levels (store_id, model_id, inventory, last_sale_at, sale_count, "
        "first_seen_at) VALUES (1, 1, 3, 900, 7, 0), (2, 1, 5, 900, 4, 0)"
    )

    async with Running(database) as bot:
        assert bot.writer.paces.models["ADERI"].stocked == 2
        await bot.sale("Maine", "ADERI", 0, at=2000.0)  # sells out
        await bot.writer.wait_for(lambda s: s.events == 1)
        assert bot.writer.paces.models["ADERI"].stocked == 1
    assert await database.rows("SELECT stocked FROM model_paces") == [(1,)]


async def test_a_miscounted_model_pace_is_counted_again_from_its_shelves(database):
    async with Running(database) as bot:
        await bot.sale("Maine", "ADERI", 3, at=1000.0)
        await bot.sale("Auburn", "ADERI", 5, at=1000.0)
        await bot.writer.wait_for(lambda s: s.events == 2)
    # as a release before this check could leave it
    await database.execute("UPDATE model_paces SET stocked = -1")

    async with Running(database) as again:
        assert again.writer.paces.models["ADERI"].stocked == 2
