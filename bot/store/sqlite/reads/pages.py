"""Paged reads for the REST API. Pages are keyset-paged (the cursor is the last row's key), so
a deep page costs what the first does; each read fetches one row more than asked to know
whether another page follows."""

from __future__ import annotations

import aiosqlite

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
from bot.store.rows import Level, StoredEvent, after_id, paged
from bot.store.sqlite.reads.levels import LEVEL_COLUMNS, LEVEL_FROM
from bot.store.sqlite.reads.transfers import transfer_filter


class PageReads:
    """Reads of the API's pages."""

    _db: aiosqlite.Connection

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
        where, args = [], []
        if store is not None:
            where.append("l.store_id = (SELECT id FROM stores WHERE name = ?)")
            args.append(store)
        if model is not None:
            where.append("l.model_id = (SELECT id FROM models WHERE name = ?)")
            args.append(model)
        if below is not None:
            where.append("l.inventory < ?")
            args.append(below)
        if above is not None:
            where.append("l.inventory > ?")
            args.append(above)
        if after is not None:
            store_id, _, model_id = after.partition(".")
            where.append("(l.store_id, l.model_id) > (?, ?)")
            args += [int(store_id), int(model_id or 0)]
        sql = (
            f"SELECT l.store_id, l.model_id, {LEVEL_COLUMNS} {LEVEL_FROM}"
            + (f" WHERE {' AND '.join(where)}" if where else "")
            + " ORDER BY l.store_id, l.model_id LIMIT ?"
        )
        async with self._db.execute(sql, [*args, limit + 1]) as cursor:
            rows = await cursor.fetchall()
        page, more = rows[:limit], len(rows) > limit
        return [Level.from_row(row[2:]) for row in page], (
            f"{page[-1][0]}.{page[-1][1]}" if more else None
        )

    async def names_page(
        self, table: str, *, after: str | None, limit: int
    ) -> tuple[list[tuple[str, float]], str | None]:
        """(name, first seen) of stores or models, in the order first seen."""
        assert table in ("stores", "models")
        sql = f"SELECT id, name, first_seen_at FROM {table} WHERE id > ? ORDER BY id LIMIT ?"
        async with self._db.execute(sql, (after_id(after), limit + 1)) as cursor:
            rows = await cursor.fetchall()
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
        where, args = ["resolved_at IS NULL", "kind != 'digest'", "id > ?"], [after_id(after)]
        for column, value in (("channel", channel), ("store", store), ("model", model)):
            if value is not None:
                where.append(f"{column} = ?")
                args.append(value)
        sql = (
            f"SELECT {INCIDENT_COLUMNS} FROM incidents WHERE {' AND '.join(where)} "
            "ORDER BY id LIMIT ?"
        )
        async with self._db.execute(sql, [*args, limit + 1]) as cursor:
            rows = await cursor.fetchall()
        return paged([incident_from_row(r) for r in rows], rows, limit)

    async def suggestions_page(
        self,
        *,
        store: str | None,
        model: str | None,
        after: str | None,
        limit: int,
    ) -> tuple[list[Suggested], str | None]:
        """The current suggestions, by number."""
        where, args = _moves(store, model, after)
        sql = f"SELECT {SUGGESTION_COLUMNS} FROM suggestions WHERE {where} ORDER BY id LIMIT ?"
        async with self._db.execute(sql, [*args, limit + 1]) as cursor:
            rows = await cursor.fetchall()
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
        where, args = _moves(store, model, after)
        sql = (
            f"SELECT {TRANSFER_COLUMNS} FROM transfers WHERE status = ? AND {where} "
            "ORDER BY id LIMIT ?"
        )
        async with self._db.execute(sql, [status, *args, limit + 1]) as cursor:
            rows = await cursor.fetchall()
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
        """Stored sales, newest first; the cursor is the last event's id (pass it as `before`)."""
        where, args = [], []
        if before is not None:
            where.append("e.id < ?")
            args.append(int(before.partition(".")[0]))
        if since is not None:
            first = await self.first_event_id_since(since)
            if first is None:
                return [], None
            where.append("e.id >= ?")
            args.append(first)
        for column, table, name in (("store_id", "stores", store), ("model_id", "models", model)):
            if name is not None:
                where.append(f"e.{column} = (SELECT id FROM {table} WHERE name = ?)")
                args.append(name)
        sql = f"""
            SELECT e.id, e.at, f.url, s.name, m.name, e.inventory FROM events e
            JOIN feeds f ON f.id = e.feed_id JOIN stores s ON s.id = e.store_id
            JOIN models m ON m.id = e.model_id
            {"WHERE " + " AND ".join(where) if where else ""} ORDER BY e.id DESC LIMIT ?
        """
        async with self._db.execute(sql, [*args, limit + 1]) as cursor:
            rows = await cursor.fetchall()
        return paged([StoredEvent(*r) for r in rows], rows, limit)


def _moves(store: str | None, model: str | None, after: str | None) -> tuple[str, list]:
    where, args = transfer_filter(store, model, None, None)
    return f"id > ? AND {where}", [after_id(after), *args]
