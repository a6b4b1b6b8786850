"""Bolt listeners, one module per way in (slash commands, buttons, sharing, the App Home); each
has `register(app, ...)`. They acknowledge promptly and hand the work to the command code."""

from __future__ import annotations

from slack_bolt.async_app import AsyncApp

from bot.commands.dispatch import Commands
from bot.commands.people import People
from bot.slack.home import Channels
from bot.slack.home_refresh import HomeRefresher
from bot.slack.listeners import buttons, commands, home, rules_form, share
from bot.slack.listeners.background import Background
from bot.slack.listeners.rules_form import RulesForms


def register_all(
    app: AsyncApp,
    answers: Commands,
    background: Background,
    *,
    homes: HomeRefresher,
    people: People | None,
    members: Channels | None,
) -> None:
    """Every listener of the app."""
    forms = RulesForms(answers, background, people, members)
    commands.register(app, answers, background, forms)
    buttons.register(app, answers, background, members)
    share.register(app, answers, background)
    rules_form.register(app, forms)
    home.register(app, answers, homes, background)
