"""The sender's records: which outbox rows were tried, delivered or given up, and where each
incident's message is in Slack.

The sender needs few things from its store, all plain values in and out, so that another
database can stand in with the same methods (PostgreSQL is next). Every method raises
StorageError when the database cannot do it now but may later (locked past the busy timeout,
disk full, connection lost); the sender retries those. Each record is one statement of its
own, in autocommit mode: the write lock is held only while it runs, never across a Slack call.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


class StorageError(Exception):
    """The database could not read or write now (locked, full, unreachable); try later."""


@dataclass(frozen=True, slots=True)
class Undelivered:
    """An outbox row not yet delivered, with what earlier runs recorded of it."""

    outbox_id: int
    channel: str
    op: str  # post | update | reply
    incident_id: int
    payload: str
    attempts: int  # calls started for it before (0: never tried)
    first_attempt_at: float | None
    created_at: float  # when the row was committed


class Deliveries(Protocol):
    """What the sender needs from its store (see the module docstring)."""

    async def open(self) -> None: ...
    async def close(self) -> None: ...
    async def undelivered(self) -> list[Undelivered]: ...
    async def trying(self, outbox_id: int, attempts: int, first_attempt_at: float) -> None: ...
    async def finish(
        self,
        outbox_id: int,
        state: str,
        attempts: int,
        first_attempt_at: float | None,
        done_at: float,
        error: str | None,
    ) -> None: ...
    async def remember(self, incident_id: int, channel_id: str, ts: str) -> None: ...
    async def location(self, incident_id: int) -> tuple[str, str] | None: ...
