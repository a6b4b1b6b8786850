"""What one of the writer's transactions writes, as plain rows: the backends (SQLite,
PostgreSQL) each turn it into their own SQL, inside one transaction."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from bot.core.events import BadFrame, SaleEvent


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
    homes: list[tuple] = field(default_factory=list)  # (user, JSON of their stores, at)
    suggestions: list[tuple] = field(default_factory=list)
    suggestions_gone: list[tuple[int]] = field(default_factory=list)
    transfers: list[tuple] = field(default_factory=list)
    # Requests other processes handed over: (id, answered at, result JSON, refusal JSON).
    requests: list[tuple[int, float, str | None, str | None]] = field(default_factory=list)
    # The actions the batch applied, with their results, to answer once committed.
    answers: list[tuple[Any, object, Exception | None]] = field(default_factory=list)


@dataclass(slots=True)
class Batch:
    """The rows one transaction writes, prepared once so a retry writes the same thing. Each
    backend writes it in its own SQL."""

    events: list[SaleEvent]
    bad: list[BadFrame]
    new_names: list[tuple[str, list[tuple[int, str, float]]]]  # (table, (id, name, first seen))
    event_rows: list[tuple[float, int, int, int, int]]
    level_rows: list[tuple]
    model_pace_rows: list[tuple]
    dead_rows: list[tuple]
    bad_counts: list[list]
    alerts: AlertRows | None = None  # what the alert processor decided, if anything
    dead_letter_limit: int = 1000  # dead letters kept (the oldest beyond are deleted)

    @property
    def has_rows(self) -> bool:
        return bool(self.event_rows or self.dead_rows or self.alerts is not None)
