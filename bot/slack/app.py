"""The Slack app on Bolt (AsyncApp): slash commands, buttons and the App Home, the same
listeners in Socket Mode and over HTTP. COMMANDS, ACTIONS and EVENTS are exactly what is
registered; the manifests in manifests/ declare the same sets, and a test holds them together."""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Iterator

from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from bot.commands.dispatch import Commands
from bot.commands.replies import SHARE_ACTION
from bot.slack.buttons import INCIDENT_BUTTONS, TRANSFER_BUTTONS
from bot.slack.home import Home
from bot.slack.listeners import register_all
from bot.slack.listeners.background import Background
from bot.slack.listeners.commands import COMMANDS

log = logging.getLogger(__name__)

__all__ = ["ACTIONS", "COMMANDS", "EVENTS", "SCOPES", "build_app"]

ACTIONS = (*INCIDENT_BUTTONS, *TRANSFER_BUTTONS, SHARE_ACTION)
EVENTS = ("app_home_opened",)
# The bot token's scopes, each for what the code does with it.
SCOPES = {
    "chat:write": "post alerts and edit them as they change (chat.postMessage, chat.update)",
    "chat:write.public": "post alerts in public channels the bot was not invited to",
    "commands": "the slash commands",
    "channels:history": "look for a post whose answer was lost before sending it again",
    "groups:history": "the same in private channels",
    "channels:join": "join a public channel it posts to, so that it may read its history",
}


def build_app(
    client: AsyncWebClient,
    *,
    signing_secret: str | None,
    commands: Commands,
    home: Home,
    background: Background,
) -> AsyncApp:
    """The Bolt app. With a signing secret it verifies requests (HTTP mode); without one it is
    for Socket Mode, where Slack's connection is the proof.

    Bolt answers as soon as a listener returns (process_before_response): in its other mode it
    checks every 10 ms whether ack() was called, which cost every command about 10 ms. So each
    listener acknowledges promptly and leaves slower work to `background`."""
    with _no_oauth_from_environment():
        app = AsyncApp(
            client=client,
            signing_secret=signing_secret or "",
            request_verification_enabled=signing_secret is not None,
            raise_error_for_unhandled_request=False,
            process_before_response=True,
        )
    register_all(app, commands, home, background)

    @app.error
    async def on_error(error, body) -> None:
        log.error("Slack handler failed", exc_info=error, extra={"type": body.get("type")})

    return app


@contextlib.contextmanager
def _no_oauth_from_environment() -> Iterator[None]:
    """Bolt turns itself into a multi-workspace OAuth app when SLACK_CLIENT_ID and
    SLACK_CLIENT_SECRET are in the environment. This bot installs to one workspace with a bot
    token, so those two are hidden from Bolt while it is built (and said to be ignored)."""
    hidden = {
        k: os.environ.pop(k) for k in ("SLACK_CLIENT_ID", "SLACK_CLIENT_SECRET") if k in os.environ
    }
    if len(hidden) == 2:
        log.warning(
            "SLACK_CLIENT_ID and SLACK_CLIENT_SECRET are ignored: this app uses a bot token"
        )
    try:
        yield
    finally:
        os.environ.update(hidden)
