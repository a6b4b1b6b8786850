"""The writer's queue: bounded, FIFO, and an item handed to put() is never lost."""

import asyncio

from bot.store.batch_queue import BatchQueue
from tests.helpers import eventually


async def test_items_come_out_in_order_in_batches_of_at_most_the_limit():
    queue: BatchQueue[int] = BatchQueue(10)
    for i in range(7):
        assert queue.put_nowait(i)

    assert await queue.get_batch(3) == [0, 1, 2]
    assert await queue.get_batch(10) == [3, 4, 5, 6]
    assert len(queue) == 0


async def test_put_nowait_refuses_when_full_and_queues_nothing():
    queue: BatchQueue[int] = BatchQueue(2)
    assert queue.put_nowait(1)
    assert queue.put_nowait(2)

    assert not queue.put_nowait(3)
    assert queue.full()
    assert await queue.get_batch(10) == [1, 2]


async def test_a_getter_waits_for_the_first_item():
    queue: BatchQueue[str] = BatchQueue(5)
    getter = asyncio.create_task(queue.get_batch(5))
    await eventually(lambda: queue.consumer_waiting, what="the getter waiting")
    assert not getter.done()

    queue.put_nowait("a")

    assert await asyncio.wait_for(getter, 1) == ["a"]


async def test_waiting_producers_keep_their_turn_and_no_one_jumps_the_line():
    queue: BatchQueue[int] = BatchQueue(2)
    queue.put_nowait(1)
    queue.put_nowait(2)
    third = asyncio.create_task(queue.put(3))
    fourth = asyncio.create_task(queue.put(4))
    await eventually(lambda: queue.waiting == 2, what="both producers in line")
    assert not queue.put_nowait(5)  # others are waiting: no overtaking

    assert await queue.get_batch(1) == [1]
    assert await queue.get_batch(10) == [2, 3]
    assert await queue.get_batch(10) == [4]
    await asyncio.gather(third, fourth)


async def test_an_item_is_queued_even_if_its_producer_is_cancelled_while_waiting():
    queue: BatchQueue[int] = BatchQueue(1)
    queue.put_nowait(1)
    producer = asyncio.create_task(queue.put(2))
    await eventually(lambda: queue.waiting == 1, what="the producer in line")
    producer.cancel()
    await asyncio.gather(producer, return_exceptions=True)

    assert await queue.get_batch(5) == [1]
    assert await queue.get_batch(5) == [2]
