"""Paged reads for the REST API. Pages are keyset-paged (the cursor is the last row's key), so
a deep page costs what the first does; each read fetches one row more than asked to know
whether another page follows."""

from __future__ import annotations

import asyncpg

from bot.core.alerting.incidents import Incident
from bot.core.transfers.book import Suggested, Transfer
from bot.store.codec import (
    INCIDENT_COLUMNS,
    SUGGESTION_COLUMNS,
    TRANSFER_COLUMNS,
    incident_from_row,
    suggestion_from_row,
    transfer_from_row,
)
from bot.store.postgres.reads.events import EVENT_SELECT
from bot.store.postgres.reads.levels import LEVEL_COLUMNS, LEVEL_JOINS
from bot.store.postgres.reads.transfers import transfer_filter
from bot.store.rows import Level, StoredEvent, after_id, paged


class Where:
    """WHERE clauses and their numbered parameters, built up together."""

    def __init__(self, *args: object) -> None:
        self.clauses: list[str] = []
        self.args: list = list(args)

    def add(self, clause: str, *values: object) -> None:
        """`clause` with $ standing for each next parameter in turn."""
        for value in values:
            self.args.append(value)
            clause = clause.replace("$?", f"${len(self.args)}", 1)
        self.clauses.append(clause)

    def sql(self) -> str:
        return "WHERE " + " AND ".join(self.clauses) if self.clauses else ""

    def limit(self, limit: int) -> str:
        """LIMIT of one more than `limit` rows, as the last parameter."""
        self.args.append(limit + 1)
        return f"LIMIT ${len(self.args)}"


class PageReads:
    """Reads of the API's pages."""

    _pool: asyncpg.Pool

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
        """Levels in key order (store, then model, as first seen); the cursor is "store.model"."""
        where = Where()
        if store is not None:
            where.add("l.store_id = (SELECT id FROM stores WHERE name = $?)", store)
        if model is not None:
            where.add("l.model_id = (SELECT id FROM models WHERE name = $?)", model)
        if below is not None:
            where.add("l.inventory < $?", below)
        if above is not None:
            where.add("l.inventory > $?", above)
        if after is not None:
            store_id, _, model_id = after.partition(".")
            where.add("(l.store_id, l.model_id) > ($?, $?)", int(store_id), int(model_id or 0))
        sql = (
            f"SELECT l.store_id, l.model_id, {LEVEL_COLUMNS} FROM levels l {LEVEL_JOINS} "
            f"{where.sql()} ORDER BY l.store_id, l.model_id {where.limit(limit)}"
        )
        rows = await self._pool.fetch(sql, *where.args)
        page, more = rows[:limit], len(rows) > limit
        return [Level.from_row(row[2:]) for row in page], (
            f"{page[-1][0]}.{page[-1][1]}" if more else None
        )

    async def names_page(
        self, table: str, *, after: str | None, limit: int
    ) -> tuple[list[tuple[str, float]], str | None]:
        """(name, first seen) of stores or models, in the order first seen."""
        assert table in ("stores", "models")
        rows = await self._pool.fetch(
            f"SELECT id, name, first_seen_at FROM {table} WHERE id > $1 ORDER BY id LIMIT $2",
            after_id(after),
            limit + 1,
        )
        return paged([(name, at) for _, name, at in rows], rows, limit)

    async def alerts_page(
        self,
        *,
        channel: str | None,
        store: str | None,
        model: str | None,
        after: str | None,
        limit: int,
    ) -> tuple[list[Incident], str | None]:
        """Open incidents (digests aside: they only gather others), oldest first."""
        where = Where()
        where.add("resolved_at IS NULL AND kind != 'digest' AND id > $?", after_id(after))
        for column, value in (("channel", channel), ("store", store), ("model", model)):
            if value is not None:
                where.add(f"{column} = $?", value)
        rows = await self._pool.fetch(
            f"SELECT {INCIDENT_COLUMNS} FROM incidents {where.sql()} "
            f"ORDER BY id {where.limit(limit)}",
            *where.args,
        )
        return paged([incident_from_row(r) for r in rows], rows, limit)

    async def suggestions_page(
        self, *, store: str | None, model: str | None, after: str | None, limit: int
    ) -> tuple[list[Suggested], str | None]:
        """The current suggestions, by number."""
        where = _moves(store, model, after)
        rows = await self._pool.fetch(
            f"SELECT {SUGGESTION_COLUMNS} FROM suggestions {where.sql()} "
            f"ORDER BY id {where.limit(limit)}",
            *where.args,
        )
        return paged([suggestion_from_row(r) for r in rows], rows, limit)

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
        where = _moves(store, model, after)
        where.add("status = $?", status)
        rows = await self._pool.fetch(
            f"SELECT {TRANSFER_COLUMNS} FROM transfers {where.sql()} "
            f"ORDER BY id {where.limit(limit)}",
            *where.args,
        )
        return paged([transfer_from_row(r) for r in rows], rows, limit)

    async def events_page(
        self,
        *,
        store: str | None,
        model: str | None,
        since: float | None,
        before: str | None,
        limit: int,
    ) -> tuple[list[StoredEvent], str | None]:
        """Stored sales, newest first; the cursor is the last event's id (pass it as `before`).
        `since` reads only the days since (partition pruning)."""
        where = Where()
        if before is not None:
            where.add("e.id < $?", int(before.partition(".")[0]))
        if since is not None:
            where.add("e.at >= $?", since)
        for column, table, name in (("store_id", "stores", store), ("model_id", "models", model)):
            if name is not None:
                where.add(f"e.{column} = (SELECT id FROM {table} WHERE name = $?)", name)
        rows = await self._pool.fetch(
            f"{EVENT_SELECT} {where.sql()} ORDER BY e.id DESC {where.limit(limit)}", *where.args
        )
        return paged([StoredEvent(*r) for r in rows], rows, limit)


def _moves(store: str | None, model: str | None, after: str | None) -> Where:
    where = Where(after_id(after))
    where.clauses.append("id > $1")
    clause = transfer_filter(store, model, None, None, where.args)
    where.clauses.append(clause)
    return where
