"""The "Share in channel" button under a private answer: the same command is run again and its
answer posted in the channel, saying who shared it."""

from __future__ import annotations

import json

from slack_bolt.async_app import AsyncApp

from bot.commands.dispatch import Commands
from bot.commands.replies import SHARE_ACTION
from bot.commands.request import Request
from bot.slack.listeners.background import Background
from bot.slack.listeners.replies import channel_of, private, user_of, warn


def register(app: AsyncApp, commands: Commands, background: Background) -> None:
    @app.action(SHARE_ACTION)
    async def on_share(ack, body, action, respond) -> None:
        await ack()
        user, name = user_of(body)
        channel = channel_of(body)
        try:
            shared = json.loads(action.get("value", ""))
            request = Request(str(shared["command"]), str(shared["text"]), channel, user, name)
        except (ValueError, KeyError, TypeError):
            background.start(warn(respond, "That button does not name a command."))
            return

        async def share() -> None:
            reply = await commands.handle(request)
            if reply.error:
                await respond(**private(reply), replace_original=False)
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
