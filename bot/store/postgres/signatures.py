"""The Slack request signatures every process behind one load balancer has accepted lately, in
PostgreSQL: a signed request replayed to another replica than the one it first reached is
refused there too (each process's own memory, bot/core/signing.py ReplayGuard, sees only what
reached it)."""

from __future__ import annotations

import time

import asyncpg
from pydantic import SecretStr

from bot.store.postgres.connect import READER_SETTINGS, create_pool

FORGET_EVERY = 60.0  # seconds between sweeps of the expired signatures


class SeenSignatures:
    """`await first_time(signature, expires_at)`: True once per signature until it expires."""

    def __init__(self, url: str | SecretStr) -> None:
        self._url = url
        self._pool: asyncpg.Pool | None = None
        self._swept = 0.0

    async def open(self) -> None:
        self._pool = await create_pool(
            self._url, name="inventory-bot signatures", settings=READER_SETTINGS, max_size=2
        )

    async def first_time(self, signature: str, expires_at: float) -> bool:
        """Record `signature` (valid until `expires_at`); False if a process already had."""
        assert self._pool is not None, "open() first"
        now = time.time()
        async with self._pool.acquire() as conn:
            if now - self._swept > FORGET_EVERY:
                self._swept = now
                await conn.execute("DELETE FROM slack_signatures WHERE expires_at < $1", now)
            return bool(
                await conn.fetchval(
                    "INSERT INTO slack_signatures (signature, expires_at) VALUES ($1, $2) "
                    "ON CONFLICT DO NOTHING RETURNING true",
                    signature,
                    expires_at,
                )
            )

    async def close(self) -> None:
        if self._pool is not None:
            await self._pool.close()
            self._pool = None
