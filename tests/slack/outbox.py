"""The sender on its own, as the bot runs it: a real SQLite database with outbox rows
committed the way the writer commits them, its records in SqliteDeliveries, and the real
slack_sdk client reaching a local Slack."""

from __future__ import annotations

import contextlib
import json
import sqlite3
import time
from pathlib import Path

from slack_sdk.web.async_client import AsyncWebClient

from bot.slack.sender import Sender
from bot.slack.transport import SlackTransport
from bot.store.batch import OutboxRow
from bot.store.sqlite import connect as database
from bot.store.sqlite.deliveries import SqliteDeliveries
from tests.fakes.slack import FakeSlack


class Outbox:
    """A migrated database to commit outbox rows into, as the writer does."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._next_id = 1

    async def create(self) -> Outbox:
        db = await database.connect(self.path)
        await database.migrate(db)
        await db.close()
        return self

    def commit(self, *rows: tuple[str, str, int, str]) -> list[OutboxRow]:
        """Commit rows of (channel, op, incident, text) in one transaction; return them."""
        made = []
        for channel, op, incident, text in rows:
            payload = json.dumps({"note": text, "broadcast": False})
            made.append(OutboxRow(self._next_id, time.time(), channel, op, incident, payload))
            self._next_id += 1
        with contextlib.closing(sqlite3.connect(self.path)) as db, db:
            db.executemany(
                "INSERT INTO outbox (id, created_at, channel, op, incident_id, payload) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                [(r.id, r.created_at, r.channel, r.op, r.incident_id, r.payload) for r in made],
            )
        return made

    def states(self) -> dict[int, tuple[str, int, str | None]]:
        """outbox id -> (state, attempts, error), for the rows the sender recorded."""
        with contextlib.closing(sqlite3.connect(self.path)) as db:
            rows = db.execute("SELECT outbox_id, state, attempts, error FROM deliveries")
            return {outbox_id: (state, n, error) for outbox_id, state, n, error in rows}


@contextlib.asynccontextmanager
async def sending(
    outbox: Outbox,
    slack: FakeSlack,
    *,
    busy_timeout: float = 5.0,
    slack_timeout: float = 2.0,
    **options,
):
    """A started Sender delivering `outbox` to `slack`; stopped at the end."""
    client = AsyncWebClient(token=slack.token, base_url=slack.api_url, timeout=slack_timeout)
    sender = Sender(
        SqliteDeliveries(outbox.path, busy_timeout=busy_timeout), SlackTransport(client), **options
    )
    await sender.start()
    try:
        yield sender
    finally:
        await sender.stop()
