"""Stock levels and the names the feed has reported."""

from __future__ import annotations

from collections.abc import Collection

import aiosqlite

from bot.store.rows import LOW_LISTED, Level

# What Level.from_row reads, and from where.
LEVEL_COLUMNS = """
    s.name, m.name, l.inventory, l.last_sale_at, l.sale_count,
    l.fast_sold, l.fast_hours, l.slow_sold, l.slow_hours,
    p.fast_sold, p.fast_hours, p.slow_sold, p.slow_hours, p.at, p.stocked
"""
LEVEL_FROM = """
    FROM levels l JOIN stores s ON s.id = l.store_id JOIN models m ON m.id = l.model_id
    LEFT JOIN model_paces p ON p.model_id = l.model_id
"""
_LEVEL_SELECT = f"SELECT {LEVEL_COLUMNS} {LEVEL_FROM}"


class LevelReads:
    """Reads of levels and names."""

    _db: aiosqlite.Connection

    async def levels(self, *, store: str | None = None, model: str | None = None) -> list[Level]:
        """Levels, lowest first, optionally for one store or one model (exact names)."""
        where, args = [], []
        if store is not None:
            where.append("s.name = ?")
            args.append(store)
        if model is not None:
            where.append("m.name = ?")
            args.append(model)
        sql = _LEVEL_SELECT + (" WHERE " + " AND ".join(where) if where else "")
        sql += " ORDER BY l.inventory, s.name, m.name"
        async with self._db.execute(sql, args) as cursor:
            return [Level.from_row(row) for row in await cursor.fetchall()]

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
        filter at all, only levels at or below LOW_LISTED are looked at (an index holds them)."""
        where, args = [], []
        for column, table, one, many in (
            ("store_id", "stores", store, stores),
            ("model_id", "models", model, models),
        ):
            names = [one] if one is not None else (list(many) if many is not None else None)
            if names is None:
                continue
            if not names:
                return []
            marks = ", ".join("?" * len(names))
            where.append(f"l.{column} IN (SELECT id FROM {table} WHERE name IN ({marks}))")
            args.extend(names)
        if where:
            order = "l.inventory, s.name, m.name"
        else:
            # The whole chain: read the low-levels index in order and stop after `limit` rows.
            # Ordering by names too would make SQLite read and sort every low level first.
            where.append(f"l.inventory <= {LOW_LISTED}")
            order = "l.inventory"
        sql = f"{_LEVEL_SELECT} WHERE {' AND '.join(where)} ORDER BY {order} LIMIT ?"
        async with self._db.execute(sql, [*args, limit]) as cursor:
            rows = [Level.from_row(row) for row in await cursor.fetchall()]
        return sorted(rows, key=lambda r: (r.inventory, r.store, r.model))

    async def count_levels(self, *, store: str | None = None, model: str | None = None) -> int:
        """How many models one store has, or how many stores one model is at."""
        column, table, name = (
            ("store_id", "stores", store) if store is not None else ("model_id", "models", model)
        )
        sql = (
            f"SELECT count(*) FROM levels WHERE {column} = (SELECT id FROM {table} WHERE name = ?)"
        )
        async with self._db.execute(sql, (name,)) as cursor:
            (found,) = await cursor.fetchone()
        return found

    async def name_lists(self) -> tuple[list[str], list[str]]:
        """Every store and every model seen, in the order first seen."""
        async with self._db.execute("SELECT name FROM stores ORDER BY id") as cursor:
            stores = [name for (name,) in await cursor.fetchall()]
        async with self._db.execute("SELECT name FROM models ORDER BY id") as cursor:
            models = [name for (name,) in await cursor.fetchall()]
        return stores, models

    async def names_version(self) -> tuple[int, int]:
        """Changes when a new store or model is seen (names are never removed)."""
        async with self._db.execute(
            "SELECT coalesce((SELECT max(id) FROM stores), 0), "
            "coalesce((SELECT max(id) FROM models), 0)"
        ) as cursor:
            return tuple(await cursor.fetchone())
