"""Incidents, channel configuration and its history, mutes."""

from __future__ import annotations

import aiosqlite
import orjson

from bot.core.alerting.incidents import Incident
from bot.core.rules import Channel, Scope
from bot.store.codec import (
    INCIDENT_COLUMNS,
    RULE_COLUMNS,
    incident_from_row,
    quiet_hours,
    rule_from_row,
    scope_names,
)
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
        found = await self.channels(channel_id)
        return found[0] if found else Channel(channel_id)

    async def channels(self, channel_id: str | None = None) -> list[Channel]:
        """Every configured channel (or only `channel_id`), by ID, with its rules."""
        args = (channel_id,) if channel_id else ()
        found: dict[str, Channel] = {}
        where = "WHERE id = ?" if channel_id else ""
        sql = f"SELECT id, stores, models, quiet_hours FROM channels {where} ORDER BY id"
        async with self._db.execute(sql, args) as cursor:
            for id_, stores, models, quiet in await cursor.fetchall():
                scope = Scope(scope_names(stores), scope_names(models))
                found[id_] = Channel(id_, scope, quiet_hours(quiet))
        where = "WHERE channel = ?" if channel_id else ""
        sql = f"SELECT {RULE_COLUMNS} FROM rules {where} ORDER BY channel, store, model"
        async with self._db.execute(sql, args) as cursor:
            for row in await cursor.fetchall():
                rule = rule_from_row(row)
                channel = found.setdefault(rule.channel, Channel(rule.channel))
                channel.rules[(rule.store, rule.model)] = rule
        return [found[id_] for id_ in sorted(found)]

    async def home_stores(self, user: str) -> list[str]:
        """The stores `user` follows in the App Home, in the order picked."""
        sql = "SELECT stores FROM home_stores WHERE user_id = ?"
        async with self._db.execute(sql, (user,)) as cursor:
            row = await cursor.fetchone()
        return list(orjson.loads(row[0])) if row else []

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
