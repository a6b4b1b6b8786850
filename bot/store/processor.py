"""Alerting inside the writer's transaction.

The writer hands every batch to AlertingProcessor: it runs the engine over the batch (sales,
bad frames, ticks, feed transitions, people's actions) and turns what changed into rows
(bot/store/batch.py AlertRows): incidents, machine state, notifier state, audit records and
outbox rows (what to say, as data: the sender renders it), which the store writes in the
batch's own transaction. So a state change and the message that tells it commit together:
after a crash, what was committed is either in the outbox or was sent.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from itertools import groupby

import orjson

from bot.core.alerting.actions import Action
from bot.core.alerting.effects import Effects, Op
from bot.core.alerting.engine import AlertEngine
from bot.core.errors import Refusal
from bot.core.events import BadFrame, SaleEvent
from bot.core.feed_health import Transition
from bot.store.action_codec import encode_refusal, encode_result
from bot.store.batch import AlertRows, OutboxRow
from bot.store.codec import (
    channel_row,
    encode_view,
    incident_row,
    machine_json,
    rule_row,
    suggestion_row,
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
    request: int | None = None  # handed over by another process: its answer is written too


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
        rows.requests = [
            (
                item.request,
                now,
                None if error else encode_result(result),
                encode_refusal(error) if error else None,
            )
            for item, result, error in answers
            if item.request is not None
        ]
        engine.forget_closed()
        return rows if rows != AlertRows() else None

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
        rows.homes = [(u, orjson.dumps(s).decode(), now) for u, s in effects.homes.items()]
        for channel_id in effects.channels:
            channel = engine.book.channels[channel_id]
            rows.channels.append(channel_row(channel, now))
            rows.rules.extend(rule_row(rule) for rule in channel.rules.values())
        moved = engine.transfers.take_changes()
        rows.suggestions = [suggestion_row(s) for s in moved.suggestions.values()]
        rows.suggestions_gone = [(number,) for number in moved.gone]
        rows.transfers = [transfer_row(t) for t in moved.transfers.values()]
        return rows
