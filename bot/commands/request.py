"""A command as someone typed it, and what every command needs to answer it."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from bot.commands.names import Names
from bot.commands.parse import Usage
from bot.commands.people import People
from bot.commands.previews import Previews
from bot.core.alerting.actions import Apply
from bot.core.alerting.engine import EngineSettings
from bot.store.reads import Reads


@dataclass(frozen=True)
class Request:
    """A command as someone typed it, where and who."""

    command: str  # "stock", "transfers", "thresholds" or "alerts" (with or without the slash)
    text: str
    channel: str
    user: str
    user_name: str = ""  # how the bot names them where a mention would ping them


@dataclass
class Context:
    """What the commands read from and write through."""

    reads: Reads  # the stored state (reads only)
    apply: Apply  # changes go through the writer
    admins: frozenset[str] = frozenset()  # who may change rules; empty: everyone
    engine_settings: EngineSettings = field(default_factory=EngineSettings)
    clock: Callable[[], float] = time.time
    previews: Previews = field(default_factory=Previews)
    # Why the transfers of a model (or of all, for None) were not planned yet; None once they
    # were (the planner's answer).
    unplanned: Callable[[str | None], str | None] = lambda _model: None
    people: People | None = None  # who may own a rule (Slack's directory); None: IDs only
    # Errors meaning the database cannot answer now (the store's: a lost connection, a server
    # restarting): the person is told so, not that the bot failed.
    unavailable: tuple[type[BaseException], ...] = ()
    names: Names = field(init=False)

    def __post_init__(self) -> None:
        self.names = Names(self.reads)

    def may_change(self, user: str) -> bool:
        """`user` may change channels' rules (ADMIN_USER_IDS names them, or names no one)."""
        return not self.admins or user in self.admins

    def check_admin(self, user: str) -> None:
        """Usage (nothing changed) unless `user` may change this channel's rules."""
        if not self.may_change(user):
            who = ", ".join(f"<@{a}>" for a in sorted(self.admins))
            raise Usage(f"Only {who} can change this channel's rules. Nothing was changed.")
