"""What the engine hands out: the Slack calls it decided and every change for the store to
persist, gathered in one place."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, fields
from enum import StrEnum

from bot.core.alerting.incidents import Incident
from bot.core.alerting.machine import AlertMachine, Side
from bot.core.rules import Change

MachineKey = tuple[str, str, str, Side]  # channel, store, model, side
MuteKey = tuple[str, str, str, str]  # channel, kind, store, model ("" where it does not apply)


class Op(StrEnum):
    POST = "post"
    UPDATE = "update"
    REPLY = "reply"


@dataclass(frozen=True, slots=True)
class Note:
    """A line for an incident's thread: `template`, with `{name}` fields filled from `fields`.
    The fields hold text from the feed or from people; the renderer escapes them, so a model
    called `<!here>` pings no one (the template is the bot's own words)."""

    template: str
    fields: tuple[tuple[str, str], ...] = ()

    def text(self, escape: Callable[[str], str] = str) -> str:
        """The line, each field passed through `escape` (as is by default)."""
        return self.template.format_map({name: escape(value) for name, value in self.fields})


@dataclass(frozen=True, slots=True)
class Outgoing:
    """One Slack call to make about an incident's message. Rendering happens later, from the
    incident as it stands when the batch commits."""

    channel: str
    op: Op
    incident_id: int
    note: Note | None = None  # the thread line, for REPLY
    broadcast: bool = False  # a REPLY that also shows in the channel (re-announcement)


@dataclass(slots=True)
class Effects:
    """Everything one batch changed, for the store to persist in the same transaction. Every
    stage writes into the engine's one Effects; `take` hands it over and starts afresh."""

    incidents: dict[int, Incident] = field(default_factory=dict)
    machines: dict[MachineKey, AlertMachine | None] = field(default_factory=dict)
    notifiers: dict[str, dict] = field(default_factory=dict)
    outgoing: list[Outgoing] = field(default_factory=list)
    changes: list[Change] = field(default_factory=list)
    mutes: dict[MuteKey, tuple[str, float] | None] = field(default_factory=dict)
    channels: set[str] = field(default_factory=set)  # whose rules, scope or quiet hours changed
    homes: dict[str, tuple[str, ...]] = field(default_factory=dict)  # user -> stores followed

    def take(self) -> Effects:
        """What was gathered; this one is empty afterwards."""
        taken = Effects(**{f.name: getattr(self, f.name) for f in fields(self)})
        for f in fields(self):
            setattr(self, f.name, f.default_factory())
        return taken
