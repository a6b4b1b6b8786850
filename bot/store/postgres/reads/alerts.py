"""Incidents, channel configuration and its history, mutes."""

from __future__ import annotations

import asyncpg
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
        found = await self.channels(channel_id)
        return found[0] if found else Channel(channel_id)

    async def channels(self, channel_id: str | None = None) -> list[Channel]:
        """Every configured channel (or only `channel_id`), by ID, with its rules."""
        args = (channel_id,) if channel_id else ()
        where, on = ("WHERE id = $1", "WHERE channel = $1") if channel_id else ("", "")
        async with self._pool.acquire() as conn, conn.transaction(readonly=True):
            rows = await conn.fetch(
                f"SELECT id, stores, models, quiet_hours FROM channels {where}", *args
            )
            # Byte order, as SQLite sorts text.
            rules = await conn.fetch(
                f"SELECT {RULE_COLUMNS} FROM rules {on} "
                'ORDER BY channel COLLATE "C", store COLLATE "C", model COLLATE "C"',
                *args,
            )
        found = {
            id_: Channel(id_, Scope(scope_names(stores), scope_names(models)), quiet_hours(quiet))
            for id_, stores, models, quiet in rows
        }
        for row in rules:
            rule = rule_from_row(row)
            channel = found.setdefault(rule.channel, Channel(rule.channel))
            channel.rules[(rule.store, rule.model)] = rule
        return [found[id_] for id_ in sorted(found)]

    async def home_stores(self, user: str) -> list[str]:
        """The stores `user` follows in the App Home, in the order picked."""
        stores = await self._pool.fetchval(
            "SELECT stores FROM home_stores WHERE user_id = $1", user
        )
        return list(orjson.loads(stores)) if stores else []

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
