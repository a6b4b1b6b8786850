"""Tidying at start what older versions left: feeds stored by their full URL, credentials and
all, get the name that hides them (as bot/store/sqlite/connect.py hide_feed_credentials)."""

from __future__ import annotations

import logging

import asyncpg

from bot.store.restore import feeds_to_rename

log = logging.getLogger(__name__)


async def hide_feed_credentials(conn: asyncpg.Connection) -> None:
    """Rename feeds stored by their full URL to the name that hides their credentials, with
    their feed alerts, so no answer shows a password."""
    renamed = feeds_to_rename(await conn.fetch("SELECT id, url FROM feeds ORDER BY id"))
    if not renamed:
        return
    async with conn.transaction():
        for name, url, id_ in renamed:
            # Two URLs that differ only in credentials share a name: the second keeps its id.
            await conn.execute(
                "UPDATE feeds SET url = CASE WHEN EXISTS (SELECT 1 FROM feeds WHERE url = $1) "
                "THEN $1 || ' #' || id ELSE $1 END WHERE id = $2",
                name,
                id_,
            )
            await conn.execute(
                "UPDATE incidents SET store = (SELECT url FROM feeds WHERE id = $1) "
                "WHERE kind IN ('feed_down', 'bad_frames') AND store = $2",
                id_,
                url,
            )
    log.info("feed URLs stored with credentials renamed", extra={"feeds": len(renamed)})
