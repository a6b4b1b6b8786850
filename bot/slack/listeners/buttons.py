"""Buttons on alerts and on suggested transfers: each does what its command does (`/alerts ack
12`, `/transfers accept S12`), through the same function, with the same checks."""

from __future__ import annotations

import logging

from slack_bolt.async_app import AsyncApp

from bot.commands import alerts, transfers
from bot.commands.dispatch import Commands
from bot.commands.request import Context
from bot.slack.buttons import INCIDENT_BUTTONS, TRANSFER_BUTTONS
from bot.slack.home import Channels
from bot.slack.listeners.background import Background
from bot.slack.listeners.replies import channel_of, private, user_of, warn

log = logging.getLogger(__name__)


def register(
    app: AsyncApp, commands: Commands, background: Background, members: Channels | None = None
) -> None:
    context = commands.context

    async def on_incident_button(ack, body, action, respond) -> None:
        await ack()
        _, verb, seconds = INCIDENT_BUTTONS[action["action_id"]]
        (user, name), channel = user_of(body), channel_of(body)
        value = action.get("value", "")

        async def act() -> None:
            if not value.isdigit():
                if respond is not None:
                    await warn(respond, "That button does not name an alert.")
                return
            where = channel or await _in_home(context, members, user, int(value))
            reply = await commands.run(
                "alerts",
                lambda: alerts.act(context, where, user, verb, int(value), seconds, name),
            )
            # Done: the alert's message is edited by the sender, from the outbox row this wrote.
            if reply.error and respond is not None:
                await respond(**private(reply), replace_original=False)
            elif reply.error:  # from the App Home, which has no reply to answer in
                log.info("App Home button refused", extra={"reason": reply.text})

        background.start(act())

    for action_id in INCIDENT_BUTTONS:
        app.action(action_id)(on_incident_button)

    async def on_transfer_button(ack, body, action, respond) -> None:
        await ack()
        _, verb = TRANSFER_BUTTONS[action["action_id"]]
        user, name = user_of(body)
        value = action.get("value", "")
        # On an alert, the alert's message and thread say who accepted; from a /transfers
        # answer (seen by one person), the channel is told as for a typed command.
        on_alert = not body.get("container", {}).get("is_ephemeral", False)

        async def act() -> None:
            if not value.isdigit():
                await warn(respond, "That button does not name a suggestion.")
                return
            reply = await commands.run(
                "transfers", lambda: transfers.change(context, verb, int(value), user, name)
            )
            await respond(**private(reply), replace_original=False)
            if reply.announce and not on_alert:
                await respond(
                    response_type="in_channel", replace_original=False, text=reply.announce
                )

        background.start(act())

    for action_id in TRANSFER_BUTTONS:
        app.action(action_id)(on_transfer_button)


async def _in_home(context: Context, members: Channels | None, user: str, number: int) -> str:
    """The channel of alert `number`, pressed in `user`'s App Home: theirs only if they are in
    it (the Home shows no other), else none, which the alert's check refuses."""
    found = await context.reads.incident(number)
    if found is None or members is None:
        return ""
    return found.channel if found.channel in await members.channels(user) else ""
