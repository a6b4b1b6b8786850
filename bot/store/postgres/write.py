"""The writer's transaction in PostgreSQL: one batch of events, levels, paces, dead letters and
alert state (bot/store/postgres/write_alerts.py), which batch it was, and (with two bots) that
its writer still leads.

Round trips are few and each carries a whole batch: the events go in with COPY, the levels in
ONE upsert over arrays (unnest), the low-levels list in one more, the model paces in one. The
statements' text never changes with the batch's size, so asyncpg's statement cache holds them
once."""

from __future__ import annotations

import asyncpg

from bot.store.batch import Batch
from bot.store.postgres.errors import Fenced
from bot.store.postgres.low_levels import sync_low_levels
from bot.store.postgres.write_alerts import write_alerts

EVENT_COLUMNS = ("at", "feed_id", "store_id", "model_id", "inventory")

# Levels and the batch's number, in one statement. A batch folds its sales per shelf, so each
# key comes once (ON CONFLICT may touch a row only once a statement).
_UPSERT_LEVELS = """
    WITH progress AS (UPDATE writer_progress SET batch = $11)
    INSERT INTO levels (store_id, model_id, inventory, last_sale_at, sale_count, first_seen_at,
                        fast_sold, fast_hours, slow_sold, slow_hours)
    SELECT * FROM unnest($1::integer[], $2::integer[], $3::integer[], $4::float8[],
                         $5::bigint[], $6::float8[], $7::float8[], $8::float8[], $9::float8[],
                         $10::float8[])
    ON CONFLICT (store_id, model_id) DO UPDATE SET
        inventory = excluded.inventory,
        last_sale_at = excluded.last_sale_at,
        sale_count = levels.sale_count + excluded.sale_count,
        fast_sold = excluded.fast_sold,
        fast_hours = excluded.fast_hours,
        slow_sold = excluded.slow_sold,
        slow_hours = excluded.slow_hours
"""
_PROGRESS = "UPDATE writer_progress SET batch = $1"
# Fencing: the term this writer leads in must still be the current one. FOR SHARE holds it so
# until the commit: a process taking the lead (which raises the term) waits for this batch.
_FENCE = "SELECT term FROM leadership WHERE id = 1 FOR SHARE"
# A standby follows the event log (bot/store/postgres/follow.py): told at commit the newest id.
_ANNOUNCE = "SELECT pg_notify('events', currval(pg_get_serial_sequence('events', 'id'))::text)"
_UPSERT_MODEL_PACES = """
    INSERT INTO model_paces (model_id, fast_sold, fast_hours, slow_sold, slow_hours, at, stocked)
    SELECT * FROM unnest($1::integer[], $2::float8[], $3::float8[], $4::float8[], $5::float8[],
                         $6::float8[], $7::integer[])
    ON CONFLICT (model_id) DO UPDATE SET
        fast_sold = excluded.fast_sold, fast_hours = excluded.fast_hours,
        slow_sold = excluded.slow_sold, slow_hours = excluded.slow_hours,
        at = excluded.at, stocked = excluded.stocked
"""
_INSERT_DEAD = """
    INSERT INTO dead_letters (at, feed_id, reason, detail, sample, size)
    SELECT * FROM unnest($1::float8[], $2::integer[], $3::text[], $4::text[], $5::text[],
                         $6::integer[])
"""
_PRUNE_DEAD = "DELETE FROM dead_letters WHERE id <= (SELECT max(id) FROM dead_letters) - $1"
_COUNT_BAD = """
    INSERT INTO bad_frame_counts (feed_id, reason, count, last_at)
    SELECT * FROM unnest($1::integer[], $2::text[], $3::bigint[], $4::float8[])
    ON CONFLICT (feed_id, reason) DO UPDATE SET
        count = bad_frame_counts.count + excluded.count, last_at = excluded.last_at
"""
_INSERT_NAMES = {
    table: f"INSERT INTO {table} (id, {column}, first_seen_at) "
    "SELECT * FROM unnest($1::integer[], $2::text[], $3::float8[])"
    for table, column in (("feeds", "url"), ("stores", "name"), ("models", "name"))
}


def columns(rows: list) -> list[list]:
    """Rows turned into one list per column: the arrays unnest takes."""
    return [list(column) for column in zip(*rows, strict=True)] if rows else []


async def write_batch(
    conn: asyncpg.Connection, batch: Batch, number: int, term: int | None = None
) -> None:
    """Write `batch` in one transaction, noting it as the writer's batch `number`; with a
    `term`, only while that is still the leadership's (else Fenced, and nothing is written)."""
    async with conn.transaction():
        if term is not None and (current := await conn.fetchval(_FENCE)) != term:
            raise Fenced(f"another process leads now (term {current}; this writer's: {term})")
        # Names first: every other row of the batch refers to them.
        for table, rows in batch.new_names:
            await conn.execute(_INSERT_NAMES[table], *columns(rows))
        if batch.event_rows:
            await conn.copy_records_to_table(
                "events", records=batch.event_rows, columns=EVENT_COLUMNS
            )
            levels = columns(batch.level_rows)
            await conn.execute(_UPSERT_LEVELS, *levels, number)
            await sync_low_levels(conn, levels[0], levels[1], levels[2])
            if batch.model_pace_rows:
                await conn.execute(_UPSERT_MODEL_PACES, *columns(batch.model_pace_rows))
        else:
            await conn.execute(_PROGRESS, number)
        if batch.dead_rows:
            await conn.execute(_INSERT_DEAD, *columns(batch.dead_rows))
            await conn.execute(_PRUNE_DEAD, batch.dead_letter_limit)
            await conn.execute(_COUNT_BAD, *columns(batch.bad_counts))
        if batch.alerts is not None:
            await write_alerts(conn, batch.alerts, term or 0)
        if batch.event_rows:
            await conn.execute(_ANNOUNCE)


async def last_batch(conn: asyncpg.Connection) -> int:
    """The number of the last batch committed."""
    return await conn.fetchval("SELECT batch FROM writer_progress")
