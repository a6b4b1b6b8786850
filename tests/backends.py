"""Both stores for the same tests: the `database` fixture (tests/conftest.py) runs a test once
on SQLite (a file) and once on PostgreSQL (a fresh migrated database of the test server;
skipped, with the reason, where PostgreSQL cannot run). A test gets a `Database`: it opens
new backends on the same data, and looks inside it behind the writer's back with plain SQL."""

from __future__ import annotations

import contextlib
import re
import sqlite3
from collections.abc import AsyncIterator, Iterable, Sequence
from pathlib import Path

import asyncpg

from bot.store.postgres.backend import PostgresBackend
from bot.store.postgres.partitions import DAY, add_event_partitions
from bot.store.sqlite.backend import SqliteBackend


class Database:
    """One database of either kind. SQL given to `rows` and `execute` uses `?` for parameters
    and `{user}` for config_changes' user column (`user` in SQLite, `user_id` in PostgreSQL,
    where a bare `user` means the role)."""

    def __init__(self, kind: str, where: Path | str) -> None:
        self.kind = kind
        self.where = where

    def new(self) -> SqliteBackend | PostgresBackend:
        """A backend (not opened yet) on this database."""
        if self.kind == "sqlite":
            return SqliteBackend(Path(self.where))
        return PostgresBackend(str(self.where))

    async def rows(self, sql: str, *args: object) -> list[tuple]:
        if self.kind == "sqlite":
            with sqlite3.connect(self.where) as db:
                return [tuple(r) for r in db.execute(self._sql(sql), args).fetchall()]
        async with self._postgres() as conn:
            return [tuple(r) for r in await conn.fetch(self._sql(sql), *args)]

    async def execute(self, sql: str, *args: object) -> None:
        await self.execute_many(sql, [args])

    async def execute_many(self, sql: str, rows: Iterable[Sequence]) -> None:
        """`sql` once per row, in one transaction."""
        if self.kind == "sqlite":
            with sqlite3.connect(self.where) as db:
                db.executemany(self._sql(sql), rows)
            return
        async with self._postgres() as conn:
            await conn.executemany(self._sql(sql), rows)

    async def event_days(self, first_at: float, last_at: float) -> None:
        """Room in the event log for sales from `first_at` to `last_at`, for a test that writes
        them itself: PostgreSQL keeps it in day partitions, which the writer makes as it goes."""
        if self.kind == "postgres":
            async with self._postgres() as conn:
                days = int(last_at // DAY - first_at // DAY)
                await add_event_partitions(conn, first_at, days_ahead=days)

    @contextlib.asynccontextmanager
    async def _postgres(self) -> AsyncIterator[asyncpg.Connection]:
        conn = await asyncpg.connect(str(self.where))
        try:
            yield conn
        finally:
            await conn.close()

    async def refuse_writes(self, store: SqliteBackend | PostgresBackend) -> None:
        """Make the writer's next writes fail as a retry may cure: in SQLite its connection
        turns read-only (as with a full disk); in PostgreSQL the server drops its connection
        and refuses new ones to the database (as while it restarts)."""
        if isinstance(store, SqliteBackend):
            await store.db.execute("PRAGMA query_only = 1")
            return
        await self.cut_off("inventory-bot writer")

    async def cut_off(self, application: str) -> None:
        """PostgreSQL ends the connections of `application` and refuses new ones to the
        database (as while it restarts), until `allow_writes`."""
        self._keeper = conn = await asyncpg.connect(str(self.where))
        self._name = await conn.fetchval("SELECT current_database()")
        await conn.execute(f"ALTER DATABASE {self._name} CONNECTION LIMIT 0")
        await conn.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1",
            application,
        )

    async def allow_writes(self, store: SqliteBackend | PostgresBackend) -> None:
        if isinstance(store, SqliteBackend):
            await store.db.execute("PRAGMA query_only = 0")
            return
        conn = self._keeper
        await conn.execute(f"ALTER DATABASE {self._name} CONNECTION LIMIT -1")
        await conn.close()

    def _sql(self, sql: str) -> str:
        sql = sql.replace("{user}", "user" if self.kind == "sqlite" else "user_id")
        if self.kind == "postgres":
            numbers = iter(range(1, sql.count("?") + 1))
            sql = re.sub(r"\?", lambda _: f"${next(numbers)}", sql)
        return sql
