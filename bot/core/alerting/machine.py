"""The alert state machine for one (channel, store, model, side): ok -> pending -> firing -> ok.

Side "low" covers running low and running out: out of stock is the critical severity of the
same machine, so it inhibits a separate low alert by construction, skips the gate and escalates
a firing low alert in place. Side "high" is overstock.

- pending: the condition holds but has not yet passed the gate (`gate_readings` readings AND
  `gate_seconds` seconds since the first one); a reading inside the band cancels it silently.
  The ticker promotes a pending alert whose readings are in but whose time is not, since a
  store may sell nothing more for hours.
- firing: announced. It resolves only past the deadband (Thresholds.low_clear / high_clear).
- flapping: fire/resolve changes counted per key over the last hour; at FLAP_CHANGES the key is
  flapping, until it has been quiet for FLAP_SETTLE seconds.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from bot.core.thresholds import Thresholds

FLAP_WINDOW = 3_600.0  # seconds of fire/resolve history kept per key
FLAP_CHANGES = 6  # changes (three alerts fired and resolved) in the window: flapping
FLAP_SETTLE = 1_800.0  # a flapping key with no change for this long has settled


class Side(StrEnum):
    LOW = "low"
    HIGH = "high"


class Phase(StrEnum):
    OK = "ok"
    PENDING = "pending"
    FIRING = "firing"


class Severity(StrEnum):
    OUT = "out"  # out of stock: critical
    LOW = "low"
    HIGH = "high"


class Step(StrEnum):
    """What one reading or tick did to the machine."""

    NONE = "none"
    PENDING = "pending"  # the gate started
    CANCELLED = "cancelled"  # pending, then back inside the band: nothing to tell
    FIRED = "fired"
    ESCALATED = "escalated"  # low -> out of stock
    EASED = "eased"  # out of stock -> low (some stock came back, not enough)
    RESOLVED = "resolved"


@dataclass(slots=True)
class AlertMachine:
    """State of one key on one side. Plain data: the engine persists it as it is."""

    side: Side
    phase: Phase = Phase.OK
    severity: Severity | None = None
    started_at: float = 0.0  # first reading of the current episode
    fired_at: float = 0.0
    readings: int = 0  # readings that met the condition in this episode
    level: int | None = None
    flips: list[float] = field(default_factory=list)  # fire/resolve times, last FLAP_WINDOW
    flapping: bool = False

    def observe(self, level: int, t: Thresholds, now: float) -> Step:
        """A new level was read."""
        self.level = level
        severity = self._classify(level, t)
        if self.phase is Phase.OK:
            if severity is None:
                return Step.NONE
            self.phase, self.severity, self.started_at, self.readings = (
                Phase.PENDING,
                severity,
                now,
                1,
            )
            return self._fire(now) if self._gate_met(t, now) else Step.PENDING
        if self.phase is Phase.PENDING:
            if severity is None:
                self.phase, self.severity, self.readings = Phase.OK, None, 0
                return Step.CANCELLED
            self.readings += 1
            self.severity = severity
            return self._fire(now) if self._gate_met(t, now) else Step.NONE
        if severity is None:
            self.phase, self.severity, self.readings = Phase.OK, None, 0
            self.flips.append(now)
            return Step.RESOLVED
        if severity is not self.severity:
            self.severity = severity
            return Step.ESCALATED if severity is Severity.OUT else Step.EASED
        return Step.NONE

    def tick(self, t: Thresholds, now: float) -> Step:
        """Time passed: a pending alert whose gate is now met fires."""
        if self.phase is Phase.PENDING and self._gate_met(t, now):
            return self._fire(now)
        return Step.NONE

    def update_flapping(self, now: float) -> bool | None:
        """Forget changes older than the window; True when the key starts flapping, False when
        it settles, None when nothing changed."""
        flips = self.flips
        while flips and flips[0] < now - FLAP_WINDOW:
            flips.pop(0)
        if not self.flapping and len(flips) >= FLAP_CHANGES:
            self.flapping = True
            return True
        if self.flapping and (not flips or now - flips[-1] >= FLAP_SETTLE):
            self.flapping = False
            return False
        return None

    @property
    def idle(self) -> bool:
        """Nothing worth keeping: ok, not flapping, no recent history."""
        return self.phase is Phase.OK and not self.flapping and not self.flips

    def _classify(self, level: int, t: Thresholds) -> Severity | None:
        firing = self.phase is Phase.FIRING
        if self.side is Side.LOW:
            if t.low is None:
                return None
            if level == 0:
                return Severity.OUT
            if level <= t.low or (firing and level < t.low_clear):
                return Severity.LOW
            return None
        if t.high is None:
            return None
        if level >= t.high or (firing and level > t.high_clear):
            return Severity.HIGH
        return None

    def _gate_met(self, t: Thresholds, now: float) -> bool:
        # Out of stock always needs acting on: it skips the gate.
        return self.severity is Severity.OUT or (
            self.readings >= t.gate_readings and now - self.started_at >= t.gate_seconds
        )

    def _fire(self, now: float) -> Step:
        self.phase, self.fired_at = Phase.FIRING, now
        self.flips.append(now)
        return Step.FIRED
