"""The commands with no Slack: a database behind the real writer and alert engine, and the
replies read as the person would. Each test runs twice: on an in-memory SQLite database, and on
a fresh PostgreSQL database of the test server (skipped where PostgreSQL cannot run)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Sequence
from pathlib import Path

import pytest

from bot.commands.dispatch import Commands
from bot.commands.replies import Reply
from bot.commands.request import Context, Request
from bot.core.alerting.actions import Action, DefaultRule
from bot.core.alerting.engine import EngineSettings
from bot.core.events import SaleEvent
from bot.core.thresholds import Thresholds
from bot.store.processor import AlertingProcessor, Submitted
from bot.store.sqlite.backend import SqliteBackend
from bot.store.sqlite.reads import SqliteReads
from bot.store.writer import Tick, Writer
from tests.backends import Database

C = "C-STORES"
START = 1_000_000.0


class Shop:
    """A database of stock, its alert engine and the commands over it, at a clock tests move."""

    def __init__(self, admins: frozenset[str], database: Database | None = None) -> None:
        self.admins = admins
        self.database = database  # None: in memory, in SQLite
        self.now = START

    async def __aenter__(self) -> Shop:
        if self.database is None:
            self.store = SqliteBackend(Path(":memory:"))
            await self.store.open()
            self.db = self.store.db
            self.reads = SqliteReads(self.db)  # another connection would see another database
        else:
            self.store = self.database.new()
            await self.store.open()
            self.reads = await self.store.reads()
        self.engine = await self.store.load_engine(EngineSettings(), now=self.now)
        processor = AlertingProcessor(self.engine, next_outbox_id=await self.store.next_outbox_id())
        self.writer = Writer(
            self.store,
            queue_size=1000,
            batch_size=1000,
            dead_letter_limit=10,
            retention_days=30,
            clock=lambda: self.now,
            processor=processor,
        )
        await self.writer.start()
        self.engine.paces = self.writer.paces
        self.commands = Commands(
            Context(
                self.reads,
                self.apply,
                admins=self.admins,
                clock=lambda: self.now,
                unavailable=self.store.unavailable,
            )
        )
        await self.apply(DefaultRule(C, Thresholds(low=10, high=80, gate_seconds=0)))
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.writer.stop()
        await self.store.close()

    async def apply(self, action: Action) -> object:
        future = asyncio.get_running_loop().create_future()
        await self.writer.submit(Submitted(action, self.now, future))
        return await asyncio.wait_for(future, 5)

    async def sell(self, *sales: tuple[str, str, int]) -> None:
        """Sales reported now, committed with their alerts, and time ticked past the grouping
        window so the alerts are out."""
        events = self.writer.stats.events
        for store, model, level in sales:
            await self.writer.submit(SaleEvent(store, model, level, self.now, "ws://feed/"))
        await asyncio.wait_for(self.writer.wait_for(lambda s: s.events >= events + len(sales)), 5)
        self.now += 5
        await self.writer.submit(Tick(self.now))
        # Batches commit in order: once an action queued after the tick is answered, what the
        # tick decided is committed too. The channel has rules, so this one changes nothing.
        await self.apply(DefaultRule(C, Thresholds()))

    async def say(
        self, command: str, text: str = "", *, user: str = "U1", channel: str = C
    ) -> Reply:
        return await self.commands.handle(Request(command, text, channel, user))

    async def execute_many(self, sql: str, rows: Iterable[Sequence]) -> None:
        """Rows written behind the writer's back (`?` for each parameter)."""
        if self.database is not None:
            await self.database.execute_many(sql, rows)
        else:
            await self.db.executemany(sql, rows)

    async def event_days(self, first_at: float, last_at: float) -> None:
        """Room in the event log for sales a test writes itself (see Database.event_days)."""
        if self.database is not None:
            await self.database.event_days(first_at, last_at)

    async def rows(self, sql: str) -> list[tuple]:
        """What `sql` selects, behind the writer's back ({user}: config_changes' user column)."""
        if self.database is not None:
            return await self.database.rows(sql)
        async with self.db.execute(sql.replace("{user}", "user")) as cursor:
            return [tuple(row) for row in await cursor.fetchall()]


def _in(database: Database) -> Database | None:
    return None if database.kind == "sqlite" else database


@pytest.fixture
async def shop(database):
    async with Shop(frozenset(), _in(database)) as opened:
        yield opened


@pytest.fixture
async def guarded_shop(database):
    """Only UBOSS may change rules."""
    async with Shop(frozenset({"UBOSS"}), _in(database)) as opened:
        yield opened
