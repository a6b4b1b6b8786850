"""The Slack app on Bolt (AsyncApp): slash commands, buttons and the App Home, the same handlers
in Socket Mode and over HTTP. COMMANDS, ACTIONS and EVENTS are exactly what is registered; the
manifests in manifests/ declare the same sets, and a test holds them together."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
from collections.abc import Awaitable, Iterator

from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from bot.commands.handlers import Commands, Mutate, Request
from bot.commands.replies import SHARE_ACTION, Reply, sentence
from bot.core.engine import CommandError
from bot.core.rules import RuleError
from bot.slack.home import Home

log = logging.getLogger(__name__)

COMMANDS = ("/stock", "/transfers", "/thresholds", "/alerts")
# The buttons on alert messages (bot/slack/render.py draws them), and what each does.
INCIDENT_ACTIONS = {
    "incident_ack": ("acknowledge", None),
    "incident_snooze_1h": ("snooze", 3_600),
    "incident_snooze_4h": ("snooze", 4 * 3_600),
    "incident_snooze_24h": ("snooze", 24 * 3_600),
    "incident_mute": ("mute", None),
}
# The buttons on suggested transfers (on alerts and in /transfers): the same as typing
# `/transfers accept S12` or `/transfers dismiss S12`.
TRANSFER_ACTIONS = {"transfer_accept": "accept", "transfer_dismiss": "dismiss"}
ACTIONS = (*INCIDENT_ACTIONS, *TRANSFER_ACTIONS, SHARE_ACTION)
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
# A reply ready within this is sent with the acknowledgement; a slower one (a preview, a change
# waiting for its commit under load) follows through response_url. Slack allows 3 s.
ACK_WITHIN = 1.5


class Background:
    """Work a listener starts after acknowledging, kept track of so it can be waited for."""

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


def build_app(
    client: AsyncWebClient,
    *,
    signing_secret: str | None,
    commands: Commands,
    mutate: Mutate,
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

    async def on_command(ack, body, respond) -> None:
        request = Request(
            body.get("command", ""),
            body.get("text", ""),
            body.get("channel_id", ""),
            body.get("user_id", ""),
        )
        task = asyncio.ensure_future(commands.handle(request))
        done, _ = await asyncio.wait({task}, timeout=ACK_WITHIN)
        if done:
            reply = task.result()
            await ack(**_private(reply))
            if reply.announce:
                background.start(respond(response_type="in_channel", text=reply.announce))
            return
        await ack(text=":hourglass_flowing_sand: Working on it…", response_type="ephemeral")

        async def answer_later() -> None:
            reply = await task
            await respond(**_private(reply))
            if reply.announce:
                await respond(response_type="in_channel", text=reply.announce)

        background.start(answer_later())

    for command in COMMANDS:
        app.command(command)(on_command)

    async def on_incident_button(ack, body, action, respond) -> None:
        await ack()
        what, seconds = INCIDENT_ACTIONS[action["action_id"]]
        user = body.get("user", {}).get("id", "")

        async def act() -> None:
            try:
                number = int(action.get("value", ""))
                if what == "acknowledge":
                    await mutate(lambda e, at: e.acknowledge(number, user, at))
                elif what == "snooze":
                    await mutate(lambda e, at: e.snooze(number, user, seconds, at))
                else:
                    await mutate(lambda e, at: e.mute(number, user, at))
            except ValueError:
                await _tell(respond, "That button does not name an alert.")
            except (CommandError, RuleError) as error:
                await _tell(respond, sentence(str(error)))
            # The alert's message is edited by the sender, from the outbox row this wrote.

        background.start(act())

    for action_id in INCIDENT_ACTIONS:
        app.action(action_id)(on_incident_button)

    async def on_transfer_button(ack, body, action, respond) -> None:
        await ack()
        request = Request(
            "transfers",
            f"{TRANSFER_ACTIONS[action['action_id']]} {action.get('value', '')}",
            _channel_of(body),
            body.get("user", {}).get("id", ""),
        )

        # On an alert, the alert's message and thread say who accepted; from a /transfers
        # answer (seen by one person), the channel is told as for a typed command.
        on_alert = not body.get("container", {}).get("is_ephemeral", False)

        async def act() -> None:
            reply = await commands.handle(request)
            await respond(**_private(reply), replace_original=False)
            if reply.announce and not on_alert:
                await respond(
                    response_type="in_channel", replace_original=False, text=reply.announce
                )

        background.start(act())

    for action_id in TRANSFER_ACTIONS:
        app.action(action_id)(on_transfer_button)

    @app.action(SHARE_ACTION)
    async def on_share(ack, body, action, respond) -> None:
        await ack()
        user = body.get("user", {}).get("id", "")
        channel = _channel_of(body)
        try:
            shared = json.loads(action.get("value", ""))
            request = Request(str(shared["command"]), str(shared["text"]), channel, user)
        except (ValueError, KeyError, TypeError):
            background.start(_tell(respond, "That button does not name a command."))
            return

        async def share() -> None:
            reply = await commands.handle(request)
            if reply.error:
                await respond(**_private(reply), replace_original=False)
                return
            blocks = [b for b in reply.blocks or [] if b.get("block_id") != "share"]
            blocks.append(
                {
                    "type": "context",
                    "elements": [
                        {"type": "mrkdwn", "text": f"Shared by <@{user}> from `/{request.command}`"}
                    ],
                }
            )
            await respond(
                response_type="in_channel", replace_original=False, text=reply.text, blocks=blocks
            )
            await respond(delete_original=True)

        background.start(share())

    @app.event("app_home_opened")
    async def on_home_opened(event, client) -> None:
        if event.get("tab", "home") != "home":
            return

        async def publish() -> None:
            await client.views_publish(user_id=event["user"], view=await home.view())

        background.start(publish())

    @app.error
    async def on_error(error, body) -> None:
        log.error("Slack handler failed", exc_info=error, extra={"type": body.get("type")})

    return app


def _channel_of(body: dict) -> str:
    """The channel a button was pressed in (a message's, or an ephemeral reply's)."""
    return (body.get("channel") or {}).get("id") or body.get("container", {}).get("channel_id", "")


def _private(reply: Reply) -> dict:
    answer = {"text": reply.text, "response_type": "ephemeral"}
    if reply.blocks:
        answer["blocks"] = reply.blocks
    return answer


async def _tell(respond, message: str) -> None:
    await respond(response_type="ephemeral", replace_original=False, text=f":warning: {message}")


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
