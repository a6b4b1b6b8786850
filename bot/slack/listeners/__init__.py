"""Bolt listeners, one module per way in (slash commands, buttons, sharing, the App Home); each
has `register(app, ...)`. They acknowledge promptly and hand the work to the command code."""

from __future__ import annotations

from slack_bolt.async_app import AsyncApp

from bot.commands.dispatch import Commands
from bot.slack.home import Home
from bot.slack.listeners import buttons, commands, home, share
from bot.slack.listeners.background import Background


def register_all(app: AsyncApp, answers: Commands, view: Home, background: Background) -> None:
    """Every listener of the app."""
    commands.register(app, answers, background)
    buttons.register(app, answers, background)
    share.register(app, answers, background)
    home.register(app, view, background)
