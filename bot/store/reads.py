"""What people read: the one interface of the store's reads, which the SQLite and PostgreSQL
backends each implement with their own SQL (bot/store/sqlite/reads/, bot/store/postgres/reads/).
Slash commands, the App Home and the REST API read only through it; nothing here writes.

Names are exact (the commands resolve what a person typed first); lists are bounded by `limit`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Collection
from typing import Protocol

from bot.core.alerting.incidents import Incident
from bot.core.replay import Sale
from bot.core.rules import Channel
from bot.core.transfers.book import Suggested, Transfer
from bot.store.rows import DeadLetter, Level, MuteRow, StoredEvent

Page = tuple[list, str | None]  # the items, and the cursor of the next page (None: the last)


class Reads(Protocol):
    async def ping(self) -> None:
        """The database answers (raises if not)."""

    # -- levels and names ------------------------------------------------------------------

    async def levels(self, *, store: str | None = None, model: str | None = None) -> list[Level]:
        """Levels, lowest first, optionally for one store or one model."""

    async def lowest_levels(
        self,
        *,
        store: str | None = None,
        model: str | None = None,
        stores: Collection[str] | None = None,
        models: Collection[str] | None = None,
        limit: int = 20,
    ) -> list[Level]:
        """The lowest levels, lowest first: at one store, of one model, or within a scope; with
        no filter, among the levels at or below LOW_LISTED."""

    async def count_levels(self, *, store: str | None = None, model: str | None = None) -> int:
        """How many models one store has, or how many stores one model is at."""

    async def name_lists(self) -> tuple[list[str], list[str]]:
        """Every store and every model seen, in the order first seen."""

    async def names_version(self) -> tuple[int, int]:
        """Changes when a new store or model is seen."""

    # -- the event log ---------------------------------------------------------------------

    async def events(self, *, after_id: int = 0, limit: int = 1000) -> list[StoredEvent]:
        """Stored events in arrival order, from after `after_id`."""

    async def first_event_id_since(self, at: float) -> int | None:
        """Id of the first event received at or after `at`, or None."""

    async def event_count(self) -> int:
        """Events stored."""

    async def dead_letters(self, *, limit: int = 100) -> list[DeadLetter]:
        """The most recent refused frames, newest first."""

    async def bad_frame_counts(self) -> dict[str, int]:
        """Refused frames ever counted, by reason."""

    async def sales_since(
        self,
        since: float,
        *,
        stores: Collection[str] | None = None,
        models: Collection[str] | None = None,
        limit: int,
        chunk: int = 10_000,
    ) -> tuple[AsyncIterator[list[Sale]], bool]:
        """Sales since `since`, oldest first, within a scope, in lists of at most `chunk` (so
        a day of sales never sits in memory at once): at most `limit` (the latest), and whether
        there were more."""

    # -- alerts and channels ---------------------------------------------------------------

    async def open_incidents(
        self, channel: str | None = None, *, limit: int = 1000
    ) -> list[Incident]:
        """Open incidents (digests aside), out of stock first, then low, overstock, others."""

    async def incident(self, incident_id: int) -> Incident | None:
        """One incident, open or not."""

    async def channel_config(self, channel_id: str) -> Channel:
        """A channel's scope, quiet hours and rules (an empty channel if none)."""

    async def channels(self, channel_id: str | None = None) -> list[Channel]:
        """Every configured channel (or only `channel_id`), by ID, with its rules."""

    async def home_stores(self, user: str) -> list[str]:
        """The stores `user` follows in the App Home, in the order picked."""

    async def config_changes(
        self, channel: str, *, limit: int = 5
    ) -> list[tuple[float, str, str, str]]:
        """The channel's latest configuration changes, newest first: (at, user, action,
        summary)."""

    async def mutes(self, channel: str) -> list[MuteRow]:
        """The channel's mutes, oldest first."""

    # -- transfers -------------------------------------------------------------------------

    async def suggestions(
        self,
        *,
        store: str | None = None,
        model: str | None = None,
        stores: Collection[str] | None = None,
        models: Collection[str] | None = None,
        limit: int = 20,
    ) -> tuple[list[Suggested], int]:
        """Current suggestions, worst shortage first, and how many in all (up to COUNTED + 1)."""

    async def open_transfers(
        self,
        *,
        store: str | None = None,
        model: str | None = None,
        stores: Collection[str] | None = None,
        models: Collection[str] | None = None,
        limit: int = 20,
    ) -> list[Transfer]:
        """Accepted transfers not yet received, oldest first."""

    # -- the REST API's pages (keyset-paged) -----------------------------------------------

    async def stock_page(
        self,
        *,
        store: str | None,
        model: str | None,
        below: int | None,
        above: int | None,
        after: str | None,
        limit: int,
    ) -> tuple[list[Level], str | None]:
        """Levels in key order (store, then model, as first seen)."""

    async def names_page(
        self, table: str, *, after: str | None, limit: int
    ) -> tuple[list[tuple[str, float]], str | None]:
        """(name, first seen) of "stores" or "models", in the order first seen."""

    async def alerts_page(
        self,
        *,
        channel: str | None,
        store: str | None,
        model: str | None,
        after: str | None,
        limit: int,
    ) -> tuple[list[Incident], str | None]:
        """Open incidents (digests aside), oldest first."""

    async def suggestions_page(
        self, *, store: str | None, model: str | None, after: str | None, limit: int
    ) -> tuple[list[Suggested], str | None]:
        """The current suggestions, by number."""

    async def transfers_page(
        self,
        *,
        status: str,
        store: str | None,
        model: str | None,
        after: str | None,
        limit: int,
    ) -> tuple[list[Transfer], str | None]:
        """Transfers in one status, by number."""

    async def events_page(
        self,
        *,
        store: str | None,
        model: str | None,
        since: float | None,
        before: str | None,
        limit: int,
    ) -> tuple[list[StoredEvent], str | None]:
        """Stored sales, newest first; the cursor is the last event's id (pass it as
        `before`)."""
