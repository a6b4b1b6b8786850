"""Stock levels and the names the feed has reported."""

from __future__ import annotations

from collections.abc import Collection

import asyncpg

from bot.store.rows import Level

# What Level.from_row reads, and from where.
LEVEL_COLUMNS = """
    s.name, m.name, l.inventory, l.last_sale_at, l.sale_count,
    l.fast_sold, l.fast_hours, l.slow_sold, l.slow_hours,
    p.fast_sold, p.fast_hours, p.slow_sold, p.slow_hours, p.at, p.stocked
"""
LEVEL_JOINS = """
    JOIN stores s ON s.id = l.store_id JOIN models m ON m.id = l.model_id
    LEFT JOIN model_paces p ON p.model_id = l.model_id
"""
_LEVEL_SELECT = f"SELECT {LEVEL_COLUMNS} FROM levels l {LEVEL_JOINS}"


def name_filter(
    column: str, table: str, one: str | None, many: Collection[str] | None, args: list
) -> str | None:
    """`column IN (ids of the names)`, from one name or a collection (appended to `args` as an
    array); None for no filter, "false" for an empty collection."""
    names = [one] if one is not None else (list(many) if many is not None else None)
    if names is None:
        return None
    if not names:
        return "false"
    args.append(names)
    return f"{column} IN (SELECT id FROM {table} WHERE name = ANY(${len(args)}::text[]))"


class LevelReads:
    """Reads of levels and names."""

    _pool: asyncpg.Pool

    async def levels(self, *, store: str | None = None, model: str | None = None) -> list[Level]:
        """Levels, lowest first, optionally for one store or one model (exact names)."""
        where, args = [], []
        for column, table, name in (
            ("l.store_id", "stores", store),
            ("l.model_id", "models", model),
        ):
            if (found := name_filter(column, table, name, None, args)) is not None:
                where.append(found)
        sql = _LEVEL_SELECT + (" WHERE " + " AND ".join(where) if where else "")
        sql += " ORDER BY l.inventory, s.name, m.name"
        return [Level.from_row(row) for row in await self._pool.fetch(sql, *args)]

    async def lowest_levels(
        self,
        *,
        store: str | None = None,
        model: str | None = None,
        stores: Collection[str] | None = None,
        models: Collection[str] | None = None,
        limit: int = 20,
    ) -> list[Level]:
        """The lowest levels, lowest first: at one store, of one model, or within a scope. With no
        filter at all, from low_levels: the levels at or below LOW_LISTED, in its index's
        order (levels has no index on inventory, so that its updates stay HOT)."""
        where, args = [], []
        for column, table, one, many in (
            ("l.store_id", "stores", store, stores),
            ("l.model_id", "models", model, models),
        ):
            found = name_filter(column, table, one, many, args)
            if found == "false":
                return []
            if found is not None:
                where.append(found)
        args.append(limit)
        if where:
            sql = (
                f"{_LEVEL_SELECT} WHERE {' AND '.join(where)} "
                f"ORDER BY l.inventory, s.name, m.name LIMIT ${len(args)}"
            )
        else:
            # The lowest first through low_levels' index, stopping after `limit`; ordering by
            # names too would read and sort every low level first.
            sql = (
                f"SELECT {LEVEL_COLUMNS} FROM (SELECT store_id, model_id FROM low_levels "
                "ORDER BY inventory LIMIT $1) low "
                "JOIN levels l USING (store_id, model_id) " + LEVEL_JOINS
            )
        rows = [Level.from_row(row) for row in await self._pool.fetch(sql, *args)]
        return sorted(rows, key=lambda r: (r.inventory, r.store, r.model))

    async def count_levels(self, *, store: str | None = None, model: str | None = None) -> int:
        """How many models one store has, or how many stores one model is at."""
        column, table, name = (
            ("store_id", "stores", store) if store is not None else ("model_id", "models", model)
        )
        return await self._pool.fetchval(
            f"SELECT count(*) FROM levels "
            f"WHERE {column} = (SELECT id FROM {table} WHERE name = $1)",
            name,
        )

    async def name_lists(self) -> tuple[list[str], list[str]]:
        """Every store and every model seen, in the order first seen."""
        stores = await self._pool.fetch("SELECT name FROM stores ORDER BY id")
        models = await self._pool.fetch("SELECT name FROM models ORDER BY id")
        return [name for (name,) in stores], [name for (name,) in models]

    async def names_version(self) -> tuple[int, int]:
        """Changes when a new store or model is seen (names are never removed)."""
        row = await self._pool.fetchrow(
            "SELECT coalesce((SELECT max(id) FROM stores), 0), "
            "coalesce((SELECT max(id) FROM models), 0)"
        )
        return (row[0], row[1])
