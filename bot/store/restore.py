"""The state the bot runs from, rebuilt from the rows either backend reads at start: the alert
engine as the last run left it, and the model paces made whole. Each backend selects the rows
in its own SQL (bot/store/sqlite/state.py, bot/store/postgres/state.py); this is the Python
they share."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import orjson

from bot.core.alerting.engine import AlertEngine, EngineSettings
from bot.core.alerting.incidents import Shown
from bot.core.alerting.machine import Side
from bot.core.rules import Channel, RuleBook, Scope
from bot.core.secrets import MASK, shown_url
from bot.core.transfers.book import TransferBook
from bot.core.velocity import PaceBook, pooled
from bot.store.codec import (
    incident_from_row,
    machine_from_json,
    quiet_hours,
    rule_from_row,
    scope_names,
    suggestion_from_row,
    transfer_from_row,
)

# The incidents a restart picks up again: open ones, ones whose message is still to come, and
# the digests that open ones belong to (SQL both backends use).
RESTORED_INCIDENTS = (
    f"resolved_at IS NULL OR shown IN ('{Shown.WAITING.value}', '{Shown.HELD.value}') OR id IN "
    "(SELECT parent_id FROM incidents WHERE resolved_at IS NULL AND parent_id IS NOT NULL)"
)


@dataclass(slots=True)
class EngineRows:
    """What a backend read for the engine, as rows in the codec's layouts."""

    channels: Sequence[Sequence]  # (id, stores, models, quiet_hours)
    rules: Sequence[Sequence]  # RULE_COLUMNS
    last_incident_id: int | None
    next_suggestion_id: int
    next_transfer_id: int
    suggestions: Sequence[Sequence]  # SUGGESTION_COLUMNS
    transfers: Sequence[Sequence]  # TRANSFER_COLUMNS: open ones, or closed within block_for
    incidents: Sequence[Sequence]  # INCIDENT_COLUMNS, those RESTORED_INCIDENTS selects
    machines: Sequence[Sequence]  # (channel, store, model, side, state)
    mutes: Sequence[Sequence]  # (channel, kind, store, model, muted_by, muted_at, muted_until)
    notifiers: Sequence[Sequence]  # (channel, state)


def engine_from_rows(
    rows: EngineRows, settings: EngineSettings, *, paces: PaceBook | None = None
) -> AlertEngine:
    """The engine as the last run left it: rules, open incidents, machines, mutes, notifiers,
    suggestions and the transfers that still matter."""
    book = RuleBook()
    for channel_id, stores, models, quiet in rows.channels:
        book.channels[channel_id] = Channel(
            channel_id, Scope(scope_names(stores), scope_names(models)), quiet_hours(quiet)
        )
    for row in rows.rules:
        rule = rule_from_row(row)
        book.channel(rule.channel).rules[(rule.store, rule.model)] = rule
    transfers = TransferBook(
        settings.transfers,
        next_suggestion_id=rows.next_suggestion_id,
        next_transfer_id=rows.next_transfer_id,
    )
    transfers.restore(
        [suggestion_from_row(row) for row in rows.suggestions],
        [transfer_from_row(row) for row in rows.transfers],
    )
    engine = AlertEngine(
        book, settings, next_id=(rows.last_incident_id or 0) + 1, transfers=transfers, paces=paces
    )
    engine.restore(
        incidents=[incident_from_row(row) for row in rows.incidents],
        machines=[
            ((channel, store, model, Side(side)), machine_from_json(Side(side), state))
            for channel, store, model, side, state in rows.machines
        ],
        mutes=[((c, k, s, m), (by, at, until)) for c, k, s, m, by, at, until in rows.mutes],
        notifiers=[(channel, orjson.loads(state)) for channel, state in rows.notifiers],
    )
    return engine


def settle_model_paces(book: PaceBook) -> None:
    """Make every model's pace agree with its shelves, once they are loaded. A database from
    before paces were kept has shelves but no model paces, and one written before this check
    may have miscounted: a model's pace must count exactly its shelves holding stock, or a
    shelf selling out would make the count negative."""
    for model, stores in book.shelves.items():
        if model not in book.models:
            book.models[model] = pooled(stores.values())
        else:
            book.models[model].stocked = sum(shelf.stocked for shelf in stores.values())


def feeds_to_rename(rows: Sequence[Sequence]) -> list[tuple[str, str, int]]:
    """(name to give, URL stored, id) of the feeds, from (id, url) rows, still stored by a URL
    that shows its credentials (as versions before feed names kept them)."""
    renamed = [(shown_url(url), url, id_) for id_, url in rows]
    return [row for row in renamed if row[0] != row[1] and MASK not in row[1]]  # once
