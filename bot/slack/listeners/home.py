"""The App Home tab: published fresh whenever someone opens it."""

from __future__ import annotations

from slack_bolt.async_app import AsyncApp

from bot.slack.home import Home
from bot.slack.listeners.background import Background


def register(app: AsyncApp, home: Home, background: Background) -> None:
    @app.event("app_home_opened")
    async def on_home_opened(event, client) -> None:
        if event.get("tab", "home") != "home":
            return

        async def publish() -> None:
            await client.views_publish(user_id=event["user"], view=await home.view())

        background.start(publish())
