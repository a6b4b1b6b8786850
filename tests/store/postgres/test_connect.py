"""Connecting to PostgreSQL through DATABASE_URL, against the tests' own server: what works, and
one plain line that never holds the password for everything that does not."""

import asyncio
import logging
from urllib.parse import quote, urlsplit

import pytest

from bot.store.postgres.connect import (
    READER_SETTINGS,
    WRITER_SETTINGS,
    ConnectError,
    connect,
    create_pool,
)
from bot.store.postgres.url import is_postgres_url, shown_url
from tests.helpers import free_port

# A password that needs quoting in a URL, for the role the failure tests log in as.
ODD_PASSWORD = "p@ss/w:rd?%#&=ö"


@pytest.fixture
def odd_role(postgres_server, postgres_url):
    """(URL with the right password, its database): a role whose password has every
    character a URL makes special."""
    postgres_server.admin("DROP ROLE IF EXISTS odd")
    postgres_server.admin(f"CREATE ROLE odd LOGIN PASSWORD '{ODD_PASSWORD}'")
    database = urlsplit(postgres_url).path.lstrip("/")
    return postgres_server.url(
        database, user="odd", password=quote(ODD_PASSWORD, safe="")
    ), database


def database_of(url: str) -> str:
    return urlsplit(url).path.lstrip("/")


def assert_hidden(caught: pytest.ExceptionInfo, log_text: str, *secrets: str) -> str:
    """The error's one line, checked: it names DATABASE_URL, and no secret is in it, in the
    logs, or in an exception chained to it (a traceback would print that one too)."""
    line = str(caught.value)
    assert caught.value.__cause__ is None
    assert caught.value.__suppress_context__
    for secret in secrets:
        assert secret not in line + log_text
    assert "\n" not in line
    assert line.startswith("DATABASE_URL")
    return line


async def test_a_connection_is_named_and_has_its_session_settings(postgres_url):
    conn = await connect(postgres_url, name="inventory-bot writer", settings=WRITER_SETTINGS)
    try:
        row = await conn.fetchrow(
            "SELECT application_name, current_setting('idle_in_transaction_session_timeout') AS t "
            "FROM pg_stat_activity WHERE pid = pg_backend_pid()"
        )
    finally:
        await conn.close()

    assert (row["application_name"], row["t"]) == ("inventory-bot writer", "5s")


async def test_a_pooled_connection_gets_its_settings_back_after_any_use(postgres_url):
    pool = await create_pool(postgres_url, settings=READER_SETTINGS, min_size=1, max_size=1)
    try:
        async with pool.acquire() as conn:
            assert await conn.fetchval("SHOW statement_timeout") == "10s"
            await conn.execute("SET statement_timeout = 0; SELECT pg_advisory_lock(7)")
            first = conn.get_server_pid()
        async with pool.acquire() as conn:
            assert conn.get_server_pid() == first  # the same session, reset
            assert await conn.fetchval("SHOW statement_timeout") == "10s"
            assert await conn.fetchval("SHOW application_name") == "inventory-bot"
            held = await conn.fetchval("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'")
            assert held == 0
    finally:
        await pool.close()


async def test_a_password_that_needs_quoting_works_when_percent_encoded(odd_role):
    url, _ = odd_role
    conn = await connect(url)
    try:
        assert await conn.fetchval("SELECT current_user") == "odd"
    finally:
        await conn.close()


async def test_a_refused_password_says_so_without_the_password(odd_role, postgres_server, caplog):
    _, database = odd_role
    caplog.set_level(logging.DEBUG)
    wrong = "n0t-" + ODD_PASSWORD
    url = postgres_server.url(database, user="odd", password=quote(wrong, safe=""))

    with pytest.raises(ConnectError) as caught:
        await connect(url)

    line = assert_hidden(caught, caplog.text, wrong, quote(wrong, safe=""), "n0t-")
    assert line == (
        f"DATABASE_URL=postgresql://odd:***@127.0.0.1:{postgres_server.port}/{database}: "
        "the server refused the password for user 'odd'"
    )


async def test_a_pool_with_a_refused_password_fails_when_created(postgres_server, postgres_url):
    url = postgres_server.url(database_of(postgres_url), password="wrong-password")

    with pytest.raises(ConnectError, match="refused the password for user 'bot'") as caught:
        await create_pool(url)

    assert_hidden(caught, "", "wrong-password")


async def test_a_missing_database_is_named(postgres_server, caplog):
    caplog.set_level(logging.DEBUG)
    url = postgres_server.url("no_such_db")

    with pytest.raises(ConnectError) as caught:
        await connect(url)

    line = assert_hidden(caught, caplog.text, postgres_server.password)
    assert line.endswith(
        'the database does not exist on the server (database "no_such_db" does not exist)'
    )


async def test_a_server_out_of_reach_is_said_plainly(postgres_server, caplog):
    caplog.set_level(logging.DEBUG)
    url = f"postgresql://bot:{postgres_server.password}@127.0.0.1:{free_port()}/inventory"

    with pytest.raises(ConnectError) as caught:
        await connect(url)

    line = assert_hidden(caught, caplog.text, postgres_server.password)
    assert line.endswith("nothing accepts connections there (connection refused)")


async def test_a_server_that_never_answers_times_out(caplog):
    caplog.set_level(logging.DEBUG)
    hung_up = asyncio.Event()

    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read()  # says nothing until the client hangs up
        writer.close()
        hung_up.set()

    server = await asyncio.start_server(silent, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        with pytest.raises(ConnectError) as caught:
            await connect(f"postgresql://bot:sekret-pw@127.0.0.1:{port}/db", connect_timeout=0.5)
        await asyncio.wait_for(hung_up.wait(), 10)
    finally:
        server.close()
        await server.wait_closed()

    line = assert_hidden(caught, caplog.text, "sekret-pw")
    assert line == (
        f"DATABASE_URL=postgresql://bot:***@127.0.0.1:{port}/db: "
        "no answer from the server within 0.5 s"
    )


@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("bot:sekret-pw@db.example/inventory", "DATABASE_URL: is not a URL: write postgresql://"),
        ("mysql://bot:sekret-pw@db/inventory", "DATABASE_URL: must start with postgresql:// or"),
        ("postgresql://bot:sekret-pw@db:54x/inventory", "'postgresql://bot:***@db:54x/inventory'"),
        ("postgresql://bot:sekret-pw@db:5432", "names no database: add /DATABASE at the end"),
        ("postgresql://bot:sekret-pw@/inventory", "names no server: write postgresql://"),
        ("postgresql://bot:sek#ret-pw@db/inventory", "has a '#': write it as %23 in a password"),
        ("postgresql://bot:sek/ret-pw@db/inventory", "has an '@' after the host: percent-encode"),
        ("postgres://bot:sek?ret-pw@db/inventory", "has an '@' after the host: percent-encode"),
    ],
)
async def test_a_bad_url_is_refused_before_connecting(url, says, caplog):
    caplog.set_level(logging.DEBUG)

    with pytest.raises(ConnectError) as caught:
        await connect(url)

    line = assert_hidden(caught, caplog.text, "sekret-pw", "ret-pw")
    assert says in line


def test_urls_are_shown_with_the_password_masked():
    assert shown_url("postgresql://bot:pw@db:5432/inv?sslmode=require&password=x") == (
        "postgresql://bot:***@db:5432/inv?sslmode=require&password=***"
    )
    assert shown_url("postgres://bot@db/inv") == "postgres://bot@db/inv"
    assert shown_url("postgresql://bot:p%40ss@h1:5432,h2:5433/inv") == (
        "postgresql://bot:***@h1:5432,h2:5433/inv"
    )
    assert shown_url("postgresql://bot:p/a@ss@h/inv") == "postgresql://***"


def test_only_postgres_urls_select_postgresql():
    assert is_postgres_url("postgresql://bot:pw@db/inv")
    assert is_postgres_url("POSTGRES://db/inv")
    assert not is_postgres_url("sqlite:///data/inventory.db")
    assert not is_postgres_url("data/inventory.db")


async def test_the_success_log_shows_where_without_the_password(postgres_url, caplog):
    caplog.set_level(logging.INFO)
    conn = await connect(postgres_url)
    await conn.close()

    password = urlsplit(postgres_url).password
    assert password not in caplog.text
    assert shown_url(postgres_url) in [r.url for r in caplog.records if hasattr(r, "url")]
