"""Transfer suggestions and the transfers people accepted."""

from __future__ import annotations

from collections.abc import Collection

import aiosqlite

from bot.core.transfers.book import Suggested, Transfer
from bot.store.codec import (
    SUGGESTION_COLUMNS,
    TRANSFER_COLUMNS,
    suggestion_from_row,
    transfer_from_row,
)
from bot.store.rows import COUNTED


class TransferReads:
    """Reads of suggestions and transfers."""

    _db: aiosqlite.Connection

    async def suggestions(
        self,
        *,
        store: str | None = None,
        model: str | None = None,
        stores: Collection[str] | None = None,
        models: Collection[str] | None = None,
        limit: int = 20,
    ) -> tuple[list[Suggested], int]:
        """Current suggestions, worst shortage first (by cover where paces are known, then by
        level), at most `limit`, and how many there are in all, counted up to COUNTED + 1
        (see `more`)."""
        where, args = transfer_filter(store, model, stores, models)
        sql = (
            f"SELECT {SUGGESTION_COLUMNS} FROM suggestions WHERE {where} "
            "ORDER BY by_rate DESC, urgency, model, target, source LIMIT ?"
        )
        async with self._db.execute(sql, [*args, limit]) as cursor:
            found = [suggestion_from_row(row) for row in await cursor.fetchall()]
        async with self._db.execute(
            f"SELECT count(*) FROM (SELECT 1 FROM suggestions WHERE {where} LIMIT ?)",
            [*args, COUNTED + 1],
        ) as cursor:
            (total,) = await cursor.fetchone()
        return found, total

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
        where, args = transfer_filter(store, model, stores, models)
        sql = (
            f"SELECT {TRANSFER_COLUMNS} FROM transfers WHERE status = 'accepted' AND {where} "
            "ORDER BY id LIMIT ?"
        )
        async with self._db.execute(sql, [*args, limit]) as cursor:
            return [transfer_from_row(row) for row in await cursor.fetchall()]


def transfer_filter(
    store: str | None,
    model: str | None,
    stores: Collection[str] | None,
    models: Collection[str] | None,
) -> tuple[str, list]:
    """WHERE clauses for suggestions or transfers: touching a store (giving or receiving), of a
    model, within a scope."""
    where, args = [], []
    if store is not None:
        where.append("(source = ? OR target = ?)")
        args += [store, store]
    if model is not None:
        where.append("model = ?")
        args.append(model)
    if stores is not None:
        marks = ", ".join("?" * len(stores))
        where.append(f"(source IN ({marks}) OR target IN ({marks}))")
        args += [*stores, *stores]
    if models is not None:
        where.append(f"model IN ({', '.join('?' * len(models))})")
        args += list(models)
    return " AND ".join(where) or "1", args
