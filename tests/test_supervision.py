"""Nothing goes silent unnoticed: a long-lived task that fails is told and started again, the
writer failing stops the bot with a non-zero exit, a full disk does not end the checkpointer,
and /readyz says so when alerts wait for Slack too long."""

from __future__ import annotations

import asyncio
import logging
import sqlite3

import pytest

from bot.runtime import Bot
from bot.store.sqlite.connect import checkpoint_forever, connect, migrate
from bot.supervisor import Supervisor
from tests.fakes.slack import FakeSlack
from tests.helpers import ScriptedFeed, eventually, fill, small_filesystem
from tests.slack.conftest import sale


async def test_a_failing_task_is_told_and_started_again_and_a_vital_one_stops_the_bot(caplog):
    runs = []

    async def flaky() -> None:
        runs.append(1)
        if len(runs) < 3:
            raise RuntimeError(f"failure {len(runs)}")
        await asyncio.Event().wait()  # the third run lasts

    async def vital() -> None:
        raise OSError("the disk went away")

    supervisor = Supervisor()
    supervisor.run("flaky", flaky)
    await eventually(lambda: len(runs) == 3, within=10, what="two restarts")
    assert supervisor.restarts["flaky"] == 2
    assert not supervisor.failed.done()
    supervisor.run("vital", vital, vital=True)
    assert await asyncio.wait_for(supervisor.failed, 5) == "vital"
    await supervisor.stop()

    told = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert [r.getMessage() for r in told] == [
        "task 'flaky' ended unexpectedly; starting it again",
        "task 'flaky' ended unexpectedly; starting it again",
        "task 'vital' ended unexpectedly; stopping the bot",
    ]
    assert [r.error for r in told] == ["failure 1", "failure 2", "the disk went away"]


@pytest.fixture
async def feed():
    async with ScriptedFeed([[sale("ALDO Maine Mall", "ADERI", 40)]]) as scripted:
        yield scripted


async def test_the_bot_survives_its_maintenance_failing_and_says_so_in_metrics(
    make_settings, feed, caplog
):
    bot = Bot(make_settings(feed_urls=[feed.url]))
    failures = []

    async def failing() -> None:
        failures.append(1)
        raise sqlite3.OperationalError("database or disk is full")

    bot.store.maintain = failing  # what a full disk did to the checkpointer
    await bot.start()
    try:
        await eventually(lambda: len(failures) >= 2, within=10, what="a restart")
        await bot.writer.wait_for(lambda stats: stats.events >= 1)  # the bot goes on
        scrape = (await bot.metrics.serve(None)).body.decode()
        assert 'inventory_task_restarts_total{task="store maintenance"}' in scrape
    finally:
        await bot.stop()
    assert "task 'store maintenance' ended unexpectedly; starting it again" in caplog.text


async def test_a_writer_that_fails_for_good_stops_the_bot_with_exit_1(make_settings, feed):
    bot = Bot(make_settings(feed_urls=[feed.url]))

    async def broken(batch) -> None:
        raise RuntimeError("a bug in the batch")

    bot.store.write = broken
    await bot.start()
    try:
        assert await asyncio.wait_for(bot.run_until(asyncio.Event()), 10) == 1
    finally:
        await bot.stop()


async def test_a_full_disk_does_not_end_the_checkpointer(tmp_path, caplog):
    caplog.set_level(logging.INFO)
    with small_filesystem(tmp_path / "small") as folder:
        path = folder / "inventory.db"
        db = await connect(path)
        await migrate(db)
        filler = fill(folder)  # the WAL's pages (the schema) have nowhere to go now
        checkpointer = asyncio.create_task(checkpoint_forever(path, every=0.01))
        try:
            await eventually(lambda: "WAL checkpoint failed" in caplog.text, within=10)
            assert not checkpointer.done()
            filler.unlink()
            await eventually(lambda: "WAL checkpoint works again" in caplog.text, within=10)
        finally:
            checkpointer.cancel()
            await db.close()
        assert caplog.text.count("WAL checkpoint failed") == 1  # told once, not each turn


async def test_readyz_says_when_alerts_wait_for_slack_too_long(make_settings, feed):
    now = [1_000_000.0]
    # A private channel the bot was removed from: Slack refuses it, its alerts wait.
    async with FakeSlack(private=("C-STORES",), not_member=("C-STORES",)) as slack:
        bot = Bot(
            make_settings(
                feed_urls=[feed.url],
                slack_bot_token=slack.token,
                slack_api_url=slack.api_url,
                slack_mode="http",
                slack_signing_secret="test-secret",
                alert_channel="C-STORES",
                outbox_max_age_seconds=300,
            ),
            clock=lambda: now[0],
        )
        await bot.start()
        try:
            await feed.connections[0].send(sale("ALDO Maine Mall", "ADERI", 0))
            await eventually(lambda: bot.sender.pending() >= 1, what="an alert to wait")
            ready = (await bot.health.checks())["delivery"]
            assert ready["ok"] is True
            now[0] += 301
            late = (await bot.health.checks())["delivery"]
        finally:
            await bot.stop()
    assert late["ok"] is False
    assert late["detail"].startswith("an alert has waited 301 s for Slack (limit 300 s)")
