"""Incidents, channel configuration and its history, mutes."""

from __future__ import annotations

import asyncpg

from bot.core.alerting.incidents import Incident
from bot.core.rules import Channel, Rule, Scope, Thresholds
from bot.store.codec import INCIDENT_COLUMNS, incident_from_row, quiet_hours, scope_names
from bot.store.rows import MuteRow


class AlertReads:
    """Reads of incidents and channels."""

    _pool: asyncpg.Pool

    async def open_incidents(
        self, channel: str | None = None, *, limit: int = 1000
    ) -> list[Incident]:
        """Open incidents (digests excepted), out of stock first, then low, overstock, others."""
        sql = f"""
            SELECT {INCIDENT_COLUMNS} FROM incidents
            WHERE resolved_at IS NULL AND kind != 'digest' {"AND channel = $2" if channel else ""}
            ORDER BY
                CASE severity WHEN 'out' THEN 0 WHEN 'low' THEN 1 WHEN 'high' THEN 2 ELSE 3 END,
                level, id
            LIMIT $1
        """
        args = (limit, channel) if channel else (limit,)
        return [incident_from_row(row) for row in await self._pool.fetch(sql, *args)]

    async def incident(self, incident_id: int) -> Incident | None:
        row = await self._pool.fetchrow(
            f"SELECT {INCIDENT_COLUMNS} FROM incidents WHERE id = $1", incident_id
        )
        return incident_from_row(row) if row else None

    async def channel_config(self, channel_id: str) -> Channel:
        """A channel's scope, quiet hours and rules as stored (an empty channel if none)."""
        channel = Channel(channel_id)
        async with self._pool.acquire() as conn, conn.transaction(readonly=True):
            row = await conn.fetchrow(
                "SELECT stores, models, quiet_hours FROM channels WHERE id = $1", channel_id
            )
            rules = await conn.fetch(
                "SELECT store, model, low, high, gate_readings, gate_seconds, updated_by, "
                "updated_at FROM rules WHERE channel = $1",
                channel_id,
            )
        if row is not None:
            channel.scope = Scope(scope_names(row[0]), scope_names(row[1]))
            channel.quiet = quiet_hours(row[2])
        for store, model, low, high, readings, seconds, by, at in rules:
            thresholds = Thresholds(low, high, readings, seconds)
            channel.rules[(store, model)] = Rule(channel_id, store, model, thresholds, by, at)
        return channel

    async def config_changes(
        self, channel: str, *, limit: int = 5
    ) -> list[tuple[float, str, str, str]]:
        """The channel's latest configuration changes, newest first: (at, user, action, summary)."""
        rows = await self._pool.fetch(
            "SELECT at, user_id, action, summary FROM config_changes WHERE channel = $1 "
            "ORDER BY id DESC LIMIT $2",
            channel,
            limit,
        )
        return [tuple(row) for row in rows]

    async def mutes(self, channel: str) -> list[MuteRow]:
        """The channel's mutes, oldest first."""
        rows = await self._pool.fetch(
            "SELECT kind, store, model, muted_by, muted_at, muted_until FROM mutes "
            "WHERE channel = $1 ORDER BY muted_at",
            channel,
        )
        return [MuteRow(*row) for row in rows]
