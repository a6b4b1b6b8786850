"""Work a listener starts after acknowledging, kept track of so that shutdown can wait for it."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable

log = logging.getLogger(__name__)


class Background:
    """Tasks started after an acknowledgement; their failures are logged, never lost."""

    def __init__(self) -> None:
        self._tasks: set[asyncio.Task] = set()

    def start(self, work: Awaitable[None]) -> None:
        task = asyncio.ensure_future(work)
        self._tasks.add(task)
        task.add_done_callback(self._done)

    def _done(self, task: asyncio.Task) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("Slack work after the acknowledgement failed", exc_info=task.exception())

    async def wait(self, within: float) -> None:
        """Let what is under way finish, for at most `within` seconds."""
        if self._tasks:
            await asyncio.wait(set(self._tasks), timeout=within)
