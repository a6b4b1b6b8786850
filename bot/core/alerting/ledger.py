"""The ledger of incidents: each by its number, the open incident of each alert key, and which
message folds which. Plain bookkeeping: it decides nothing and tells no one; every incident it
opens or changes is marked for the store to persist."""

from __future__ import annotations

from collections.abc import Iterable

from bot.core.alerting.effects import Effects, MachineKey
from bot.core.alerting.incidents import Incident, Kind
from bot.core.alerting.machine import Severity, Side

_SEVERITY_ORDER = {Severity.OUT: 0, Severity.LOW: 1, Severity.HIGH: 2, None: 3}


def severity_order(incident: Incident) -> tuple:
    """Open before resolved, out of stock first, then low, overstock, the rest; lowest level."""
    return (not incident.open, _SEVERITY_ORDER[incident.severity], incident.level or 0, incident.id)


class Ledger:
    """Every incident the engine still needs; see the module docstring."""

    def __init__(self, effects: Effects, next_id: int = 1) -> None:
        self.incidents: dict[int, Incident] = {}
        self.next_id = next_id
        self.current: dict[MachineKey, int] = {}  # the open incident of each stock alert key
        self.children: dict[int, set[int]] = {}  # folding incident -> the incidents it folds
        self.digests: set[int] = set()  # open digests
        self._closed: set[int] = set()  # resolved, to forget once no message needs them
        self._effects = effects

    def get(self, incident_id: int | None) -> Incident | None:
        return self.incidents.get(incident_id)  # type: ignore[arg-type]

    def open(
        self,
        channel: str,
        kind: Kind,
        store: str | None,
        model: str | None,
        severity: Severity | None,
        *,
        opened_at: float,
        now: float,
        level: int | None = None,
        threshold: int | None = None,
    ) -> Incident:
        """A new incident, with the next number."""
        incident = Incident(
            self.next_id, channel, kind, store, model, severity, opened_at, now, level, threshold
        )
        self.next_id += 1
        self.incidents[incident.id] = incident
        self.touch(incident)
        return incident

    def open_digest(self, channel: str, now: float, reason: str) -> Incident:
        """A digest: one message folding whatever a flood ("flood") or quiet hours ("quiet")
        bring."""
        digest = self.open(channel, Kind.DIGEST, None, None, None, opened_at=now, now=now)
        digest.detail["reason"] = reason
        self.digests.add(digest.id)
        return digest

    def touch(self, incident: Incident) -> None:
        """The incident changed: persist it with the batch."""
        self._effects.incidents[incident.id] = incident

    def folded(self, incident: Incident, parent: Incident) -> None:
        """`parent`'s message now shows `incident`: count it there."""
        self.children.setdefault(parent.id, set()).add(incident.id)
        parent.detail["folded"] = parent.detail.get("folded", 0) + 1
        self.touch(incident)
        self.touch(parent)

    def unfold(self, incident: Incident, parent: Incident) -> None:
        """`incident` leaves `parent`'s message for one of its own."""
        self.children.get(parent.id, set()).discard(incident.id)
        incident.parent_id = None

    def refold(self, incident: Incident, old: Incident, new: Incident) -> None:
        """`incident` moves from `old`'s message to `new`'s."""
        self.children.get(old.id, set()).discard(incident.id)
        old.detail["folded"] = old.detail.get("folded", 1) - 1
        incident.parent_id = new.id
        self.folded(incident, new)
        self.touch(old)

    def members(self, incident: Incident) -> Iterable[Incident]:
        """The incidents `incident` folds that are still known."""
        return (
            self.incidents[i] for i in self.children.get(incident.id, ()) if i in self.incidents
        )

    def close(self, incident: Incident, now: float) -> None:
        """Mark the incident resolved; it is forgotten once no message needs it."""
        incident.resolved_at = now
        self.touch(incident)
        self._closed.add(incident.id)
        self.digests.discard(incident.id)

    def detach(self, incident: Incident) -> None:
        """A resolved incident no longer counts among its parent's open members."""
        parent = self.incidents.get(incident.parent_id or -1)
        if parent is not None:
            self.children.get(parent.id, set()).discard(incident.id)

    def forget_closed(self, needed: set[int]) -> list[Incident]:
        """Drop the resolved incidents that neither `needed` nor a folding message holds;
        returns them."""
        forgotten = []
        for incident_id in list(self._closed):
            incident = self.incidents.get(incident_id)
            if incident is not None and (incident_id in needed or self.children.get(incident_id)):
                continue
            self._closed.discard(incident_id)
            if incident is None:
                continue
            del self.incidents[incident_id]
            self.children.pop(incident_id, None)
            forgotten.append(incident)
        return forgotten

    @property
    def has_closed(self) -> bool:
        return bool(self._closed)

    def open_incidents(self, channel: str | None = None) -> list[Incident]:
        """Open incidents, worst first (see severity_order)."""
        return sorted(
            (
                i
                for i in self.incidents.values()
                if i.open and (channel is None or i.channel == channel)
            ),
            key=severity_order,
        )

    def restore(self, incidents: Iterable[Incident]) -> None:
        """Take back incidents a previous run persisted."""
        for incident in incidents:
            self.incidents[incident.id] = incident
            self.next_id = max(self.next_id, incident.id + 1)
            if incident.parent_id is not None and incident.open:
                self.children.setdefault(incident.parent_id, set()).add(incident.id)
            if not incident.open:
                self._closed.add(incident.id)
            elif incident.kind is Kind.DIGEST:
                self.digests.add(incident.id)
            elif incident.kind in (Kind.LOW, Kind.HIGH):
                side = Side.LOW if incident.kind is Kind.LOW else Side.HIGH
                key = (incident.channel, incident.store or "", incident.model or "", side)
                self.current[key] = incident.id
