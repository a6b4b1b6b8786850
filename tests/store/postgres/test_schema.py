"""What the PostgreSQL schema promises: day partitions of the event log, HOT level updates, the
low-levels list, ids never given twice, and rows as the shared codec writes them."""

import random
import time

import asyncpg
import pytest

from bot.core.alerting.incidents import Incident, Kind
from bot.core.transfers.book import Status, Suggested, Transfer
from bot.store.codec import (
    INCIDENT_COLUMNS,
    SUGGESTION_COLUMNS,
    TRANSFER_COLUMNS,
    incident_from_row,
    incident_row,
    suggestion_from_row,
    suggestion_row,
    transfer_from_row,
    transfer_row,
)
from bot.store.postgres.connect import connect
from bot.store.postgres.ids import next_id
from bot.store.postgres.low_levels import sync_low_levels
from bot.store.postgres.partitions import DAY, add_event_partitions, drop_event_partitions
from tests.helpers import move

EVENT_COLUMNS = ["at", "feed_id", "store_id", "model_id", "inventory"]
# The level upsert as the writer will send it: one statement over arrays.
UPSERT_LEVELS = """
    INSERT INTO levels (store_id, model_id, inventory, last_sale_at, sale_count, first_seen_at)
    SELECT s, m, i, at, 1, at FROM unnest($1::integer[], $2::integer[], $3::integer[],
                                          $4::double precision[]) AS b (s, m, i, at)
    ON CONFLICT (store_id, model_id) DO UPDATE SET
        inventory = excluded.inventory,
        last_sale_at = excluded.last_sale_at,
        sale_count = levels.sale_count + 1
"""


@pytest.fixture
async def db(migrated_postgres_url):
    conn = await connect(migrated_postgres_url)
    yield conn
    await conn.close()


def day_of(at: float) -> str:
    return time.strftime("events_%Y%m%d", time.gmtime(at))


async def test_events_land_in_their_days_partition_and_old_days_are_dropped_whole(db):
    now = time.time()
    created = await add_event_partitions(db, now - 3 * DAY, days_ahead=2)
    assert created == [day_of(now - n * DAY) for n in (3, 2, 1)]  # today's came with migrate
    sales = [(now - n * DAY, 1, 1, 1, 10 - n) for n in (3, 2, 1, 0)]
    await db.copy_records_to_table("events", records=sales, columns=EVENT_COLUMNS)

    placed = await db.fetch("SELECT id, tableoid::regclass::text AS part FROM events ORDER BY id")
    assert [r["part"] for r in placed] == [day_of(now - n * DAY) for n in (3, 2, 1, 0)]
    assert [r["id"] for r in placed] == sorted(r["id"] for r in placed)

    dropped = await drop_event_partitions(db, now - 2 * DAY)  # retention of two days

    assert dropped == [day_of(now - 3 * DAY)]  # the day partly within two days is kept
    left = await db.fetch("SELECT inventory FROM events ORDER BY id")
    assert [r["inventory"] for r in left] == [8, 9, 10]
    assert await drop_event_partitions(db, now - 2 * DAY) == []


async def test_reading_since_a_time_reads_only_the_days_since(db):
    now = time.time()
    await add_event_partitions(db, now - 3 * DAY, days_ahead=3)

    since = now  # not a minute earlier: just after midnight that is yesterday
    plan = await db.fetch(f"EXPLAIN SELECT id FROM events WHERE at >= {since} ORDER BY at")
    scanned = "\n".join(line for (line,) in plan)

    assert day_of(now) in scanned
    assert day_of(now - DAY) not in scanned
    assert day_of(now - 3 * DAY) not in scanned


async def test_a_sale_on_a_day_without_partition_is_refused_not_lost_silently(db):
    later = time.time() + 30 * DAY
    with pytest.raises(asyncpg.CheckViolationError, match="no partition"):
        await db.copy_records_to_table(
            "events", records=[(later, 1, 1, 1, 5)], columns=EVENT_COLUMNS
        )


async def test_level_updates_are_hot(db):
    shelves = 40
    stores, models = list(range(1, shelves + 1)), [7] * shelves
    await db.execute(UPSERT_LEVELS, stores, models, [50] * shelves, [1.0] * shelves)
    for round_ in range(3):
        levels = [random.randrange(0, 100) for _ in stores]
        await db.execute(UPSERT_LEVELS, stores, models, levels, [2.0 + round_] * shelves)
    await db.execute("SELECT pg_stat_force_next_flush()")

    stats = await db.fetchrow(
        "SELECT n_tup_upd, n_tup_hot_upd FROM pg_stat_user_tables WHERE relname = 'levels'"
    )
    assert stats["n_tup_upd"] == 3 * shelves
    assert stats["n_tup_hot_upd"] == stats["n_tup_upd"]


async def test_low_levels_lists_exactly_the_levels_at_or_below_twenty(db):
    rng = random.Random(5)
    shelves = [(s, m) for s in range(1, 21) for m in range(1, 11)]
    for batch in range(6):
        chosen = rng.sample(shelves, 120)
        levels = [rng.randrange(0, 60) for _ in chosen]
        stores, models = [s for s, _ in chosen], [m for _, m in chosen]
        async with db.transaction():
            await db.execute(UPSERT_LEVELS, stores, models, levels, [float(batch)] * len(chosen))
            await sync_low_levels(db, stores, models, levels)

        low = await db.fetch("SELECT store_id, model_id, inventory FROM low_levels")
        expected = await db.fetch(
            "SELECT store_id, model_id, inventory FROM levels WHERE inventory <= 20"
        )
        assert sorted(map(tuple, low)) == sorted(map(tuple, expected))

    with pytest.raises(asyncpg.CheckViolationError):
        await db.execute("INSERT INTO low_levels VALUES (99, 99, 21)")


async def test_an_id_the_engine_gave_is_never_given_again(db):
    row = suggestion_row(Suggested(41, move(), 1000.0))
    marks = ", ".join(f"${n}" for n in range(1, len(row) + 1))
    await db.execute(f"INSERT INTO suggestions ({SUGGESTION_COLUMNS}) VALUES ({marks})", *row)
    await db.execute("DELETE FROM suggestions WHERE id = 41")

    assert await next_id(db, "suggestions") == 42
    by_default = await db.fetchval(
        "INSERT INTO suggestions (model, source, target, quantity, why, urgency, by_rate, "
        "source_before, source_after, target_before, target_after, source_level, "
        "target_level, planned_at) VALUES ('M', 'A', 'B', 2, 'why', 1, true, 0, 0, 0, 0, 0, 0, 0) "
        "RETURNING id"
    )
    assert by_default == 42
    assert await next_id(db, "outbox") == 1


async def test_the_shared_codecs_rows_go_in_and_come_back_as_they_were(db):
    suggested = Suggested(3, move(), 1000.0)
    transfer = Transfer(
        5, "ADERI", "Maine", "Auburn", 6, "why", Status.ACCEPTED, "U1", 1001.0, 40, 3
    )
    incident = Incident(9, "C1", Kind.LOW, "Maine", "ADERI", None, 10.0, 12.0, level=3, threshold=5)
    incident.detail = {"readings": 2}
    for table, columns, row in (
        ("suggestions", SUGGESTION_COLUMNS, suggestion_row(suggested)),
        ("transfers", TRANSFER_COLUMNS, transfer_row(transfer)),
        ("incidents", INCIDENT_COLUMNS, incident_row(incident)),
    ):
        marks = ", ".join(f"${n}" for n in range(1, len(row) + 1))
        await db.execute(f"INSERT INTO {table} ({columns}) VALUES ({marks})", *row)

    assert (
        suggestion_from_row(await db.fetchrow(f"SELECT {SUGGESTION_COLUMNS} FROM suggestions"))
        == suggested
    )
    assert (
        transfer_from_row(await db.fetchrow(f"SELECT {TRANSFER_COLUMNS} FROM transfers"))
        == transfer
    )
    assert (
        incident_from_row(await db.fetchrow(f"SELECT {INCIDENT_COLUMNS} FROM incidents"))
        == incident
    )
