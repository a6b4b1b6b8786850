"""`/thresholds preview` replays a day of sales without holding anything up, one per channel."""

from __future__ import annotations

import asyncio


async def store_sales(shop, count: int) -> None:
    """`count` sales over the last hour, straight into the event log."""
    await shop.execute_many("INSERT INTO feeds VALUES (?, ?, 0)", [(1, "ws://feed/")])
    await shop.execute_many(
        "INSERT INTO stores VALUES (?, ?, 0)", [(i, f"Store {i}") for i in range(1, 21)]
    )
    await shop.execute_many(
        "INSERT INTO models VALUES (?, ?, 0)", [(i, f"M{i}") for i in range(1, 51)]
    )
    start = shop.now - 3600
    await shop.event_days(start, shop.now)
    await shop.execute_many(
        "INSERT INTO events (at, feed_id, store_id, model_id, inventory) VALUES (?, 1, ?, ?, ?)",
        ((start + n * 3600 / count, n % 20 + 1, n % 50 + 1, (n * 7919) % 30) for n in range(count)),
    )


async def test_other_commands_are_answered_while_a_preview_replays(shop):
    await store_sales(shop, 200_000)
    preview = asyncio.create_task(shop.say("thresholds", "preview low=5"))
    # The preview has replayed a first chunk of sales, and has more to do ...
    await asyncio.wait_for(_replaying(shop), 30)

    stock = await shop.say("stock", "store 7")  # ... and a command is answered meanwhile

    assert stock.text.startswith("*Stock at Store 7*")
    assert not preview.done()
    replayed = await asyncio.wait_for(preview, 120)
    assert "Replaying the last 24 h of stored sales: 200,000 sales." in replayed.text


async def test_a_second_preview_in_the_same_channel_waits_for_the_first(shop):
    await store_sales(shop, 50_000)
    first = asyncio.create_task(shop.say("thresholds", "preview low=5"))
    await asyncio.wait_for(_replaying(shop), 30)

    second = await shop.say("thresholds", "preview low=3")
    elsewhere = await shop.say("thresholds", "preview low=3", channel="C-OTHER")

    assert (
        second.text
        == ":warning: A preview for this channel is running already: its answer comes soon."
    )
    assert not elsewhere.error  # another channel's preview runs after it
    assert not (await first).error


async def _replaying(shop) -> None:
    await shop.commands.context.previews.wait_for(lambda p: p.jobs >= 1)
