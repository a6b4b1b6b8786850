"""Read queries over the stored state. Slash commands, the API and tests read through these."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field

import aiosqlite

from bot.core.alerting.incidents import Incident
from bot.core.replay import Sale
from bot.core.rules import Channel, Rule, Scope, Thresholds
from bot.core.velocity import Pace, PaceBook, Rate, pooled, rate
from bot.store.codec import (
    INCIDENT_COLUMNS,
    incident_from_row,
    quiet_hours,
    scope_names,
)
from bot.store.schema import LOW_LISTED


@dataclass(frozen=True, slots=True)
class Level:
    """Current stock of one model at one store, and how fast it sells."""

    store: str
    model: str
    inventory: int
    last_sale_at: float
    sale_count: int
    pace: Pace = field(compare=False)
    model_pace: Pace | None = field(compare=False)

    def rate(self, now: float) -> Rate:
        """Pairs sold per hour in stock, as of `now`."""
        return rate(self.pace, self.model_pace, now)

    @classmethod
    def from_row(cls, row: tuple) -> Level:
        store, model, inventory, at, count, fs, fh, ss, sh, *pooled = row
        model_pace = Pace(*pooled) if pooled[0] is not None else None
        return cls(
            store,
            model,
            inventory,
            at,
            count,
            Pace(fs, fh, ss, sh, at, int(inventory > 0), inventory),
            model_pace,
        )


@dataclass(frozen=True, slots=True)
class StoredEvent:
    id: int
    at: float
    feed: str
    store: str
    model: str
    inventory: int


@dataclass(frozen=True, slots=True)
class DeadLetter:
    id: int
    at: float
    feed: str
    reason: str
    detail: str
    sample: str
    size: int


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


async def levels(
    db: aiosqlite.Connection, *, store: str | None = None, model: str | None = None
) -> list[Level]:
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
    async with db.execute(sql, args) as cursor:
        return [Level.from_row(row) for row in await cursor.fetchall()]


async def events(
    db: aiosqlite.Connection, *, after_id: int = 0, limit: int = 1000
) -> list[StoredEvent]:
    """Stored events in arrival order, from after `after_id`."""
    sql = """
        SELECT e.id, e.at, f.url, s.name, m.name, e.inventory
        FROM events e
        JOIN feeds f ON f.id = e.feed_id
        JOIN stores s ON s.id = e.store_id
        JOIN models m ON m.id = e.model_id
        WHERE e.id > ? ORDER BY e.id LIMIT ?
    """
    async with db.execute(sql, (after_id, limit)) as cursor:
        return [StoredEvent(*row) for row in await cursor.fetchall()]


async def first_event_id_since(db: aiosqlite.Connection, at: float) -> int | None:
    """Id of the first event received at or after `at`, or None if there is none.

    Ids grow with arrival time, so a binary search over the id range finds it with a few
    primary-key lookups and the event log needs no index on time. (If the wall clock stepped
    back, the boundary may be off by the few events received during the step.)
    """
    async with db.execute("SELECT min(id), max(id) FROM events") as cursor:
        low, high = await cursor.fetchone()
    if low is None:
        return None
    probe = "SELECT id, at FROM events WHERE id >= ? ORDER BY id LIMIT 1"
    high += 1  # the answer x is the least id with "the first event from x on is recent enough"
    while low < high:
        middle = (low + high) // 2
        async with db.execute(probe, (middle,)) as cursor:
            row = await cursor.fetchone()
        if row is not None and row[1] >= at:
            high = middle
        else:
            low = row[0] + 1 if row is not None else middle + 1
    async with db.execute(probe, (low,)) as cursor:
        row = await cursor.fetchone()
    return row[0] if row is not None else None


async def event_count(db: aiosqlite.Connection) -> int:
    async with db.execute("SELECT count(*) FROM events") as cursor:
        (count,) = await cursor.fetchone()
    return count


async def dead_letters(db: aiosqlite.Connection, *, limit: int = 100) -> list[DeadLetter]:
    """The most recent refused frames, newest first."""
    sql = """
        SELECT d.id, d.at, f.url, d.reason, d.detail, d.sample, d.size
        FROM dead_letters d JOIN feeds f ON f.id = d.feed_id
        ORDER BY d.id DESC LIMIT ?
    """
    async with db.execute(sql, (limit,)) as cursor:
        return [DeadLetter(*row) for row in await cursor.fetchall()]


async def bad_frame_counts(db: aiosqlite.Connection) -> dict[str, int]:
    """Refused frames ever counted, by reason, over all feeds."""
    sql = "SELECT reason, sum(count) FROM bad_frame_counts GROUP BY reason"
    async with db.execute(sql) as cursor:
        return dict(await cursor.fetchall())


async def name_lists(db: aiosqlite.Connection) -> tuple[list[str], list[str]]:
    """Every store and every model seen, in the order first seen."""
    async with db.execute("SELECT name FROM stores ORDER BY id") as cursor:
        stores = [name for (name,) in await cursor.fetchall()]
    async with db.execute("SELECT name FROM models ORDER BY id") as cursor:
        models = [name for (name,) in await cursor.fetchall()]
    return stores, models


async def names_version(db: aiosqlite.Connection) -> tuple[int, int]:
    """Changes when a new store or model is seen (names are never removed)."""
    async with db.execute(
        "SELECT coalesce((SELECT max(id) FROM stores), 0), "
        "coalesce((SELECT max(id) FROM models), 0)"
    ) as cursor:
        return tuple(await cursor.fetchone())


async def lowest_levels(
    db: aiosqlite.Connection,
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
    async with db.execute(sql, [*args, limit]) as cursor:
        rows = [Level.from_row(row) for row in await cursor.fetchall()]
    return sorted(rows, key=lambda r: (r.inventory, r.store, r.model))


async def count_levels(
    db: aiosqlite.Connection, *, store: str | None = None, model: str | None = None
) -> int:
    """How many models one store has, or how many stores one model is at."""
    column, table, name = (
        ("store_id", "stores", store) if store is not None else ("model_id", "models", model)
    )
    sql = f"SELECT count(*) FROM levels WHERE {column} = (SELECT id FROM {table} WHERE name = ?)"
    async with db.execute(sql, (name,)) as cursor:
        (found,) = await cursor.fetchone()
    return found


async def load_paces(db: aiosqlite.Connection, book: PaceBook) -> None:
    """Load every stored shelf's and model's pace into `book`, for the writer to keep."""
    async with db.execute(
        "SELECT s.name, m.name, l.fast_sold, l.fast_hours, l.slow_sold, l.slow_hours, "
        "l.last_sale_at, l.inventory > 0, l.inventory FROM levels l "
        "JOIN stores s ON s.id = l.store_id JOIN models m ON m.id = l.model_id"
    ) as cursor:
        async for store, model, *pace in cursor:
            book.shelves.setdefault(model, {})[store] = Pace(*pace)
    async with db.execute(
        "SELECT m.name, p.fast_sold, p.fast_hours, p.slow_sold, p.slow_hours, p.at, p.stocked "
        "FROM model_paces p JOIN models m ON m.id = p.model_id"
    ) as cursor:
        async for model, *pace in cursor:
            book.models[model] = Pace(*pace)
    # A database from before paces were kept (migration 4) has shelves but no model paces, and
    # one written before this check may have miscounted: a model's pace must count exactly its
    # shelves holding stock, or a shelf selling out would make the count negative.
    for model, stores in book.shelves.items():
        if model not in book.models:
            book.models[model] = pooled(stores.values())
        else:
            book.models[model].stocked = sum(shelf.stocked for shelf in stores.values())


async def open_incidents(
    db: aiosqlite.Connection, channel: str | None = None, *, limit: int = 1000
) -> list[Incident]:
    """Open incidents (digests excepted), out of stock first, then low, overstock, others."""
    sql = f"""
        SELECT {INCIDENT_COLUMNS} FROM incidents
        WHERE resolved_at IS NULL AND kind != 'digest' {"AND channel = ?" if channel else ""}
        ORDER BY CASE severity WHEN 'out' THEN 0 WHEN 'low' THEN 1 WHEN 'high' THEN 2 ELSE 3 END,
                 level, id
        LIMIT ?
    """
    args = (channel, limit) if channel else (limit,)
    async with db.execute(sql, args) as cursor:
        return [incident_from_row(row) for row in await cursor.fetchall()]


async def incident(db: aiosqlite.Connection, incident_id: int) -> Incident | None:
    sql = f"SELECT {INCIDENT_COLUMNS} FROM incidents WHERE id = ?"
    async with db.execute(sql, (incident_id,)) as cursor:
        row = await cursor.fetchone()
    return incident_from_row(row) if row else None


async def channel_config(db: aiosqlite.Connection, channel_id: str) -> Channel:
    """A channel's scope, quiet hours and rules as stored (an empty channel if none)."""
    channel = Channel(channel_id)
    async with db.execute(
        "SELECT stores, models, quiet_hours FROM channels WHERE id = ?", (channel_id,)
    ) as cursor:
        row = await cursor.fetchone()
    if row is not None:
        channel.scope = Scope(scope_names(row[0]), scope_names(row[1]))
        channel.quiet = quiet_hours(row[2])
    async with db.execute("SELECT * FROM rules WHERE channel = ?", (channel_id,)) as cursor:
        for _, store, model, low, high, readings, seconds, by, at in await cursor.fetchall():
            thresholds = Thresholds(low, high, readings, seconds)
            channel.rules[(store, model)] = Rule(channel_id, store, model, thresholds, by, at)
    return channel


async def config_changes(
    db: aiosqlite.Connection, channel: str, *, limit: int = 5
) -> list[tuple[float, str, str, str]]:
    """The channel's latest configuration changes, newest first: (at, user, action, summary)."""
    sql = (
        "SELECT at, user, action, summary FROM config_changes WHERE channel = ? "
        "ORDER BY id DESC LIMIT ?"
    )
    async with db.execute(sql, (channel, limit)) as cursor:
        return [tuple(row) for row in await cursor.fetchall()]


async def sales_since(
    db: aiosqlite.Connection,
    since: float,
    *,
    stores: Collection[str] | None = None,
    models: Collection[str] | None = None,
    limit: int,
) -> tuple[list[Sale], bool]:
    """Stored sales received since `since`, oldest first, optionally within a scope; at most
    `limit` (the latest ones) and whether there were more."""
    first = await first_event_id_since(db, since)
    if first is None:
        return [], False
    where, args = ["e.id >= ?"], [first]
    for column, table, names in (("store_id", "stores", stores), ("model_id", "models", models)):
        if names is not None:
            marks = ", ".join("?" * len(names))
            where.append(f"e.{column} IN (SELECT id FROM {table} WHERE name IN ({marks}))")
            args.extend(names)
    sql = f"""
        SELECT e.at, s.name, m.name, e.inventory FROM events e
        JOIN stores s ON s.id = e.store_id JOIN models m ON m.id = e.model_id
        WHERE {" AND ".join(where)} ORDER BY e.id DESC LIMIT ?
    """
    async with db.execute(sql, [*args, limit + 1]) as cursor:
        rows = await cursor.fetchall()
    more = len(rows) > limit
    return [tuple(row) for row in reversed(rows[:limit])], more


@dataclass(frozen=True, slots=True)
class MuteRow:
    """What a channel has muted: a kind of alert for a store and model, by whom, until when."""

    kind: str
    store: str
    model: str
    by: str
    at: float
    until: float | None


async def mutes(db: aiosqlite.Connection, channel: str) -> list[MuteRow]:
    """The channel's mutes, oldest first."""
    sql = (
        "SELECT kind, store, model, muted_by, muted_at, muted_until FROM mutes "
        "WHERE channel = ? ORDER BY muted_at"
    )
    async with db.execute(sql, (channel,)) as cursor:
        return [MuteRow(*row) for row in await cursor.fetchall()]
