"""The bot's HTTP server (aiohttp), in the bot's own event loop: Slack's requests at
/slack/events in HTTP mode.

Nothing reaches Bolt, or any parser, before Slack's signature is checked (bot.core.signing):
the timestamp header first, then at most MAX_SLACK_BODY bytes of body. A refusal is answered
401 (400 for a signed body that does not parse, 413 for one too large, 503 when several
replicas share a database that cannot say whether another accepted it) and logged without the
body or any header's value, the first of each kind a minute in full and the rest counted in
one summary line: a stream of forged requests costs a few log lines a minute, and no text a
sender chose ever reaches the log.
"""

from __future__ import annotations

import asyncio
import json
import logging
import math
import time
from collections.abc import Awaitable, Callable
from urllib.parse import parse_qsl

from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response
from slack_bolt.async_app import AsyncApp
from slack_bolt.context.async_context import AsyncBoltContext
from slack_bolt.request.async_internals import build_async_context
from slack_bolt.request.async_request import AsyncBoltRequest

from bot.core.signing import MAX_AGE_SECONDS, ReplayGuard, refusal, stamp_refusal
from bot.core.throttle import LogThrottle

log = logging.getLogger(__name__)

SLACK_PATH = "/slack/events"
# Slack's largest bodies are interactive payloads carrying a whole message or App Home view:
# a few hundred KB at worst.
MAX_SLACK_BODY = 1024 * 1024
REFUSAL_LOG_WINDOW = 60.0
# Signatures every replica accepted: (signature, until when it is valid) -> True the first time.
SharedReplays = Callable[[str, float], Awaitable[bool]]


class WebServer:
    """Start it, then `stop()`. Port 0 picks a free port (see `port`)."""

    def __init__(self, host: str, port: int) -> None:
        self.host = host
        self.app = web.Application()
        self._wanted_port = port
        self._runner: web.AppRunner | None = None
        self._gate: SlackGate | None = None

    def mount_slack(
        self, bolt: AsyncApp, *, signing_secret: str, shared: SharedReplays | None = None
    ) -> None:
        """Serve Slack's requests (slash commands, buttons, events) to the Bolt app, each
        checked against `signing_secret` first; `shared` remembers the signatures every
        replica accepted (None: this process is the only one)."""
        self._gate = SlackGate(bolt, signing_secret, shared=shared)
        self.app.router.add_post(SLACK_PATH, self._gate.handle)

    async def start(self) -> None:
        self._runner = web.AppRunner(self.app, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, self.host, self._wanted_port).start()
        log.info("HTTP server listening", extra={"host": self.host, "port": self.port})

    @property
    def port(self) -> int:
        if self._runner is None:
            return self._wanted_port
        return self._runner.addresses[0][1]

    async def stop(self) -> None:
        if self._gate is not None:
            self._gate.close()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None


class SlackGate:
    """/slack/events: a request goes to Bolt only if Slack signed it within five minutes and
    the same signed bytes were not accepted before.

    A replay gets 401, not a 200 with no effect: Slack signs every delivery when it sends it
    (its retries come a minute and five minutes later, which the five-minute rule would refuse
    were they signed the first time), so a second copy is not from Slack, and it is refused as
    anything else Slack did not sign, and counted as "replayed" in the log. The original's
    answer is the one that reaches Slack either way."""

    def __init__(
        self,
        bolt: AsyncApp,
        signing_secret: str,
        *,
        shared: SharedReplays | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if not signing_secret.strip():  # anyone can sign with an empty key
            raise ValueError("a signing secret is needed to serve Slack over HTTP")
        self._bolt = bolt
        self._secret = signing_secret.encode()
        self._clock = clock
        self._replays = ReplayGuard()
        self._shared = shared
        self._throttle = LogThrottle(REFUSAL_LOG_WINDOW)
        self._flush: asyncio.TimerHandle | None = None
        # Bolt checks the signature again; should it ever refuse what was accepted here (the
        # five minutes ending in between), its INFO line would print the body.
        logging.getLogger("slack_bolt.RequestVerification").setLevel(logging.WARNING)

    async def handle(self, request: web.Request) -> web.StreamResponse:
        now = self._clock()
        headers = request.headers
        timestamp = headers.get("X-Slack-Request-Timestamp", "")
        problem = stamp_refusal(timestamp, now)
        if problem is not None:
            return self._refuse(request, 401, problem)
        body = await _read_at_most(request, MAX_SLACK_BODY)
        if body is None:
            return self._refuse(request, 413, "too_large")
        signature = headers.get("X-Slack-Signature", "")
        problem = refusal(self._secret, timestamp, signature, body, now)
        if problem is not None:
            return self._refuse(request, 401, problem)
        if not self._replays.first_time(signature, int(timestamp), now):
            return self._refuse(request, 401, "replayed")
        if self._shared is not None:
            try:
                first = await self._shared(signature, int(timestamp) + MAX_AGE_SECONDS)
            except Exception as error:  # no way to know it is not a replay: refused
                log.warning("signatures cannot be checked", extra={"error": str(error)})
                return self._refuse(request, 503, "replay_check_failed")
            if not first:
                return self._refuse(request, 401, "replayed")
        try:
            text = body.decode()
        except UnicodeDecodeError:
            return self._refuse(request, 400, "not_utf8")
        problem, form = _parsed(text, request.content_type)
        if problem is not None:
            return self._refuse(request, 400, problem)
        bolt_request = AsyncBoltRequest(body=text, query=request.query_string, headers=headers)
        _repair_form_with_payload_in_it(bolt_request, form)
        try:
            answer = await self._bolt.async_dispatch(bolt_request)
        except Exception as error:  # Bolt choked on a signed body of a shape it did not expect
            log.warning(
                "a signed Slack request could not be handled",
                extra={"error": type(error).__name__, "type": bolt_request.body.get("type")},
            )
            return web.json_response({"error": "malformed request"}, status=400)
        return await to_aiohttp_response(answer)

    def close(self) -> None:
        """Tell what the throttle still holds, and stop its timer."""
        if self._flush is not None:
            self._flush.cancel()
            self._flush = None
        self._tell_summary(force=True)

    def _refuse(self, request: web.Request, status: int, reason: str) -> web.Response:
        now = self._clock()
        self._tell_summary(force=False)
        if self._throttle.admit(reason, now):
            log.warning(
                "request to /slack/events refused",
                extra={"reason": reason, "status": status, "peer": request.remote},
            )
        elif self._flush is None:
            loop = asyncio.get_running_loop()
            self._flush = loop.call_later(REFUSAL_LOG_WINDOW, self._flush_later)
        error = "invalid request" if status == 401 else reason
        return web.json_response({"error": error}, status=status)

    def _flush_later(self) -> None:
        self._flush = None
        self._tell_summary(force=True)

    def _tell_summary(self, *, force: bool) -> None:
        # Forced (the window's timer, or closing), whatever was counted is told now.
        counts = self._throttle.summary(math.inf if force else self._clock())
        if counts:
            fields = {f"refused_{reason}": count for reason, count in sorted(counts.items())}
            log.warning("more requests to /slack/events refused", extra=fields)


async def _read_at_most(request: web.Request, limit: int) -> bytes | None:
    """The whole body, or None as soon as it is over `limit` bytes (nothing more is read)."""
    if request.content_length is not None and request.content_length > limit:
        return None
    chunks, size = [], 0
    async for chunk in request.content.iter_any():
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


def _parsed(text: str, content_type: str) -> tuple[str | None, dict[str, str] | None]:
    """Why a signed body cannot be what Slack sends (None if it can), and its form fields
    when it is a form. Bolt would raise on these, and aiohttp answer 500 with a traceback."""
    if content_type == "application/json":
        return _object_refusal(text, "body"), None
    form = dict(parse_qsl(text, keep_blank_values=True))
    if "payload" in form:
        return _object_refusal(form["payload"], "payload"), form
    return None, form


def _object_refusal(text: str, what: str) -> str | None:
    try:
        value = json.loads(text)
    except ValueError:
        return f"{what}_not_json"
    if not isinstance(value, dict):
        return f"{what}_not_an_object"
    return _routing_refusal(value)


def _routing_refusal(value: dict) -> str | None:
    """What Bolt reads to route a request, in the shape it assumes: anything else raises in
    its matchers (`"actions": "x"`, an action without `action_id`, `"event": 5`)."""
    if not isinstance(value.get("type", ""), str):
        return "type_not_text"
    event = value.get("event", {})
    if not (isinstance(event, dict) and isinstance(event.get("type", ""), str)):
        return "event_malformed"
    actions = value.get("actions", [{"action_id": ""}])
    if not (
        isinstance(actions, list)
        and actions
        and all(isinstance(a, dict) and isinstance(a.get("action_id"), str) for a in actions)
    ):
        return "actions_malformed"
    return None


def _repair_form_with_payload_in_it(request: AsyncBoltRequest, form: dict[str, str] | None) -> None:
    """bolt-python reads any form body containing the text "payload" as an interactive
    payload, so `/stock payload` (or a channel named payload-team) parses to nothing and is
    answered 404. A slash command's form has a `command` field and no `payload` field: read it
    as the plain form it is. The raw body, which the signature covers, is left untouched."""
    if request.body or not form:
        return
    if "command" in form and "payload" not in form:
        request.body = form
        request.context = build_async_context(AsyncBoltContext({}), form)
