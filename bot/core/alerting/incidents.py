"""Incidents: what a person sees as one Slack message.

A stock alert that fires opens an incident; it stays open until the alert resolves. Some
incidents fold others instead of each having its own message: a chain-wide shortage folds the
low-stock incidents of one model across stores, a flapping notice folds the incidents of one
key, and a digest folds whatever arrives while a channel is flooded or in its quiet hours.
Nothing folded is lost: each folded incident points at the message that shows it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from bot.core.alerting.machine import Severity


class Kind(StrEnum):
    LOW = "low"  # low or out of stock at one store
    HIGH = "high"  # overstock at one store
    CHAIN = "chain"  # one model short in many stores
    FLAPPING = "flapping"  # one key crossing its threshold over and over
    DIGEST = "digest"  # many incidents in one message (flood or quiet hours)
    FEED_DOWN = "feed_down"  # a feed disconnected or stale
    BAD_FRAMES = "bad_frames"  # a feed sending too many bad frames


class Shown(StrEnum):
    """Where a person sees the incident."""

    WAITING = "waiting"  # in the grouping window, not yet sent
    HELD = "held"  # held during quiet hours, for the summary
    MESSAGE = "message"  # its own Slack message
    FOLDED = "folded"  # inside its parent's message (chain, flapping notice or digest)
    MUTED = "muted"  # the key is muted in this channel: kept for /alerts, not posted


@dataclass(slots=True)
class Incident:
    """One incident. Plain data: the engine changes it, the store persists it."""

    id: int
    channel: str
    kind: Kind
    store: str | None
    model: str | None
    severity: Severity | None
    opened_at: float  # first reading of the condition (or when the digest/notice began)
    fired_at: float
    level: int | None = None
    threshold: int | None = None
    resolved_at: float | None = None
    shown: Shown = Shown.WAITING
    parent_id: int | None = None
    acked_by: str | None = None
    acked_at: float | None = None
    snoozed_by: str | None = None
    snoozed_until: float | None = None
    muted_by: str | None = None
    detail: dict = field(default_factory=dict)  # kind-specific: counts, feed reason, ...

    @property
    def open(self) -> bool:
        return self.resolved_at is None

    @property
    def critical(self) -> bool:
        return self.severity is Severity.OUT or self.kind is Kind.FEED_DOWN

    @property
    def folds_others(self) -> bool:
        return self.kind in (Kind.CHAIN, Kind.FLAPPING, Kind.DIGEST)

    def snoozed(self, now: float) -> bool:
        return self.snoozed_until is not None and now < self.snoozed_until
