"""How a command's Reply goes back to Slack."""

from __future__ import annotations

from bot.commands.replies import Reply


def private(reply: Reply) -> dict:
    """The reply as an answer only the asker sees."""
    answer = {"text": reply.text, "response_type": "ephemeral"}
    if reply.blocks:
        answer["blocks"] = reply.blocks
    return answer


def user_of(body: dict) -> tuple[str, str]:
    """Who pressed a button: their ID, and their name to name them without a ping."""
    user = body.get("user") or {}
    return user.get("id", ""), user.get("username") or user.get("name") or ""


def channel_of(body: dict) -> str:
    """The channel a button was pressed in (a message's, or an ephemeral reply's)."""
    return (body.get("channel") or {}).get("id") or body.get("container", {}).get("channel_id", "")


async def warn(respond, message: str) -> None:
    """A private warning to whoever pressed a button."""
    await respond(response_type="ephemeral", replace_original=False, text=f":warning: {message}")
