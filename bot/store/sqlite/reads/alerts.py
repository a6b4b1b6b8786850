"""Incidents, channel configuration and its history, mutes."""

from __future__ import annotations

import aiosqlite

from bot.core.alerting.incidents import Incident
from bot.core.rules import Channel, Rule, Scope, Thresholds
from bot.store.codec import INCIDENT_COLUMNS, incident_from_row, quiet_hours, scope_names
from bot.store.rows import MuteRow


class AlertReads:
    """Reads of incidents and channels."""

    _db: aiosqlite.Connection

    async def open_incidents(
        self, channel: str | None = None, *, limit: int = 1000
    ) -> list[Incident]:
        """Open incidents (digests excepted), out of stock first, then low, overstock, others."""
        sql = f"""
            SELECT {INCIDENT_COLUMNS} FROM incidents
            WHERE resolved_at IS NULL AND kind != 'digest' {"AND channel = ?" if channel else ""}
            ORDER BY
                CASE severity WHEN 'out' THEN 0 WHEN 'low' THEN 1 WHEN 'high' THEN 2 ELSE 3 END,
                level, id
            LIMIT ?
        """
        args = (channel, limit) if channel else (limit,)
        async with self._db.execute(sql, args) as cursor:
            return [incident_from_row(row) for row in await cursor.fetchall()]

    async def incident(self, incident_id: int) -> Incident | None:
        sql = f"SELECT {INCIDENT_COLUMNS} FROM incidents WHERE id = ?"
        async with self._db.execute(sql, (incident_id,)) as cursor:
            row = await cursor.fetchone()
        return incident_from_row(row) if row else None

    async def channel_config(self, channel_id: str) -> Channel:
        """A channel's scope, quiet hours and rules as stored (an empty channel if none)."""
        channel = Channel(channel_id)
        async with self._db.execute(
            "SELECT stores, models, quiet_hours FROM channels WHERE id = ?", (channel_id,)
        ) as cursor:
            row = await cursor.fetchone()
        if row is not None:
            channel.scope = Scope(scope_names(row[0]), scope_names(row[1]))
            channel.quiet = quiet_hours(row[2])
        async with self._db.execute(
            "SELECT * FROM rules WHERE channel = ?", (channel_id,)
        ) as cursor:
            for _, store, model, low, high, readings, seconds, by, at in await cursor.fetchall():
                thresholds = Thresholds(low, high, readings, seconds)
                channel.rules[(store, model)] = Rule(channel_id, store, model, thresholds, by, at)
        return channel

    async def config_changes(
        self, channel: str, *, limit: int = 5
    ) -> list[tuple[float, str, str, str]]:
        """The channel's latest configuration changes, newest first: (at, user, action, summary)."""
        sql = (
            "SELECT at, user, action, summary FROM config_changes WHERE channel = ? "
            "ORDER BY id DESC LIMIT ?"
        )
        async with self._db.execute(sql, (channel, limit)) as cursor:
            return [tuple(row) for row in await cursor.fetchall()]

    async def mutes(self, channel: str) -> list[MuteRow]:
        """The channel's mutes, oldest first."""
        sql = (
            "SELECT kind, store, model, muted_by, muted_at, muted_until FROM mutes "
            "WHERE channel = ? ORDER BY muted_at"
        )
        async with self._db.execute(sql, (channel,)) as cursor:
            return [MuteRow(*row) for row in await cursor.fetchall()]
