"""The throwaway PostgreSQL server the tests start (tests/postgres.py)."""

from urllib.parse import urlsplit

import asyncpg
import pytest


async def test_the_bot_logs_in_over_tcp_as_a_plain_role_owning_its_database(postgres_url):
    conn = await asyncpg.connect(postgres_url)
    try:
        row = await conn.fetchrow(
            "SELECT current_user AS role, rolsuper, inet_server_addr()::text AS address, "
            "pg_get_userbyid(d.datdba) AS owner "
            "FROM pg_roles r, pg_database d "
            "WHERE r.rolname = current_user AND d.datname = current_database()"
        )
    finally:
        await conn.close()

    assert row["role"] == row["owner"] == "bot"
    assert row["rolsuper"] is False
    assert row["address"] == "127.0.0.1/32"
    assert conn.get_server_version().major >= 15


async def test_each_database_starts_empty_and_is_the_tests_own(postgres_server, postgres_url):
    other = postgres_server.create_database()
    try:
        mine = await asyncpg.connect(postgres_url)
        theirs = await asyncpg.connect(postgres_server.url(other))
        try:
            assert (
                await mine.fetchval("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'")
                == 0
            )
            await mine.execute("CREATE TABLE kept (x integer); INSERT INTO kept VALUES (1)")
            assert await mine.fetchval("SELECT count(*) FROM kept") == 1
            assert await theirs.fetchval("SELECT to_regclass('kept')") is None
        finally:
            await mine.close()
            await theirs.close()
    finally:
        postgres_server.drop_database(other)


async def test_a_wrong_password_is_refused_by_the_server(postgres_server, postgres_url):
    database = urlsplit(postgres_url).path.lstrip("/")
    wrong = postgres_server.url(database, password="not-the-password")

    with pytest.raises(
        asyncpg.InvalidPasswordError, match='password authentication failed for user "bot"'
    ):
        await asyncpg.connect(wrong)
