"""Previews under way: one per channel at a time, and their replays (CPU, seconds at a time)
in a worker thread one after the other, off the event loop."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


class Previews:
    """The previews under way: one per channel, and their replays one at a time."""

    def __init__(self) -> None:
        self.running: set[str] = set()
        self.jobs = 0  # jobs done
        self._worker = asyncio.Semaphore(1)  # two replays at once would only share the CPU
        self._done = asyncio.Condition()

    async def work(self, job: Callable[..., T], *args: object) -> T:
        """`job(*args)` in a worker thread, after any other preview's job."""
        async with self._worker:
            result = await asyncio.to_thread(job, *args)
        async with self._done:
            self.jobs += 1
            self._done.notify_all()
        return result

    async def wait_for(self, predicate: Callable[[Previews], bool]) -> None:
        """Wait until `predicate(self)` holds after some job (wrap in a timeout)."""
        async with self._done:
            await self._done.wait_for(lambda: predicate(self))
