"""Flapping keys: a key that keeps crossing its threshold (the machine counts its fire/resolve
changes) gets one notice, which folds its alerts until it has been quiet for 30 minutes."""

from __future__ import annotations

from bot.core.alerting import wording
from bot.core.alerting.effects import MachineKey
from bot.core.alerting.incidents import Incident, Kind
from bot.core.alerting.ledger import Ledger
from bot.core.alerting.machine import AlertMachine, Side
from bot.core.alerting.notifiers import Notifiers


class Flapping:
    """The flapping notice of each key that flaps now."""

    def __init__(self, ledger: Ledger, notifiers: Notifiers) -> None:
        self._ledger = ledger
        self._notifiers = notifiers
        self._notices: dict[MachineKey, int] = {}

    def start(self, key: MachineKey, machine: AlertMachine, now: float) -> bool:
        """The key started flapping: post its notice. False if it already has one."""
        if key in self._notices:
            return False
        channel, store, model, side = key
        notice = self._ledger.open(
            channel, Kind.FLAPPING, store, model, None, opened_at=now, now=now, level=machine.level
        )
        # Each alert is a fire and a resolve in the history that made the key flap.
        notice.detail.update(side=side.value, alerts=(len(machine.flips) + 1) // 2)
        self._notices[key] = notice.id
        self._notifiers.announce(notice, now)
        return True

    def notice(self, key: MachineKey) -> Incident | None:
        """The key's notice while it flaps."""
        notice_id = self._notices.get(key)
        return None if notice_id is None else self._ledger.incidents[notice_id]

    def settled(self, key: MachineKey, now: float) -> None:
        """The key stopped flapping: resolve its notice."""
        notice_id = self._notices.pop(key, None)
        if notice_id is not None:
            self._notifiers.resolve(self._ledger.incidents[notice_id], now, wording.SETTLED)

    def restore(self, incident: Incident) -> None:
        if incident.open and incident.kind is Kind.FLAPPING:
            side = Side(incident.detail.get("side", "low"))
            key = (incident.channel, incident.store or "", incident.model or "", side)
            self._notices[key] = incident.id
