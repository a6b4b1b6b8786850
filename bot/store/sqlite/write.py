"""The writer's transaction in SQLite: one batch of events, levels, paces, dead letters and
alert state, and the retention sweep of the event log."""

from __future__ import annotations

import aiosqlite

from bot.store.batch import AlertRows, Batch
from bot.store.codec import INCIDENT_COLUMNS, RULE_COLUMNS, SUGGESTION_COLUMNS, TRANSFER_COLUMNS

RETENTION_CHUNK = 20_000  # rows deleted per transaction, to keep each sweep short

_UPSERT_LEVEL = """
    INSERT INTO levels (store_id, model_id, inventory, last_sale_at, sale_count, first_seen_at,
                        fast_sold, fast_hours, slow_sold, slow_hours)
    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
    ON CONFLICT (store_id, model_id) DO UPDATE SET
        inventory = excluded.inventory,
        last_sale_at = excluded.last_sale_at,
        sale_count = levels.sale_count + excluded.sale_count,
        fast_sold = excluded.fast_sold,
        fast_hours = excluded.fast_hours,
        slow_sold = excluded.slow_sold,
        slow_hours = excluded.slow_hours
"""
_UPSERT_MODEL_PACE = "INSERT OR REPLACE INTO model_paces VALUES (?, ?, ?, ?, ?, ?, ?)"
_INSERT_EVENT = (
    "INSERT INTO events (at, feed_id, store_id, model_id, inventory) VALUES (?, ?, ?, ?, ?)"
)
_INSERT_DEAD = (
    "INSERT INTO dead_letters (at, feed_id, reason, detail, sample, size) VALUES (?, ?, ?, ?, ?, ?)"
)
_COUNT_BAD = """
    INSERT INTO bad_frame_counts (feed_id, reason, count, last_at) VALUES (?, ?, ?, ?)
    ON CONFLICT (feed_id, reason) DO UPDATE SET
        count = bad_frame_counts.count + excluded.count, last_at = excluded.last_at
"""
_INSERT_NAME = {
    table: f"INSERT INTO {table} (id, {column}, first_seen_at) VALUES (?, ?, ?)"
    for table, column in (("feeds", "url"), ("stores", "name"), ("models", "name"))
}


async def write_batch(db: aiosqlite.Connection, batch: Batch) -> None:
    """Write `batch` in one transaction (BEGIN IMMEDIATE: the lock is taken at once)."""
    await db.execute("BEGIN IMMEDIATE")
    try:
        for table, rows in batch.new_names:
            await db.executemany(_INSERT_NAME[table], rows)
        if batch.event_rows:
            await db.executemany(_INSERT_EVENT, batch.event_rows)
            await db.executemany(_UPSERT_LEVEL, batch.level_rows)
            await db.executemany(_UPSERT_MODEL_PACE, batch.model_pace_rows)
        if batch.dead_rows:
            await db.executemany(_INSERT_DEAD, batch.dead_rows)
            await db.execute(
                "DELETE FROM dead_letters WHERE id <= (SELECT max(id) FROM dead_letters) - ?",
                (batch.dead_letter_limit,),
            )
            await db.executemany(_COUNT_BAD, batch.bad_counts)
        if batch.alerts is not None:
            await _write_alerts(db, batch.alerts)
        await db.execute("COMMIT")
    except BaseException:
        if db.in_transaction:
            await db.execute("ROLLBACK")
        raise


async def _write_alerts(db: aiosqlite.Connection, rows: AlertRows) -> None:
    """The alert processor's rows, inside the open transaction."""
    await _replace(db, "incidents", INCIDENT_COLUMNS, rows.incidents)
    if rows.machines:
        await db.executemany(
            "INSERT OR REPLACE INTO alert_machines VALUES (?, ?, ?, ?, ?)", rows.machines
        )
    if rows.machines_gone:
        await db.executemany(
            "DELETE FROM alert_machines WHERE channel = ? AND store = ? AND model = ? AND side = ?",
            rows.machines_gone,
        )
    if rows.mutes:
        await db.executemany(
            "INSERT OR REPLACE INTO mutes (channel, kind, store, model, muted_by, muted_at, "
            "muted_until) VALUES (?, ?, ?, ?, ?, ?, ?)",
            rows.mutes,
        )
    if rows.mutes_gone:
        await db.executemany(
            "DELETE FROM mutes WHERE channel = ? AND kind = ? AND store = ? AND model = ?",
            rows.mutes_gone,
        )
    if rows.notifiers:
        await db.executemany("INSERT OR REPLACE INTO notifiers VALUES (?, ?)", rows.notifiers)
    if rows.outbox:
        await db.executemany(
            "INSERT INTO outbox (id, created_at, channel, op, incident_id, payload) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            [(r.id, r.created_at, r.channel, r.op, r.incident_id, r.payload) for r in rows.outbox],
        )
    if rows.changes:
        await db.executemany(
            "INSERT INTO config_changes (at, channel, user, action, summary) "
            "VALUES (?, ?, ?, ?, ?)",
            rows.changes,
        )
    if rows.channels:
        await db.executemany(
            "INSERT OR REPLACE INTO channels VALUES (?, ?, ?, ?, ?)", rows.channels
        )
        await db.executemany(
            "DELETE FROM rules WHERE channel = ?", [(c[0],) for c in rows.channels]
        )
        await _replace(db, "rules", RULE_COLUMNS, rows.rules)
    if rows.homes:
        await db.executemany("INSERT OR REPLACE INTO home_stores VALUES (?, ?, ?)", rows.homes)
    await _replace(db, "suggestions", SUGGESTION_COLUMNS, rows.suggestions)
    if rows.suggestions_gone:
        await db.executemany("DELETE FROM suggestions WHERE id = ?", rows.suggestions_gone)
    await _replace(db, "transfers", TRANSFER_COLUMNS, rows.transfers)


async def _replace(db: aiosqlite.Connection, table: str, columns: str, rows: list[tuple]) -> None:
    """INSERT OR REPLACE `rows` (tuples in the order of `columns`) into `table`."""
    if rows:
        marks = ", ".join("?" * len(rows[0]))
        await db.executemany(f"INSERT OR REPLACE INTO {table} ({columns}) VALUES ({marks})", rows)


async def sweep_events(db: aiosqlite.Connection, first_kept: int | None) -> tuple[int, bool]:
    """Delete events before id `first_kept` (None: all of them), at most RETENTION_CHUNK in one
    statement; returns how many were deleted and whether more are due."""
    async with db.execute("SELECT min(id), max(id) FROM events") as cursor:
        oldest, newest = await cursor.fetchone()
    if oldest is None:
        return 0, False
    end = min(newest + 1 if first_kept is None else first_kept, oldest + RETENTION_CHUNK)
    cursor = await db.execute("DELETE FROM events WHERE id < ?", (end,))
    return cursor.rowcount, end == oldest + RETENTION_CHUNK
