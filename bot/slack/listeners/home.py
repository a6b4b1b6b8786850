"""The App Home: drawn per person when they open it, and kept current while they look at it
(bot/slack/home_refresh.py); the stores they follow are picked in the view itself, searched as
they type (`options`), and saved through the writer like every change."""

from __future__ import annotations

import logging

from slack_bolt.async_app import AsyncApp

from bot.commands.dispatch import Commands
from bot.core.alerting.actions import FollowStores
from bot.core.errors import Refusal
from bot.core.names import Kind
from bot.slack.home import FOLLOW
from bot.slack.home_refresh import HomeRefresher
from bot.slack.listeners.background import Background
from bot.slack.listeners.replies import user_of
from bot.slack.rules_modal import named, option

log = logging.getLogger(__name__)

LISTED = 100  # options Slack shows at most


def register(
    app: AsyncApp, commands: Commands, refresher: HomeRefresher, background: Background
) -> None:
    context = commands.context

    @app.event("app_home_opened")
    async def on_home_opened(event) -> None:
        user = event.get("user")
        if event.get("tab", "home") != "home" or not isinstance(user, str) or not user:
            return  # Slack always names the user; a request that does not has nothing to show
        refresher.opened(user)

    @app.options(FOLLOW)
    async def on_store_names(ack, body) -> None:
        found = await context.names.search(body.get("value", ""), Kind.STORE, limit=LISTED)
        await ack(options=[option(name, name) for name in found])

    @app.action(FOLLOW)
    async def on_follow(ack, body, action) -> None:
        await ack()
        user, _ = user_of(body)
        picked = [o.get("value", "") for o in action.get("selected_options") or []]

        async def follow() -> None:
            stores, _ = await context.reads.name_lists()
            names = tuple(dict.fromkeys(n for v in picked if (n := named(v, stores)) in stores))
            try:
                await context.apply(FollowStores(user, names))
            except Refusal as refused:
                log.info("stores not followed", extra={"reason": str(refused)})
            refresher.opened(user)  # draw it again now, with the stores' stock

        background.start(follow())
