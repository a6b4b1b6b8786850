"""Both backends answer every read people use, with the same arguments, the same answers and in
the same order: SqliteReads and PostgresReads against the one Reads protocol, and both read
after the real writer wrote the same feed and the same actions into each."""

from __future__ import annotations

import inspect

import pytest

from bot.store.postgres.backend import PostgresBackend
from bot.store.postgres.reads import PostgresReads
from bot.store.reads import Reads
from bot.store.sqlite.backend import SqliteBackend
from bot.store.sqlite.reads import SqliteReads
from tests.stories import CALLS, C, answer, write_story


def read_methods() -> list[str]:
    return sorted(
        name
        for name, _ in inspect.getmembers(Reads, inspect.isfunction)
        if not name.startswith("_")
    )


@pytest.mark.parametrize("name", read_methods())
def test_both_backends_have_every_read_with_its_signature(name):
    wanted = inspect.signature(getattr(Reads, name))
    for reads in (SqliteReads, PostgresReads):
        found = inspect.signature(getattr(reads, name))
        assert list(found.parameters.values()) == list(wanted.parameters.values()), reads
        assert inspect.iscoroutinefunction(getattr(reads, name)), reads


def test_the_signature_check_can_fail():
    async def levels(self, *, store: str | None = None) -> list:  # no `model`
        return []

    assert inspect.signature(levels) != inspect.signature(Reads.levels)


@pytest.fixture
async def both(tmp_path, migrated_postgres_url):
    stores = [SqliteBackend(tmp_path / "inventory.db"), PostgresBackend(migrated_postgres_url)]
    for store in stores:
        await write_story(store)
    yield [await store.reads() for store in stores]
    for store in stores:
        await store.close()


async def test_both_backends_give_the_same_answers_on_the_same_data(both):
    sqlite, postgres = both
    for name, kwargs in CALLS:
        expected = await answer(sqlite, name, kwargs)
        assert await answer(postgres, name, kwargs) == expected, (name, kwargs)
    assert {name for name, _ in CALLS} | {"ping"} == set(read_methods())
    # The story reached every kind of row the reads look at.
    assert (await sqlite.levels())[0].store == "Auburn"
    assert await sqlite.mutes(C)
    assert await sqlite.open_transfers()
    assert await sqlite.dead_letters()
    assert (await sqlite.suggestions())[1] >= 2
