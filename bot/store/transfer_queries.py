"""Read queries over suggestions and transfers: /transfers, the App Home and the API."""

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


# Suggestions are counted up to this many: an exact count of 200,000 costs /transfers 25 ms at
# p99 (bench/commands.py), and "over 1,000 more" tells a reader as much.
COUNTED = 1000


def more(total: int, shown: int) -> str:
    """How many were not shown, from a count capped at COUNTED: "12" or "over 980"."""
    return f"over {COUNTED - shown:,}" if total > COUNTED else f"{total - shown:,}"


async def suggestions(
    db: aiosqlite.Connection,
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
    async with db.execute(sql, [*args, limit]) as cursor:
        found = [suggestion_from_row(row) for row in await cursor.fetchall()]
    async with db.execute(
        f"SELECT count(*) FROM (SELECT 1 FROM suggestions WHERE {where} LIMIT ?)",
        [*args, COUNTED + 1],
    ) as cursor:
        (total,) = await cursor.fetchone()
    return found, total


async def open_transfers(
    db: aiosqlite.Connection,
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
    async with db.execute(sql, [*args, limit]) as cursor:
        return [transfer_from_row(row) for row in await cursor.fetchall()]
