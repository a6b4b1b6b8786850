"""Why a store cannot be used, whichever the backend."""

from __future__ import annotations

from bot.core.errors import CannotStart


class SchemaTooNew(CannotStart):
    """The database was written by a newer version of the bot."""

    @classmethod
    def check(cls, found: int, known: int) -> None:
        """Raise if the database's schema version `found` is newer than this bot's `known`
        (SQLite's and PostgreSQL's migrations both ask)."""
        if found > known:
            raise cls(
                f"database schema version {found} is newer than this bot's {known}; upgrade the bot"
            )
