"""A throwaway PostgreSQL server for the tests, started by the test session itself.

Fixtures (registered from tests/conftest.py):
- `postgres_server` (session): initdb and pg_ctl start in a temporary folder, on a free port of
  127.0.0.1 with its unix socket in that folder; stopped and removed at the end of the session.
- `postgres_url` (function): `postgresql://bot:PASSWORD@127.0.0.1:PORT/DB` of a fresh, empty
  database owned by the bot's role, dropped after the test.
- `migrated_postgres_url` (function): the same, at the latest schema (copied from a template
  migrated once per session).

The bot's role logs in over TCP with a password (scram-sha-256), so a wrong password is a real
refusal; the fixtures administer the server as its superuser over the unix socket (trust).

Where the server's binaries are missing the tests skip and say why, unless REQUIRE_POSTGRES is
set (CI sets it), where they fail. `python -m tests.postgres` prints how long it all takes.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import pwd
import re
import secrets
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Coroutine, Iterator
from pathlib import Path
from typing import Any

import asyncpg
import pytest

from bot.store.postgres.connect import connect
from bot.store.postgres.migrate import migrate
from tests.helpers import free_port

SUPERUSER = "postgres"
ROLE = "bot"  # the bot's role: a plain login role that owns its database, no superuser
INSTALL_HINT = "apt-get install postgresql, or run .ci/run"
# Fast and forgetful: a test server never needs to survive a power cut.
SETTINGS = {
    "listen_addresses": "'127.0.0.1'",
    "fsync": "off",
    "synchronous_commit": "off",
    "full_page_writes": "off",
    "shared_buffers": "64MB",
    "max_connections": "50",
    "log_min_messages": "warning",
}


class Unavailable(Exception):
    """No PostgreSQL server can be started here; the message says why."""


def find_bindir() -> Path:
    """The folder with initdb, pg_ctl and postgres: `pg_config --bindir` (on Debian the
    postgresql-common wrapper points at the newest installed server), else the newest
    /usr/lib/postgresql/*/bin, else wherever initdb is on PATH."""
    candidates: list[Path] = []
    pg_config = shutil.which("pg_config")
    if pg_config:
        answer = subprocess.run(
            [pg_config, "--bindir"], capture_output=True, text=True, check=False, timeout=30
        )
        if answer.returncode == 0:
            candidates.append(Path(answer.stdout.strip()))
    versions = Path("/usr/lib/postgresql").glob("*/bin")
    candidates += sorted(versions, key=_version, reverse=True)
    if on_path := shutil.which("initdb"):
        candidates.append(Path(on_path).resolve().parent)
    for folder in candidates:
        if all((folder / tool).is_file() for tool in ("initdb", "pg_ctl", "postgres")):
            return folder
    raise Unavailable(
        f"PostgreSQL's server programs (initdb, pg_ctl) are not installed ({INSTALL_HINT})"
    )


def _version(folder: Path) -> tuple[int, ...]:
    return tuple(int(n) for n in re.findall(r"\d+", folder.parent.name)) or (0,)


def _fast_folder() -> str | None:
    """/dev/shm when it is roomy: in memory, a fresh database takes about 15 ms here instead
    of 50-250 ms on disk, and the server starts in half the time. Containers often give it
    only 64 MB, too little for a cluster; then the usual temporary folder."""
    try:
        shm = os.statvfs("/dev/shm")
    except OSError:
        return None
    roomy = shm.f_bavail * shm.f_frsize >= 1 << 30
    return "/dev/shm" if roomy and os.access("/dev/shm", os.W_OK) else None


def _as_server_user() -> list[str]:
    """The prefix that runs a command as the server's owner. PostgreSQL refuses to run as root,
    so as root the server runs as the `postgres` user (the Debian package creates it)."""
    if os.geteuid() != 0:
        return []
    try:
        pwd.getpwnam("postgres")
    except KeyError:
        raise Unavailable(
            "running as root, but there is no `postgres` user to run the server as "
            f"({INSTALL_HINT})"
        ) from None
    runuser = shutil.which("runuser")
    if runuser is None:
        raise Unavailable("running as root, but `runuser` (util-linux) is not installed")
    return [runuser, "-u", "postgres", "--"]


class PostgresServer:
    """One server in a temporary folder. `start()` it, make databases, `stop()` it."""

    def __init__(self) -> None:
        self.bindir = find_bindir()
        self._prefix = _as_server_user()
        self.host = "127.0.0.1"
        self.port = 0
        self.role = ROLE
        # Letters and digits only: tests that need URL-quoted passwords make roles of their own.
        self.password = secrets.token_hex(12)
        # Not under pytest's tmp_path: its root is private to root, and the server runs as
        # `postgres`. A short path, too: a unix socket's path must fit in 107 bytes.
        self.root = Path(tempfile.mkdtemp(prefix="inventory-bot-pg-", dir=_fast_folder()))
        self.data = self.root / "data"
        self.log = self.root / "server.log"
        self._admin: _Admin | None = None
        self._names = itertools.count(1)
        self._migrated: str | None = None

    # --- the server ---

    def start(self) -> None:
        """initdb, then start on a free port (a few tries: another program may take the port
        between choosing and binding it)."""
        if self._prefix:
            shutil.chown(self.root, "postgres", "postgres")
        self._run(
            "initdb",
            "--pgdata",
            str(self.data),
            "--username",
            SUPERUSER,
            "--auth-local=trust",  # the fixtures, through the socket in self.root only
            "--auth-host=scram-sha-256",  # everyone over TCP, the bot's role included
            "--encoding=UTF8",
            "--locale=C",
            "--no-sync",
        )
        for attempt in range(3):
            self.port = free_port()
            lines = {
                **SETTINGS,
                "port": str(self.port),
                "unix_socket_directories": f"'{self.root}'",
            }
            with (self.data / "postgresql.conf").open("a") as conf:
                conf.writelines(f"{key} = {value}\n" for key, value in lines.items())
            try:
                self._pg_ctl("start", "--wait", "--timeout=60", f"--log={self.log}")
                break
            except subprocess.CalledProcessError:
                if attempt == 2 or "could not bind" not in self.server_log():
                    raise
        self._admin = _Admin(self.superuser_dsn("postgres"))
        self.admin(f"CREATE ROLE {self.role} LOGIN PASSWORD '{self.password}'")

    def stop(self) -> None:
        """Stop the server (fast, then immediate if it lingers) and remove its folder."""
        if self._admin is not None:
            self._admin.close()
            self._admin = None
        if (self.data / "postmaster.pid").exists():
            try:
                self._pg_ctl("stop", "--mode=fast", "--wait", "--timeout=30")
            except subprocess.CalledProcessError:
                self._pg_ctl("stop", "--mode=immediate", "--wait", "--timeout=30")
        shutil.rmtree(self.root, ignore_errors=True)

    def crash(self) -> None:
        """Stop the server at once, as a crash would (immediate mode: every session is cut, no
        checkpoint); its data stays for `start_again`."""
        if self._admin is not None:
            self._admin.close()
            self._admin = None
        self._pg_ctl("stop", "--mode=immediate", "--wait", "--timeout=30")

    def start_again(self) -> None:
        """Start the server stopped by `crash` on the same port (it recovers from its WAL)."""
        self._pg_ctl("start", "--wait", "--timeout=60", f"--log={self.log}")
        self._admin = _Admin(self.superuser_dsn("postgres"))

    def server_log(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def _pg_ctl(self, *args: str) -> None:
        self._run("pg_ctl", "--pgdata", str(self.data), "--silent", *args)

    def _run(self, tool: str, *args: str) -> None:
        command = [*self._prefix, str(self.bindir / tool), *args]
        done = subprocess.run(command, capture_output=True, text=True, check=False, timeout=120)
        if done.returncode != 0:
            raise subprocess.CalledProcessError(
                done.returncode, command, done.stdout, done.stderr + self.server_log()[-2000:]
            )

    # --- databases ---

    def url(self, database: str, *, user: str | None = None, password: str | None = None) -> str:
        """The URL the bot is given: its role over TCP with its password."""
        return (
            f"postgresql://{user or self.role}:{password or self.password}"
            f"@{self.host}:{self.port}/{database}"
        )

    def superuser_dsn(self, database: str) -> str:
        """The superuser through the unix socket (trust): for setting up and looking inside."""
        return f"postgresql://{SUPERUSER}@/{database}?host={self.root}&port={self.port}"

    def admin(self, sql: str, *args: object) -> list[asyncpg.Record]:
        """Run one statement as the superuser on the `postgres` database."""
        assert self._admin is not None, "the server is not started"
        return self._admin.call(self._admin.conn.fetch(sql, *args))

    def create_database(self, *, template: str = "template1") -> str:
        """A new database owned by the bot's role; its name."""
        name = f"test_{next(self._names)}"
        self.admin(f"CREATE DATABASE {name} OWNER {self.role} TEMPLATE {template}")
        return name

    def drop_database(self, name: str) -> None:
        self.admin(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")

    def migrated_template(self) -> str:
        """A database at the latest schema, made once, to copy fresh databases from."""
        if self._migrated is None:

            async def run(url: str) -> None:
                conn = await connect(url)
                try:
                    await migrate(conn)
                finally:
                    await conn.close()

            name = self.create_database()
            assert self._admin is not None
            self._admin.call(run(self.url(name)))
            self._migrated = name
        return self._migrated


class _Admin:
    """A superuser connection living on an event loop of its own, in a thread: the fixtures
    are synchronous and must not touch the event loop pytest-asyncio gives each test."""

    def __init__(self, dsn: str) -> None:
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._thread.start()
        self.conn: asyncpg.Connection = self.call(asyncpg.connect(dsn))

    def call(self, coroutine: Coroutine[Any, Any, Any]) -> Any:
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result(timeout=120)

    def close(self) -> None:
        self.call(self.conn.close())
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
        self._loop.close()


def _unavailable(reason: str) -> None:
    if os.environ.get("REQUIRE_POSTGRES"):
        pytest.fail(f"PostgreSQL is required here (REQUIRE_POSTGRES is set): {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """A PostgreSQL server for the whole session (skipped where none can be started)."""
    try:
        server = PostgresServer()
    except Unavailable as why:
        _unavailable(str(why))
        raise AssertionError("unreachable") from None
    try:
        server.start()
        yield server
    finally:
        server.stop()


@pytest.fixture
def postgres_url(postgres_server: PostgresServer) -> Iterator[str]:
    """The URL of a fresh, empty database of the test's own, owned by the bot's role."""
    name = postgres_server.create_database()
    yield postgres_server.url(name)
    postgres_server.drop_database(name)


@pytest.fixture
def migrated_postgres_url(postgres_server: PostgresServer) -> Iterator[str]:
    """The URL of a fresh database of the test's own, at the latest schema."""
    name = postgres_server.create_database(template=postgres_server.migrated_template())
    yield postgres_server.url(name)
    postgres_server.drop_database(name)


def _measure(databases: int = 20) -> None:
    """Print how long the fixtures take here: `python -m tests.postgres`."""
    started = time.perf_counter()
    server = PostgresServer()
    server.start()
    ready = time.perf_counter()
    try:
        timings = []
        for template in ("template1", server.migrated_template()):
            for _ in range(databases):
                at = time.perf_counter()
                name = server.create_database(template=template)
                made = time.perf_counter()
                server.drop_database(name)
                timings.append((template, made - at, time.perf_counter() - made))
    finally:
        stopping = time.perf_counter()
        server.stop()
        stopped = time.perf_counter()
    print(f"server: initdb + start {ready - started:.2f} s, stop {stopped - stopping:.2f} s")
    for template in ("template1", "migrated"):
        rows = [t for t in timings if (t[0] == "template1") == (template == "template1")]
        made = sorted(t[1] for t in rows)
        dropped = sorted(t[2] for t in rows)
        print(
            f"fresh database from {template}: median {made[len(made) // 2] * 1000:.0f} ms "
            f"(max {made[-1] * 1000:.0f}), drop median {dropped[len(dropped) // 2] * 1000:.0f} ms"
        )


if __name__ == "__main__":
    try:
        _measure()
    except Unavailable as why:
        sys.exit(f"cannot start PostgreSQL: {why}")
