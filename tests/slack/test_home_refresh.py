"""The App Home refresher's bounds, against the local Slack over HTTP and a real database: at most
one publish per person every `every` seconds however often what they see changes, and the
workspace's views.publish budget shared by everyone."""

import asyncio
import contextlib
import time

from slack_sdk.web.async_client import AsyncWebClient

from bot.core.delivery import Budgets, Limit
from bot.slack.home import Home
from bot.slack.home_refresh import PUBLISH, RECHECK, HomeRefresher
from bot.store.batch import OutboxRow
from bot.store.sqlite.reads import SqliteReads
from tests.commands.conftest import C, Shop
from tests.fakes.slack import FakeSlack


@contextlib.asynccontextmanager
async def refreshing(shop: Shop, slack: FakeSlack, **options):
    client = AsyncWebClient(token=slack.token, base_url=slack.api_url)
    refresher = HomeRefresher(Home(SqliteReads(shop.db)), client, **options)
    task = asyncio.create_task(refresher.run())
    try:
        yield refresher
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


def publishes(slack: FakeSlack, user: str | None = None) -> list[float]:
    return [
        c.at
        for c in slack.calls
        if c.method == "views.publish" and user in (None, c.args.get("user_id"))
    ]


async def test_changes_in_a_row_publish_a_persons_view_once_per_interval():
    async with (
        Shop(frozenset()) as shop,
        FakeSlack() as slack,
        refreshing(shop, slack, every=1.0) as refresher,
    ):
        refresher.opened("U1")
        await slack.wait_for(lambda s: len(publishes(s, "U1")) == 1)
        for level in (3, 2, 1):  # three changes to an alert U1 sees, within a second
            await shop.sell(("Maine", "ADERI", level))
            refresher.outbox([_row(C)])
        await slack.wait_for(lambda s: len(publishes(s, "U1")) == 2)

        first, second = publishes(slack, "U1")
        assert second - first >= 1.0
        assert refresher.due("U1") > time.time() + RECHECK / 2  # nothing more owed: one publish
        assert "ADERI at Maine: 2 left" in str(slack.views["U1"][-1])  # the low alert (fired at 2)


async def test_everyone_shares_the_workspaces_budget():
    budgets = Budgets({PUBLISH: Limit(2, per=1.0)})
    async with (
        Shop(frozenset()) as shop,
        FakeSlack() as slack,
        refreshing(shop, slack, budgets=budgets) as refresher,
    ):
        for user in ("U1", "U2", "U3"):
            refresher.opened(user)
        await slack.wait_for(lambda s: len(publishes(s)) == 3)

    first, _, third = publishes(slack)
    assert third - first >= 1.0  # the third waited for the window to let it through


def _row(channel: str) -> OutboxRow:
    """An outbox row of `channel` as the writer hands them over (what it says is no matter)."""
    return OutboxRow(0, 0.0, channel, "update", 1, "{}")
