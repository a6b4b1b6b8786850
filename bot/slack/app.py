"""The Slack app on Bolt (AsyncApp): slash commands, buttons, the rules form and the App Home,
the same listeners in Socket Mode and over HTTP. COMMANDS, ACTIONS, VIEWS, OPTIONS and EVENTS
are exactly what is registered; the manifests in manifests/ declare the same (interactivity,
the options URL, events, scopes), and a test holds them together."""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Iterator

from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from bot.commands.dispatch import Commands
from bot.commands.people import People
from bot.commands.replies import SHARE_ACTION
from bot.commands.rules_form import FIELDS
from bot.commands.thresholds import OPEN_FORM
from bot.slack.buttons import INCIDENT_BUTTONS, TRANSFER_BUTTONS
from bot.slack.home import FOLLOW, Channels
from bot.slack.home_refresh import HomeRefresher
from bot.slack.listeners import register_all
from bot.slack.listeners.background import Background
from bot.slack.listeners.commands import COMMANDS
from bot.slack.rules_modal import ACTION, RULES_VIEW, SELECTS

log = logging.getLogger(__name__)

__all__ = ["ACTIONS", "COMMANDS", "EVENTS", "OPTIONS", "SCOPES", "VIEWS", "build_app"]

# Buttons and the rules form's fields (each sends an action as it changes: its preview).
ACTIONS = (
    *INCIDENT_BUTTONS,
    *TRANSFER_BUTTONS,
    SHARE_ACTION,
    OPEN_FORM,
    FOLLOW,
    *(ACTION + field for field in FIELDS),
)
VIEWS = (RULES_VIEW,)  # modals whose submissions the app takes
OPTIONS = (*(ACTION + field for field in SELECTS), FOLLOW)  # selects filled as people type
EVENTS = ("app_home_opened",)
# The bot token's scopes, each for what the code does with it.
SCOPES = {
    "chat:write": "post alerts and edit them as they change (chat.postMessage, chat.update)",
    "chat:write.public": "post alerts in public channels the bot was not invited to",
    "commands": "the slash commands",
    "channels:history": "look for a post whose answer was lost before sending it again",
    "groups:history": "the same in private channels",
    "channels:join": "join a public channel it posts to, so that it may read its history",
    "channels:read": "the public channels a person is in: their App Home shows those alerts",
    "groups:read": "the same for private channels the bot is in too",
    "usergroups:read": "user groups as the owners of a rule (usergroups.list)",
    "users:read": "people as the owners of a rule (users.list)",
}


def build_app(
    client: AsyncWebClient,
    *,
    signing_secret: str | None,
    commands: Commands,
    background: Background,
    homes: HomeRefresher,
    people: People | None = None,
    members: Channels | None = None,
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
    register_all(app, commands, background, homes=homes, people=people, members=members)

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
