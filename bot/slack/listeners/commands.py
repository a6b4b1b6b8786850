"""Slash commands: the answer goes back with the acknowledgement when it is ready within
ACK_WITHIN, else through response_url; a change is announced in the channel."""

from __future__ import annotations

import asyncio

from slack_bolt.async_app import AsyncApp

from bot.commands.dispatch import Commands
from bot.commands.request import Request
from bot.slack.listeners.background import Background
from bot.slack.listeners.replies import private
from bot.slack.listeners.rules_form import RulesForms

COMMANDS = ("/stock", "/transfers", "/thresholds", "/alerts")
# A reply ready within this is sent with the acknowledgement; a slower one (a preview, a change
# waiting for its commit under load) follows through response_url. Slack allows 3 s.
ACK_WITHIN = 1.5


def register(app: AsyncApp, commands: Commands, background: Background, forms: RulesForms) -> None:
    async def on_command(ack, body, respond, client) -> None:
        request = Request(
            body.get("command", ""),
            body.get("text", ""),
            body.get("channel_id", ""),
            body.get("user_id", ""),
            body.get("user_name", ""),
        )
        task = asyncio.ensure_future(commands.handle(request))
        done, _ = await asyncio.wait({task}, timeout=ACK_WITHIN)
        if done and task.result().form and body.get("trigger_id"):
            await ack()  # the form opens in its place; the text answers if it cannot
            background.start(_form_or_text(forms, client, body, task.result(), respond))
            return
        if done:
            reply = task.result()
            await ack(**private(reply))
            if reply.announce:
                background.start(respond(response_type="in_channel", text=reply.announce))
            return
        await ack(text=":hourglass_flowing_sand: Working on it…", response_type="ephemeral")

        async def answer_later() -> None:
            reply = await task
            await respond(**private(reply))
            if reply.announce:
                await respond(response_type="in_channel", text=reply.announce)

        background.start(answer_later())

    for command in COMMANDS:
        app.command(command)(on_command)


async def _form_or_text(forms: RulesForms, client, body: dict, reply, respond) -> None:
    opened = await forms.open(client, body["trigger_id"], reply.form, body.get("user_id", ""))
    if not opened:
        await respond(**private(reply))
