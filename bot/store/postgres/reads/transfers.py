"""Transfer suggestions and the transfers people accepted."""

from __future__ import annotations

from collections.abc import Collection

import asyncpg

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

    _pool: asyncpg.Pool

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
        args: list = []
        where = transfer_filter(store, model, stores, models, args)
        n = len(args)
        async with self._pool.acquire() as conn, conn.transaction(readonly=True):
            found = await conn.fetch(
                f"SELECT {SUGGESTION_COLUMNS} FROM suggestions WHERE {where} "
                f"ORDER BY by_rate DESC, urgency, model, target, source LIMIT ${n + 1}",
                *args,
                limit,
            )
            total = await conn.fetchval(
                f"SELECT count(*) FROM (SELECT 1 FROM suggestions WHERE {where} "
                f"LIMIT ${n + 1}) counted",
                *args,
                COUNTED + 1,
            )
        return [suggestion_from_row(row) for row in found], total

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
        args: list = []
        where = transfer_filter(store, model, stores, models, args)
        rows = await self._pool.fetch(
            f"SELECT {TRANSFER_COLUMNS} FROM transfers WHERE status = 'accepted' AND {where} "
            f"ORDER BY id LIMIT ${len(args) + 1}",
            *args,
            limit,
        )
        return [transfer_from_row(row) for row in rows]


def transfer_filter(
    store: str | None,
    model: str | None,
    stores: Collection[str] | None,
    models: Collection[str] | None,
    args: list,
) -> str:
    """WHERE clauses for suggestions or transfers: touching a store (giving or receiving), of a
    model, within a scope; their values are appended to `args`."""
    where = []
    if store is not None:
        args.append(store)
        where.append(f"(source = ${len(args)} OR target = ${len(args)})")
    if model is not None:
        args.append(model)
        where.append(f"model = ${len(args)}")
    if stores is not None:
        args.append(list(stores))
        where.append(f"(source = ANY(${len(args)}::text[]) OR target = ANY(${len(args)}::text[]))")
    if models is not None:
        args.append(list(models))
        where.append(f"model = ANY(${len(args)}::text[])")
    return " AND ".join(where) or "true"
