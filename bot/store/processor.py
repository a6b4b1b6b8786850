"""Alerting inside the writer's transaction.

The writer hands every batch to AlertingProcessor: it runs the engine over the batch (sales,
bad frames, ticks, feed transitions, people's actions), and writes incidents, machine state,
notifier state, audit records and outbox rows (what to say, as data: the sender renders it) in
the batch's own transaction. So a state change and the message that tells it commit together:
after a crash, what was committed is either in the outbox or was sent.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from itertools import groupby

import aiosqlite
import orjson

from bot.core.alerting.actions import Action
from bot.core.alerting.effects import Effects, Op
from bot.core.alerting.engine import AlertEngine, EngineSettings
from bot.core.alerting.incidents import Shown
from bot.core.alerting.machine import Side
from bot.core.errors import Refusal
from bot.core.events import BadFrame, SaleEvent
from bot.core.feed_health import Transition
from bot.core.rules import Channel, Rule, RuleBook, Scope, Thresholds
from bot.core.transfers.book import TransferBook
from bot.core.velocity import PaceBook
from bot.store.codec import (
    INCIDENT_COLUMNS,
    SUGGESTION_COLUMNS,
    TRANSFER_COLUMNS,
    channel_row,
    encode_view,
    incident_from_row,
    incident_row,
    machine_from_json,
    machine_json,
    quiet_hours,
    rule_row,
    scope_names,
    suggestion_from_row,
    suggestion_row,
    transfer_from_row,
    transfer_row,
)
from bot.store.writer import Tick

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Submitted:
    """An action submitted to the writer: applied in order with the feed and answered
    once it has committed: `future` gets what `engine.apply(action, at)` returned, or the
    Refusal it raised."""

    action: Action
    at: float
    future: asyncio.Future


@dataclass(frozen=True, slots=True)
class OutboxRow:
    """One Slack call to make, as committed."""

    id: int
    created_at: float
    channel: str
    op: str
    incident_id: int
    payload: str  # JSON: {"view"} for a post or an edit, {"note", "broadcast"} for a reply


@dataclass(slots=True)
class AlertRows:
    incidents: list[tuple] = field(default_factory=list)
    machines: list[tuple] = field(default_factory=list)
    machines_gone: list[tuple] = field(default_factory=list)
    mutes: list[tuple] = field(default_factory=list)
    mutes_gone: list[tuple] = field(default_factory=list)
    notifiers: list[tuple] = field(default_factory=list)
    outbox: list[OutboxRow] = field(default_factory=list)
    changes: list[tuple] = field(default_factory=list)
    channels: list[tuple] = field(default_factory=list)
    rules: list[tuple] = field(default_factory=list)
    suggestions: list[tuple] = field(default_factory=list)
    suggestions_gone: list[tuple[int]] = field(default_factory=list)
    transfers: list[tuple] = field(default_factory=list)
    answers: list[tuple[Submitted, object, Exception | None]] = field(default_factory=list)


class AlertingProcessor:
    """Runs the alert engine on each of the writer's batches; see the module docstring."""

    def __init__(self, engine: AlertEngine, *, next_outbox_id: int) -> None:
        self.engine = engine
        self._next_outbox_id = next_outbox_id
        self._last_notifier_state: dict[str, str] = {}
        self.outbox_listeners: list[Callable[[list[OutboxRow]], None]] = []

    def prepare(self, items: Sequence[object], now: float) -> AlertRows | None:
        """Run the engine over the batch; return the rows it changed (rendered and ready), or
        None if it changed nothing."""
        engine = self.engine
        answers: list[tuple[Submitted, object, Exception | None]] = []
        for kind, run in groupby(items, type):  # in order; runs of sales go in at once
            if kind is SaleEvent:
                engine.sales(run)
                continue
            for item in run:
                if kind is Tick:
                    engine.tick(item.at)
                elif kind is BadFrame:
                    engine.bad_frame(item.feed, item.reason.value, item.at)
                elif kind is Transition:
                    engine.feed_changed(item)
                elif kind is Submitted:
                    try:
                        answers.append((item, engine.apply(item.action, item.at), None))
                    except Refusal as error:
                        answers.append((item, None, error))
        rows = self._rows(engine.take_effects(), now)
        rows.answers = answers
        engine.forget_closed()
        return rows if rows != AlertRows() else None

    async def persist(self, db: aiosqlite.Connection, rows: AlertRows) -> None:
        """Write the rows inside the writer's open transaction."""
        await _replace(db, "incidents", INCIDENT_COLUMNS, rows.incidents)
        if rows.machines:
            await db.executemany(
                "INSERT OR REPLACE INTO alert_machines VALUES (?, ?, ?, ?, ?)", rows.machines
            )
        if rows.machines_gone:
            await db.executemany(
                "DELETE FROM alert_machines WHERE channel = ? AND store = ? AND model = ? "
                "AND side = ?",
                rows.machines_gone,
            )
        if rows.mutes:
            await db.executemany(
                "INSERT OR REPLACE INTO mutes (channel, kind, store, model, muted_by, muted_at, "
                "muted_until) VALUES (?, ?, ?, ?, ?, ?, ?)",
                rows.mutes,
            )
        if rows.mutes_gone:
            await db.executemany(
                "DELETE FROM mutes WHERE channel = ? AND kind = ? AND store = ? AND model = ?",
                rows.mutes_gone,
            )
        if rows.notifiers:
            await db.executemany("INSERT OR REPLACE INTO notifiers VALUES (?, ?)", rows.notifiers)
        if rows.outbox:
            await db.executemany(
                "INSERT INTO outbox (id, created_at, channel, op, incident_id, payload) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                [
                    (r.id, r.created_at, r.channel, r.op, r.incident_id, r.payload)
                    for r in rows.outbox
                ],
            )
        if rows.changes:
            await db.executemany(
                "INSERT INTO config_changes (at, channel, user, action, summary) "
                "VALUES (?, ?, ?, ?, ?)",
                rows.changes,
            )
        if rows.channels:
            await db.executemany(
                "INSERT OR REPLACE INTO channels VALUES (?, ?, ?, ?, ?)", rows.channels
            )
            await db.executemany(
                "DELETE FROM rules WHERE channel = ?", [(c[0],) for c in rows.channels]
            )
            await db.executemany("INSERT INTO rules VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", rows.rules)
        await _replace(db, "suggestions", SUGGESTION_COLUMNS, rows.suggestions)
        if rows.suggestions_gone:
            await db.executemany("DELETE FROM suggestions WHERE id = ?", rows.suggestions_gone)
        await _replace(db, "transfers", TRANSFER_COLUMNS, rows.transfers)

    def committed(self, rows: AlertRows) -> None:
        """The batch is durable: answer the commands, hand the outbox rows to the sender."""
        for command, result, error in rows.answers:
            if command.future.done():
                continue
            if error is None:
                command.future.set_result(result)
            else:
                command.future.set_exception(error)
        if rows.outbox:
            for listener in self.outbox_listeners:
                listener(rows.outbox)

    def failed(self, rows: AlertRows, error: BaseException) -> None:
        """The batch could not be written and never will be (the writer is stopping)."""
        for command, _, _ in rows.answers:
            if not command.future.done():
                command.future.set_exception(error)

    def _rows(self, effects: Effects, now: float) -> AlertRows:
        engine = self.engine
        rows = AlertRows()
        rows.incidents = [incident_row(i) for i in effects.incidents.values()]
        for key, machine in effects.machines.items():
            channel, store, model, side = key
            if machine is None:
                rows.machines_gone.append((channel, store, model, side.value))
            else:
                rows.machines.append((channel, store, model, side.value, machine_json(machine)))
        for key, mute in effects.mutes.items():
            if mute is None:
                rows.mutes_gone.append(key)
            else:
                rows.mutes.append((*key, *mute))
        for channel, state in effects.notifiers.items():
            encoded = orjson.dumps(state).decode()
            if self._last_notifier_state.get(channel) != encoded:
                self._last_notifier_state[channel] = encoded
                rows.notifiers.append((channel, encoded))
        for outgoing in effects.outgoing:
            if outgoing.op is Op.REPLY:
                note = outgoing.note
                payload = {
                    "note": note.template if note else "",
                    "fields": dict(note.fields) if note else {},
                    "broadcast": outgoing.broadcast,
                }
            else:
                view = engine.view(outgoing.incident_id, now)
                if view is None:
                    continue
                # What to say, as data; the sender renders it when it sends, so an edit that a
                # later one supersedes is never rendered, and rendering stays off the feed's path.
                payload = {"view": encode_view(view)}
            rows.outbox.append(
                OutboxRow(
                    self._next_outbox_id,
                    now,
                    outgoing.channel,
                    outgoing.op.value,
                    outgoing.incident_id,
                    orjson.dumps(payload).decode(),
                )
            )
            self._next_outbox_id += 1
        rows.changes = [(c.at, c.channel, c.user, c.action, c.summary) for c in effects.changes]
        for channel_id in effects.channels:
            channel = engine.book.channels[channel_id]
            rows.channels.append(channel_row(channel, now))
            rows.rules.extend(rule_row(rule) for rule in channel.rules.values())
        moved = engine.transfers.take_changes()
        rows.suggestions = [suggestion_row(s) for s in moved.suggestions.values()]
        rows.suggestions_gone = [(number,) for number in moved.gone]
        rows.transfers = [transfer_row(t) for t in moved.transfers.values()]
        return rows


async def _replace(db: aiosqlite.Connection, table: str, columns: str, rows: list[tuple]) -> None:
    """INSERT OR REPLACE `rows` (tuples in the order of `columns`) into `table`."""
    if rows:
        marks = ", ".join("?" * len(rows[0]))
        await db.executemany(f"INSERT OR REPLACE INTO {table} ({columns}) VALUES ({marks})", rows)


async def load_engine(
    db: aiosqlite.Connection,
    settings: EngineSettings,
    *,
    now: float,
    paces: PaceBook | None = None,
) -> AlertEngine:
    """The engine as the last run left it: rules, open incidents, machines, mutes, notifiers,
    suggestions and the transfers that still matter (open, or closed lately)."""
    book = RuleBook()
    async with db.execute("SELECT id, stores, models, quiet_hours FROM channels") as cursor:
        for channel_id, stores, models, quiet in await cursor.fetchall():
            book.channels[channel_id] = Channel(
                channel_id,
                Scope(scope_names(stores), scope_names(models)),
                quiet_hours(quiet),
            )
    async with db.execute("SELECT * FROM rules") as cursor:
        for channel, store, model, low, high, readings, seconds, by, at in await cursor.fetchall():
            rule = Rule(channel, store, model, Thresholds(low, high, readings, seconds), by, at)
            book.channel(channel).rules[(store, model)] = rule
    async with db.execute("SELECT max(id) FROM incidents") as cursor:
        (last_id,) = await cursor.fetchone()
    transfers = TransferBook(
        settings.transfers,
        next_suggestion_id=await _next_id(db, "suggestions"),
        next_transfer_id=await _next_id(db, "transfers"),
    )
    async with db.execute(f"SELECT {SUGGESTION_COLUMNS} FROM suggestions") as cursor:
        suggestions = [suggestion_from_row(row) for row in await cursor.fetchall()]
    async with db.execute(
        f"SELECT {TRANSFER_COLUMNS} FROM transfers "
        "WHERE status = 'accepted' OR coalesce(closed_at, at) > ?",
        (now - settings.transfers.block_for,),
    ) as cursor:
        recent = [transfer_from_row(row) for row in await cursor.fetchall()]
    transfers.restore(suggestions, recent)
    engine = AlertEngine(
        book, settings, next_id=(last_id or 0) + 1, transfers=transfers, paces=paces
    )
    waiting = (Shown.WAITING.value, Shown.HELD.value)
    async with db.execute(
        f"SELECT {INCIDENT_COLUMNS} FROM incidents WHERE resolved_at IS NULL "
        f"OR shown IN {waiting} OR id IN "
        "(SELECT parent_id FROM incidents WHERE resolved_at IS NULL AND parent_id IS NOT NULL)"
    ) as cursor:
        incidents = [incident_from_row(row) for row in await cursor.fetchall()]
    async with db.execute("SELECT * FROM alert_machines") as cursor:
        machines = [
            ((channel, store, model, Side(side)), machine_from_json(Side(side), state))
            for channel, store, model, side, state in await cursor.fetchall()
        ]
    async with db.execute(
        "SELECT channel, kind, store, model, muted_by, muted_at, muted_until FROM mutes"
    ) as cursor:
        mutes = [
            ((c, k, s, m), (by, at, until)) for c, k, s, m, by, at, until in await cursor.fetchall()
        ]
    async with db.execute("SELECT channel, state FROM notifiers") as cursor:
        notifiers = [(channel, orjson.loads(state)) for channel, state in await cursor.fetchall()]
    engine.restore(incidents=incidents, machines=machines, mutes=mutes, notifiers=notifiers)
    return engine


async def next_outbox_id(db: aiosqlite.Connection) -> int:
    return await _next_id(db, "outbox")


async def _next_id(db: aiosqlite.Connection, table: str) -> int:
    # The highest id, not the count. Only suggestions are ever deleted, and their table is
    # AUTOINCREMENT (migration 5): sqlite_sequence remembers ids whose rows are gone.
    async with db.execute(
        f"SELECT max(coalesce((SELECT max(id) FROM {table}), 0), "
        "coalesce((SELECT seq FROM sqlite_sequence WHERE name = ?), 0))",
        (table,),
    ) as cursor:
        (last,) = await cursor.fetchone()
    return last + 1
