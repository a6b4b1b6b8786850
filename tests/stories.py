"""A story of a chain, written through the real writer and alert engine into either store, and
the reads to ask of it (the same answers are expected from every store holding it)."""

from __future__ import annotations

import asyncio
from datetime import time

from bot.core.alerting.actions import (
    AcceptTransfer,
    Acknowledge,
    DefaultRule,
    FollowStores,
    Mute,
    SetPlans,
    SetQuietHours,
    SetRule,
    Watch,
)
from bot.core.alerting.engine import EngineSettings
from bot.core.events import BadFrame, Reason, SaleEvent
from bot.core.rules import QuietHours, Scope, Thresholds
from bot.store.postgres.backend import PostgresBackend
from bot.store.processor import AlertingProcessor, Submitted
from bot.store.sqlite.backend import SqliteBackend
from bot.store.writer import Tick, Writer
from tests.helpers import move

C, OTHER = "C-STORES", "C-OTHER"
NOW = 1_700_000_000.0
# Names that sort differently byte-wise and by a language's rules.
STORES = ["Maine", "Auburn", "apple", "Zeta", "Émile"]
MODELS = ["ADERI", "MIRIRA", "b-model", "Éclair"]


class Alerting:
    """The real writer with the alert engine on an opened store, at a clock the story moves;
    `apply` submits an action and returns what the engine made of it, once committed."""

    def __init__(self, store: SqliteBackend | PostgresBackend, now: float) -> None:
        self.store = store
        self.clock = [now]

    async def start(self) -> Alerting:
        store = self.store
        self.engine = await store.load_engine(EngineSettings(), now=self.clock[0])
        processor = AlertingProcessor(self.engine, next_outbox_id=await store.next_outbox_id())
        self.writer = Writer(
            store,
            queue_size=1000,
            batch_size=50,
            dead_letter_limit=3,
            retention_days=3650,
            clock=lambda: self.clock[0],
            processor=processor,
        )
        await self.writer.start()
        self.engine.paces = self.writer.paces
        return self

    async def apply(self, action: object) -> object:
        future = asyncio.get_running_loop().create_future()
        await self.writer.submit(Submitted(action, self.clock[0], future))
        return await asyncio.wait_for(future, 10)


async def write_story(store: SqliteBackend | PostgresBackend) -> None:
    """One story of a chain, written through the real writer and alert engine."""
    await store.open()
    running = await Alerting(store, NOW).start()
    clock, writer, engine, apply = running.clock, running.writer, running.engine, running.apply

    await apply(DefaultRule(C, Thresholds(low=10, high=80, gate_seconds=0)))
    await apply(SetRule(C, Thresholds(low=3, high=None), "U2", store="Maine", model="ADERI"))
    await apply(Watch(OTHER, Scope(stores=frozenset({"Maine", "Zeta"})), "U1"))
    await apply(SetQuietHours(OTHER, QuietHours(time(22), time(7), "America/Toronto"), "U3"))
    await apply(SetRule(OTHER, Thresholds(low=30, high=95, gate_seconds=0), "U1"))
    await apply(
        SetRule(
            OTHER,
            Thresholds(low=12, high=None, low_days=2.5),
            "U1",
            model="Éclair",
            owner="S0BUYERS",
            second_owner="U0ANA",
            escalate=1800.0,
        )
    )
    await apply(FollowStores("U7", ("Zeta", "apple", "Émile")))
    for n in range(120):
        store_name, model = STORES[n % len(STORES)], MODELS[n % len(MODELS)]
        level = (n * 37) % 101 if n % 7 else 0
        clock[0] = NOW + 60 * n
        await writer.submit(SaleEvent(store_name, model, level, clock[0], f"ws://feed/{n % 2}"))
        if n % 40 == 39:
            await writer.submit(
                BadFrame(Reason.NOT_JSON, "not JSON", f"junk {n}", 6, clock[0], "ws://feed/0")
            )
    clock[0] += 60
    for store_name, model, level in [
        ("Maine", "MIRIRA", 0),
        ("Zeta", "ADERI", 2),
        ("apple", "b-model", 5),
    ]:
        await writer.submit(SaleEvent(store_name, model, level, clock[0], "ws://feed/0"))
    clock[0] += 600
    await writer.submit(Tick(clock[0]))
    await apply(DefaultRule(C, Thresholds()))  # answered once all the above is in
    opened = sorted(i.id for i in engine.open_incidents() if i.channel == C)
    await apply(Acknowledge(opened[0], "U4"))
    await apply(Mute(opened[1], "U5", 3600.0))
    await apply(SetPlans((("ADERI", (move(8), move(3, "Zeta", "apple"), move(2, "Émile")), 0),)))
    accepted = min(engine.transfers.suggestions)
    await apply(AcceptTransfer(accepted, "U6"))
    await writer.stop()


PAGE = {"after": None, "limit": 4}
CALLS = [
    ("levels", {}),
    ("levels", {"store": "Maine"}),
    ("levels", {"model": "ADERI"}),
    ("lowest_levels", {"limit": 50}),
    ("lowest_levels", {"store": "apple", "limit": 3}),
    ("lowest_levels", {"stores": ["Zeta", "Émile"], "models": ["ADERI", "b-model"]}),
    ("lowest_levels", {"stores": []}),
    ("count_levels", {"store": "Maine"}),
    ("count_levels", {"model": "Éclair"}),
    ("name_lists", {}),
    ("names_version", {}),
    ("events", {}),
    ("events", {"after_id": 50, "limit": 7}),
    ("first_event_id_since", {"at": NOW + 60 * 33.5}),
    ("first_event_id_since", {"at": NOW + 10**7}),
    ("event_count", {}),
    ("dead_letters", {}),
    ("bad_frame_counts", {}),
    ("sales_since", {"since": NOW + 60 * 100, "limit": 5}),
    ("sales_since", {"since": NOW + 60 * 30, "limit": 80, "chunk": 7}),
    (
        "sales_since",
        {"since": NOW, "stores": ["Maine"], "models": ["ADERI", "MIRIRA"], "limit": 50},
    ),
    ("open_incidents", {}),
    ("open_incidents", {"channel": OTHER, "limit": 5}),
    ("incident", {"incident_id": 1}),
    ("incident", {"incident_id": 9999}),
    ("channel_config", {"channel_id": C}),
    ("channel_config", {"channel_id": OTHER}),
    ("channel_config", {"channel_id": "C-NONE"}),
    ("channels", {}),
    ("channels", {"channel_id": OTHER}),
    ("channels", {"channel_id": "C-NONE"}),
    ("home_stores", {"user": "U7"}),
    ("home_stores", {"user": "U-NOBODY"}),
    ("config_changes", {"channel": C}),
    ("config_changes", {"channel": OTHER, "limit": 2}),
    ("mutes", {"channel": C}),
    ("suggestions", {}),
    ("suggestions", {"store": "Auburn"}),
    ("suggestions", {"stores": ["Zeta"], "models": ["ADERI"]}),
    ("open_transfers", {}),
    ("open_transfers", {"model": "ADERI", "stores": ["Maine"]}),
    ("stock_page", {"store": None, "model": None, "below": None, "above": None, **PAGE}),
    ("stock_page", {"store": "Maine", "model": None, "below": 50, "above": 1, **PAGE}),
    (
        "stock_page",
        {"store": None, "model": None, "below": None, "above": None, "after": "2.3", "limit": 5},
    ),
    ("names_page", {"table": "stores", **PAGE}),
    ("names_page", {"table": "models", "after": "2", "limit": 1}),
    ("alerts_page", {"channel": None, "store": None, "model": None, **PAGE}),
    ("alerts_page", {"channel": C, "store": "Maine", "model": None, "after": "1", "limit": 3}),
    ("suggestions_page", {"store": None, "model": None, **PAGE}),
    ("suggestions_page", {"store": "apple", "model": "ADERI", "after": None, "limit": 1}),
    ("transfers_page", {"status": "accepted", "store": None, "model": None, **PAGE}),
    ("events_page", {"store": None, "model": None, "since": None, "before": None, "limit": 10}),
    (
        "events_page",
        {"store": "Zeta", "model": None, "since": NOW + 60 * 20, "before": "100", "limit": 3},
    ),
]


async def answer(reads: object, name: str, kwargs: dict) -> object:
    """What `reads.<name>(**kwargs)` answers, with sales that come in chunks read to the end."""
    found = await getattr(reads, name)(**kwargs)
    if name == "sales_since":
        chunks, more = found
        return [chunk async for chunk in chunks], more
    return found
