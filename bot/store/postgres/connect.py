"""Opening connections and pools to the PostgreSQL server named by DATABASE_URL.

Every way of failing (a bad URL, a server out of reach, a refused password, a missing database,
no answer in time) becomes one ConnectError whose message is one line that names DATABASE_URL,
says what is wrong and never holds the password.

Session settings: `application_name` goes in the startup packet, which PgBouncer passes on;
every other setting is SET once connected, because PgBouncer refuses startup parameters it does
not know ("unsupported startup parameter"). PgBouncer must pool by session: the statement cache
(asyncpg's default, on), the leader's advisory lock and LISTEN all live in the server session.
"""

from __future__ import annotations

import logging
import re
import socket
import ssl
from collections.abc import Mapping
from urllib.parse import unquote, urlsplit

import asyncpg
from pydantic import SecretStr

from bot.core.errors import CannotStart
from bot.store.postgres.url import check_url, shown_url, url_secrets

log = logging.getLogger(__name__)

APPLICATION = "inventory-bot"
CONNECT_TIMEOUT = 10.0
# The writer's connection: a transaction left open by a frozen process (SIGSTOP, a stalled VM)
# holds its row locks until the server ends its session; a batch never idles inside its
# transaction for more than milliseconds, so 5 s is generous and frees a new leader's writer.
WRITER_SETTINGS: Mapping[str, str] = {"idle_in_transaction_session_timeout": "5s"}
# Readers (slash commands, the API) answer people: a runaway query is cut off.
READER_SETTINGS: Mapping[str, str] = {
    "idle_in_transaction_session_timeout": "5s",
    "statement_timeout": "10s",
}
_SETTING_NAME = re.compile(r"^[a-z_][a-z0-9_.]*$")


class ConnectError(CannotStart):
    """DATABASE_URL is unusable, or the server it names cannot be used: one line that names
    DATABASE_URL and says what is wrong, without the password."""


async def connect(
    url: str | SecretStr,
    *,
    name: str = APPLICATION,
    settings: Mapping[str, str] | None = None,
    connect_timeout: float = CONNECT_TIMEOUT,
    option: str = "DATABASE_URL",
) -> asyncpg.Connection:
    """One connection, named `name` in pg_stat_activity, with `settings` SET for its session.
    Raises ConnectError, whose line names `option` (where the URL came from)."""
    url = _plain(url)
    _check(url, option)
    try:
        conn = await asyncpg.connect(
            url, timeout=connect_timeout, server_settings={"application_name": name}
        )
    except Exception as error:
        raise ConnectError(_explain(error, url, connect_timeout, option)) from None
    try:
        if settings:
            await conn.execute(_set_statements(settings))
    except BaseException:
        conn.terminate()
        raise
    log.info("database connected", extra={"url": shown_url(url), "as": name})
    return conn


async def create_pool(
    url: str | SecretStr,
    *,
    name: str = APPLICATION,
    settings: Mapping[str, str] | None = None,
    min_size: int = 1,
    max_size: int = 4,
    connect_timeout: float = CONNECT_TIMEOUT,
) -> asyncpg.Pool:
    """A pool of connections like `connect`'s, its first `min_size` opened now (so a bad URL
    or password fails here, not at the first query). Raises ConnectError."""
    url = _plain(url)
    _check(url)
    sets = _set_statements(settings or {})

    async def init(conn: asyncpg.Connection) -> None:
        if sets:
            await conn.execute(sets)

    async def reset(conn: asyncpg.Connection) -> None:
        # asyncpg's own reset (unlock, close cursors, unlisten, RESET ALL), then the settings
        # again: RESET ALL would drop them. One round trip, as the default reset is.
        await conn.execute(f"{conn.get_reset_query()}\n{sets}")

    try:
        pool = await asyncpg.create_pool(
            url,
            min_size=min_size,
            max_size=max_size,
            timeout=connect_timeout,
            server_settings={"application_name": name},
            init=init,
            reset=reset,
        )
    except Exception as error:
        raise ConnectError(_explain(error, url, connect_timeout)) from None
    log.info("database pool open", extra={"url": shown_url(url), "as": name, "size": max_size})
    return pool


def _plain(url: str | SecretStr) -> str:
    return url.get_secret_value() if isinstance(url, SecretStr) else url


def _check(url: str, option: str = "DATABASE_URL") -> None:
    try:
        check_url(url)
    except ValueError as problem:
        raise ConnectError(f"{option}: {problem}") from None


def _set_statements(settings: Mapping[str, str]) -> str:
    lines = []
    for key, value in settings.items():
        if not _SETTING_NAME.match(key):
            raise ValueError(f"not a setting name: {key!r}")
        lines.append("SET {} = '{}';".format(key, value.replace("'", "''")))
    return "\n".join(lines)


def _explain(error: Exception, url: str, timeout: float, option: str = "DATABASE_URL") -> str:
    """What went wrong, in one line that names `option` and the URL (shown masked) and no
    password."""
    if isinstance(error, asyncpg.InvalidPasswordError):
        problem = f"the server refused the password for user {_user(url, error)!r}"
    elif isinstance(error, asyncpg.InvalidCatalogNameError):
        problem = f"the database does not exist on the server ({_server_said(error)})"
    elif isinstance(error, asyncpg.TooManyConnectionsError):
        problem = "the server has no connection slot left (too many connections)"
    elif isinstance(error, asyncpg.CannotConnectNowError):
        problem = "the server is starting up or shutting down: try again"
    elif isinstance(error, asyncpg.PostgresError):
        problem = f"the server refused the connection ({_server_said(error)})"
    elif isinstance(error, TimeoutError):
        problem = f"no answer from the server within {timeout:g} s"
    elif isinstance(error, socket.gaierror):
        problem = f"cannot find the server's host name ({error.strerror or error})"
    elif isinstance(error, ssl.SSLError):
        problem = f"the TLS handshake failed ({error.reason or error})"
    elif isinstance(error, ConnectionRefusedError):
        problem = "nothing accepts connections there (connection refused)"
    elif isinstance(error, OSError):
        problem = f"cannot reach the server ({error.strerror or error})"
    elif isinstance(error, asyncpg.InterfaceError | ValueError):
        problem = f"cannot be used ({error})"
    else:
        problem = f"could not connect ({type(error).__name__}: {error})"
    line = f"{option}={shown_url(url)}: {problem}"
    for secret in sorted(url_secrets(url), key=len, reverse=True):
        line = line.replace(secret, "***")  # should a library's words ever quote it
    return " ".join(line.split())


def _server_said(error: asyncpg.PostgresError) -> str:
    return str(getattr(error, "message", None) or error)


def _user(url: str, error: asyncpg.PostgresError) -> str:
    named = urlsplit(url).username
    if named:
        return unquote(named)
    # No user in the URL: 'password authentication failed for user "bot"' names the one tried.
    found = re.search(r'user "([^"]*)"', _server_said(error))
    return found.group(1) if found else "?"
