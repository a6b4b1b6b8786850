"""The bot's HTTP server (aiohttp), in the bot's own event loop: Slack's requests at
/slack/events in HTTP mode."""

from __future__ import annotations

import logging
from urllib.parse import parse_qsl

from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response
from slack_bolt.async_app import AsyncApp
from slack_bolt.context.async_context import AsyncBoltContext
from slack_bolt.request.async_internals import build_async_context
from slack_bolt.request.async_request import AsyncBoltRequest

log = logging.getLogger(__name__)

SLACK_PATH = "/slack/events"


class WebServer:
    """Start it, then `stop()`. Port 0 picks a free port (see `port`)."""

    def __init__(self, host: str, port: int) -> None:
        self.host = host
        self.app = web.Application()
        self._wanted_port = port
        self._runner: web.AppRunner | None = None

    def mount_slack(self, bolt: AsyncApp) -> None:
        """Serve Slack's requests (slash commands, buttons, events) to the Bolt app."""

        async def slack_events(request: web.Request) -> web.Response:
            bolt_request = AsyncBoltRequest(
                body=await request.text(), query=request.query_string, headers=request.headers
            )
            _repair_form_with_payload_in_it(bolt_request)
            return await to_aiohttp_response(await bolt.async_dispatch(bolt_request))

        self.app.router.add_post(SLACK_PATH, slack_events)

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
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None


def _repair_form_with_payload_in_it(request: AsyncBoltRequest) -> None:
    """bolt-python reads any form body containing the text "payload" as an interactive
    payload, so `/stock payload` (or a channel named payload-team) parses to nothing and is
    answered 404. A slash command's form has a `command` field and no `payload` field: read it
    as the plain form it is. The raw body, which the signature covers, is left untouched."""
    if request.body or not request.raw_body or request.content_type == "application/json":
        return
    form = dict(parse_qsl(request.raw_body, keep_blank_values=True))
    if "command" in form and "payload" not in form:
        request.body = form
        request.context = build_async_context(AsyncBoltContext({}), form)
