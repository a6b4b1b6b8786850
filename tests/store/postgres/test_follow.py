"""A standby's paces follow the leader's event log and end up as the leader's own."""

from __future__ import annotations

import asyncio
import time

from bot.core.events import SaleEvent
from bot.core.velocity import PaceBook
from bot.store.postgres.connect import connect
from bot.store.postgres.follow import Backlog, Follower
from bot.store.postgres.partitions import add_event_partitions
from tests.helpers import eventually


async def commit(conn, sales: list[tuple[str, str, int, float]]) -> None:
    """What the leader's batch writes of sales, and its notification."""
    async with conn.transaction():
        for name, table in {(s[0], "stores") for s in sales} | {(s[1], "models") for s in sales}:
            await conn.execute(
                f"INSERT INTO {table} (id, name, first_seen_at) VALUES "
                f"((SELECT coalesce(max(id), 0) + 1 FROM {table}), $1, 0) ON CONFLICT DO NOTHING",
                name,
            )
        await conn.execute("INSERT INTO feeds VALUES (1, 'ws://feed/', 0) ON CONFLICT DO NOTHING")
        for store, model, level, at in sales:
            await conn.execute(
                "INSERT INTO events (at, feed_id, store_id, model_id, inventory) VALUES ($1, 1, "
                "(SELECT id FROM stores WHERE name = $2), "
                "(SELECT id FROM models WHERE name = $3), $4)",
                at,
                store,
                model,
                level,
            )
        newest = await conn.fetchval("SELECT max(id) FROM events")
        await conn.execute("SELECT pg_notify('events', $1)", str(newest))


async def test_the_followed_paces_are_the_leaders(migrated_postgres_url):
    now = time.time()
    sales = [("Maine", "ADERI", 40 - i, now - 3600 + 60 * i) for i in range(30)]
    sales += [("Auburn", "ADERI", 9, now - 1800), ("Auburn", "MIRIRA", 3, now - 60)]
    leader = PaceBook()
    leader.record([SaleEvent(s, m, lv, at, "ws://feed/") for s, m, lv, at in sales[:20]])
    leader.record([SaleEvent(s, m, lv, at, "ws://feed/") for s, m, lv, at in sales[20:]])

    conn = await connect(migrated_postgres_url)
    # The sales reach an hour back: in the first hour of a UTC day that is yesterday, a day the
    # migration made no partition for (the writer stores sales as they come: today).
    await add_event_partitions(conn, now - 3600)
    standby = PaceBook()
    follower = Follower(migrated_postgres_url, standby, after=0, name="standby")
    following = asyncio.create_task(follower.run())
    try:
        await commit(conn, sales[:20])
        await eventually(lambda: follower.after == 20, what="the first batch")
        await commit(conn, sales[20:])
        await eventually(lambda: follower.after == len(sales), what="the second batch")
        assert follower.lag(now) == 0.0
    finally:
        following.cancel()
        await conn.close()

    assert standby.shelves == leader.shelves
    assert standby.models.keys() == leader.models.keys()
    for model, pace in leader.models.items():
        assert standby.models[model].sums() == pace.sums()


def test_the_lag_is_how_far_behind_the_copy_runs_not_how_long_it_has_been_behind():
    backlog = Backlog()
    for second in range(100):  # a commit announced every second, read 2 s later
        backlog.heard(second + 1, float(second), read=max(0, second - 2))
        backlog.read(max(0, second - 2))
    assert backlog.lag(100.0) == 3.0  # the oldest unread (event 98) was announced at 97
    backlog.read(100)
    assert backlog.lag(100.0) == 0.0
    backlog.heard(100, 101.0, read=100)  # an announcement of what was read already
    assert backlog.lag(105.0) == 0.0
