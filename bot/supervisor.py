"""Keeps the bot's long-lived tasks running, so that none goes silent unnoticed.

Each task is meant to run until the bot stops. One that ends anyway (with an error, or without
one) is logged with its error and started again after a pause that doubles up to a minute; a
vital one (the writer, without which nothing is stored or sent) stops the bot instead, which then
exits non-zero for its service manager to restart it. Nothing ends silently."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import Counter
from collections.abc import Awaitable, Callable

log = logging.getLogger(__name__)

RESTART_FIRST = 1.0
RESTART_CAP = 60.0


class Supervisor:
    """Start tasks with `run`, wait on `failed`, `stop` them all."""

    def __init__(self, failed: asyncio.Future[str] | None = None) -> None:
        """`failed`: a future to share with another supervisor (the leader's tasks stop the
        bot as the bot's own do); a new one if None."""
        self.restarts: Counter[str] = Counter()  # by task name
        self.failed: asyncio.Future[str] = (
            failed if failed is not None else asyncio.get_running_loop().create_future()
        )
        self._tasks: dict[str, asyncio.Task[None]] = {}

    def run(self, name: str, job: Callable[[], Awaitable[None]], *, vital: bool = False) -> None:
        """Run `job()` as task `name`, for as long as the bot runs."""
        self._tasks[name] = asyncio.create_task(self._keep(name, job, vital), name=name)

    def watch(self, name: str, task: asyncio.Task) -> None:
        """A vital task started elsewhere: if it ends, the bot stops."""

        async def wait() -> None:
            await asyncio.wait({task})  # returns when it ends, however it ends
            if not task.cancelled() and not self.failed.done():
                self._died(name, task.exception(), vital=True)

        self._tasks[name] = asyncio.create_task(wait(), name=f"watch {name}")

    async def stop(self) -> None:
        """Cancel every task (the tasks `watch`ed are stopped by their owners)."""
        tasks = list(self._tasks.values())
        self._tasks.clear()
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task

    async def _keep(self, name: str, job: Callable[[], Awaitable[None]], vital: bool) -> None:
        pause = RESTART_FIRST
        while True:
            error: BaseException | None = None
            try:
                await job()
            except asyncio.CancelledError:
                raise
            except Exception as failure:  # any failure: told, and the task starts again
                error = failure
            self._died(name, error, vital=vital)
            if vital:
                return
            self.restarts[name] += 1
            await asyncio.sleep(pause)
            pause = min(pause * 2, RESTART_CAP)

    def _died(self, name: str, error: BaseException | None, *, vital: bool) -> None:
        what = "stopping the bot" if vital else "starting it again"
        log.error(
            f"task {name!r} ended unexpectedly; {what}",
            extra={"task": name, "error": str(error) if error else "it returned"},
            exc_info=error,
        )
        if vital and not self.failed.done():
            self.failed.set_result(name)
