"""`inventory-bot migrate --from FILE --to URL`: a SQLite database the real writer wrote, copied
into an empty PostgreSQL database, where the PostgreSQL store runs on as the SQLite one would."""

from __future__ import annotations

import subprocess

import asyncpg
import pytest

from bot.core.alerting.actions import SetRule
from bot.core.alerting.engine import EngineSettings
from bot.core.events import SaleEvent
from bot.core.rules import Thresholds
from bot.core.velocity import PaceBook
from bot.store.move import TABLES, MoveError, move
from bot.store.postgres.backend import PostgresBackend
from bot.store.sqlite.backend import SqliteBackend
from tests.helpers import BOT, free_port
from tests.stories import CALLS, NOW, Alerting, answer, write_story

FOREVER = "36500"  # days of events to copy: every event of the story


def migrate(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [BOT, "migrate", *args], capture_output=True, text=True, timeout=120, check=False
    )


@pytest.fixture
async def written(tmp_path):
    """A SQLite file as the bot leaves it, after a story of sales, alerts and transfers."""
    path = tmp_path / "inventory.db"
    store = SqliteBackend(path)
    await write_story(store)
    await store.close()
    return path


async def state_of(store) -> tuple:
    """What a bot starting on `store` would run from."""
    await store.open()
    try:
        engine = await store.load_engine(EngineSettings(), now=NOW + 86_400)
        paces = PaceBook()
        await store.load_paces(paces)
        reads = await store.reads()
        answers = [await answer(reads, name, kwargs) for name, kwargs in CALLS]
        return (
            {table: sorted(rows) for table, rows in (await store.name_rows()).items()},
            paces.shelves,
            paces.models,
            await store.next_outbox_id(),
            engine.open_incidents(),
            engine.book.channels,
            engine.transfers.suggestions,
            engine.transfers._next_suggestion,  # never given twice, even once deleted
            engine.transfers._next_transfer,
            answers,
        )
    finally:
        await store.close()


async def test_a_database_moved_to_postgresql_runs_on_as_it_was(written, postgres_url):
    done = migrate("--from", str(written), "--to", postgres_url, "--retention-days", FOREVER)

    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert [line.split()[0] for line in lines[:-1]] == list(TABLES)
    assert dict(line.split() for line in lines[:-1])["events"] == "123"
    assert lines[-1].startswith("copied ")
    assert ":***@" in lines[-1]
    password = postgres_url.split(":")[2].split("@")[0]
    assert password not in done.stdout + done.stderr
    assert await state_of(PostgresBackend(postgres_url)) == await state_of(SqliteBackend(written))


async def test_the_moved_database_takes_new_sales_and_changes_without_clashing_ids(
    written, postgres_url
):
    assert (
        migrate(
            "--from", str(written), "--to", postgres_url, "--retention-days", FOREVER
        ).returncode
        == 0
    )
    before = await state_of(SqliteBackend(written))
    store = PostgresBackend(postgres_url)
    await store.open()
    bot = await Alerting(store, NOW + 86_400).start()
    try:
        await bot.writer.submit(SaleEvent("Maine", "ADERI", 0, NOW + 86_400, "ws://feed/0"))
        await bot.apply(SetRule("C-STORES", Thresholds(low=4, high=None), "U9", store="Zeta"))
    finally:
        await bot.writer.stop()
        await store.close()
    conn = await asyncpg.connect(postgres_url)
    try:
        assert await conn.fetchval("SELECT count(*) FROM events") == 124
        assert await conn.fetchval("SELECT max(id) FROM events") == 124
        assert await conn.fetchval("SELECT count(*) FROM config_changes WHERE user_id = 'U9'") == 1
        assert (
            await conn.fetchval("SELECT min(id) FROM outbox WHERE created_at > $1", NOW + 80_000)
            == before[3]
        )
    finally:
        await conn.close()


async def test_only_the_events_within_retention_are_copied(written, postgres_url):
    moved = await move(written, postgres_url, retention_days=1 / 24, now=NOW + 7200 + 1800)

    # The story's sales are a minute apart from NOW: the last hour's are copied.
    conn = await asyncpg.connect(postgres_url)
    try:
        kept = await conn.fetchval("SELECT min(at) FROM events")
        assert moved.rows["events"] == await conn.fetchval("SELECT count(*) FROM events")
    finally:
        await conn.close()
    assert kept >= NOW + 7200 + 1800 - 3600
    assert 0 < moved.rows["events"] < 123
    assert moved.rows["levels"] == 20


async def test_a_database_that_is_not_empty_is_refused_and_left_as_it_was(written, postgres_url):
    first = migrate("--from", str(written), "--to", postgres_url, "--retention-days", FOREVER)
    assert first.returncode == 0
    moved = await state_of(PostgresBackend(postgres_url))

    again = migrate("--from", str(written), "--to", postgres_url)

    assert again.returncode == 1
    assert again.stdout == ""
    assert again.stderr.splitlines() == [
        "inventory-bot migrate: --to: the database is not empty (feeds has rows); migrate "
        "copies into an empty database only, so nothing there is overwritten or mixed"
    ]
    assert await state_of(PostgresBackend(postgres_url)) == moved


@pytest.mark.parametrize(
    ("target", "says"),
    [
        ("mysql://bot:hunter2@127.0.0.1/db", "--to: must start with postgresql://"),
        ("postgresql://bot:hunter2@127.0.0.1:{port}/db", "connection refused"),
        ("{wrong_password}", "the server refused the password for user 'bot'"),
    ],
)
async def test_a_target_that_cannot_be_used_is_one_line_naming_the_option(
    written, postgres_url, target, says
):
    password = postgres_url.split(":")[2].split("@")[0]
    wrong = postgres_url.replace(f":{password}@", ":hunter2@")
    url = target.format(port=free_port(), wrong_password=wrong)
    done = migrate("--from", str(written), "--to", url)

    assert done.returncode == 1
    (line,) = done.stderr.splitlines()
    assert line.startswith("inventory-bot migrate: --to")
    assert says in line
    assert "hunter2" not in line
    assert password not in line


async def test_a_missing_file_is_refused_before_anything_is_written(tmp_path, postgres_url):
    with pytest.raises(MoveError, match=r"--from .*nothing\.db: no such file"):
        await move(tmp_path / "nothing.db", postgres_url, retention_days=30)
    assert not (tmp_path / "nothing.db").exists()
