"""Changes people (and the planner) ask of the alert engine, as plain data.

A slash command, a button and the planner all express a change as one of these; the writer
applies it with `AlertEngine.apply`, in order with the feed, and commits its effects before the
asker hears the result. Being data, a change can also be handed to another process."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from bot.core.quiet import QuietHours
from bot.core.rules import ANY, Scope
from bot.core.thresholds import Thresholds
from bot.core.transfers.plan import Suggestion


@dataclass(frozen=True, slots=True)
class Acknowledge:
    incident: int
    user: str
    name: str = ""  # the user's display name, to name them in the thread without a ping


@dataclass(frozen=True, slots=True)
class Snooze:
    incident: int
    user: str
    seconds: float
    name: str = ""


@dataclass(frozen=True, slots=True)
class Mute:
    incident: int
    user: str
    seconds: float | None = None  # None: until someone unmutes
    name: str = ""


@dataclass(frozen=True, slots=True)
class Unmute:
    incident: int
    user: str
    name: str = ""


@dataclass(frozen=True, slots=True)
class SetRule:
    channel: str
    thresholds: Thresholds
    user: str
    store: str = ANY
    model: str = ANY
    owner: str | None = None  # a Slack user or user group ID (bot.core.rules.Rule)
    second_owner: str | None = None
    escalate: float | None = None  # seconds


@dataclass(frozen=True, slots=True)
class ClearRule:
    channel: str
    user: str
    store: str = ANY
    model: str = ANY


@dataclass(frozen=True, slots=True)
class DefaultRule:
    """Give a channel with no rules at all this rule (from the settings); leave one that has
    rules as it is."""

    channel: str
    thresholds: Thresholds


@dataclass(frozen=True, slots=True)
class Watch:
    channel: str
    scope: Scope
    user: str


@dataclass(frozen=True, slots=True)
class SetQuietHours:
    channel: str
    quiet: QuietHours | None
    user: str


@dataclass(frozen=True, slots=True)
class FollowStores:
    """The stores a person follows in the App Home (their lowest stock is shown there)."""

    user: str
    stores: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class AcceptTransfer:
    suggestion: int
    user: str
    name: str = ""


@dataclass(frozen=True, slots=True)
class DismissTransfer:
    suggestion: int
    user: str


@dataclass(frozen=True, slots=True)
class CancelTransfer:
    transfer: int
    user: str
    name: str = ""


@dataclass(frozen=True, slots=True)
class SetPlans:
    """The planner's plans: (model, suggestions, the version of its transfers planned from)."""

    plans: tuple[tuple[str, tuple[Suggestion, ...], int], ...]


Action = (
    Acknowledge
    | Snooze
    | Mute
    | Unmute
    | SetRule
    | ClearRule
    | DefaultRule
    | Watch
    | SetQuietHours
    | FollowStores
    | AcceptTransfer
    | DismissTransfer
    | CancelTransfer
    | SetPlans
)

# Hands an action to the writer, which applies it in order with the feed; resolves to what the
# engine made of it once committed, or raises its Refusal.
Apply = Callable[[Action], Awaitable[object]]
