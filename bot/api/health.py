"""/healthz (the process answers) and /readyz (it can do its job: the database answers, every
feed is connected and fresh, Slack accepts the token when one is set)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Sequence

import orjson
from aiohttp import web

from bot.core.feed_health import FeedHealth, FeedState

CHECK_WITHIN = 2.0  # seconds a readiness check may take
SLACK_CHECK_EVERY = 60.0  # a successful auth.test is trusted this long


class Health:
    """Liveness and readiness. `database_check` asks the database a trivial question;
    `feeds` gives each feed's shown name and health; `slack_check` calls auth.test (None when
    Slack is not set); `slack_problems` says what Slack refuses now; `delivery` says whether
    alerts reach Slack in time ({"ok", "detail"}); `role` whether this process leads or stands
    by, when several bots share a database ({"ok", "detail"})."""

    def __init__(
        self,
        database_check: Callable[[], Awaitable[object]],
        feeds: Callable[[], Sequence[tuple[str, FeedHealth]]],
        *,
        slack_check: Callable[[], Awaitable[None]] | None = None,
        slack_problems: Callable[[], dict[str, str]] = dict,
        delivery: Callable[[float], dict] | None = None,
        role: Callable[[float], dict] | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._database_check = database_check
        self._feeds = feeds
        self._slack_check = slack_check
        self._slack_problems = slack_problems
        self._delivery = delivery
        self._role = role
        self._clock = clock
        self._started = clock()
        self._slack_ok_until = 0.0

    def mount(self, app: web.Application) -> None:
        app.router.add_get("/healthz", self.healthz, allow_head=False)
        app.router.add_get("/readyz", self.readyz, allow_head=False)

    async def healthz(self, _request: web.Request) -> web.Response:
        """The event loop runs and answers: the process is alive."""
        return _json({"status": "alive", "uptime_s": round(self._clock() - self._started, 1)})

    async def readyz(self, _request: web.Request) -> web.Response:
        checks = await self.checks()
        ready = all(check["ok"] for check in checks.values())
        return _json({"ready": ready, "checks": checks}, 200 if ready else 503)

    async def checks(self) -> dict[str, dict]:
        """Each check as {"ok": bool, "detail": str}."""
        now = self._clock()
        checks = {"database": await self._database()}
        for name, health in self._feeds():
            live = health.state is FeedState.LIVE
            detail = "connected, messages flowing" if live else health.state.value
            if not live and health.last_error:
                detail += f": {health.last_error}"
            checks[f"feed {name}"] = {"ok": live, "detail": detail}
        if self._slack_check is not None:
            checks["slack"] = await self._slack(now)
        if self._delivery is not None:
            checks["delivery"] = self._delivery(now)
        if self._role is not None:
            checks["role"] = self._role(now)
        return checks

    async def _database(self) -> dict:
        try:
            async with asyncio.timeout(CHECK_WITHIN):
                await self._database_check()
        except Exception as error:  # any failure is an answer here: not ready
            return {"ok": False, "detail": f"no answer: {str(error) or 'timed out'}"}
        return {"ok": True, "detail": "answers"}

    async def _slack(self, now: float) -> dict:
        refused = self._slack_problems().get("*")
        if refused:
            return {"ok": False, "detail": f"Slack refuses the token: {refused}"}
        if now < self._slack_ok_until:
            return {"ok": True, "detail": "token accepted"}
        try:
            async with asyncio.timeout(CHECK_WITHIN):
                await self._slack_check()
        except Exception as error:  # any failure is an answer here: not ready
            return {"ok": False, "detail": f"auth.test failed: {error or type(error).__name__}"}
        self._slack_ok_until = now + SLACK_CHECK_EVERY
        return {"ok": True, "detail": "token accepted"}


def _json(body: dict, status: int = 200) -> web.Response:
    return web.Response(body=orjson.dumps(body), status=status, content_type="application/json")
