"""What an incident's message shows: the incident as it stands, the worst of what it folds, the
rule that applies, how long the stock lasts and the transfer that would help. Stored in the
outbox as data and rendered when the message is sent."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace

from bot.core.alerting.chains import Chains
from bot.core.alerting.incidents import Incident, Kind
from bot.core.alerting.ledger import Ledger, severity_order
from bot.core.alerting.machine import Side
from bot.core.rules import RuleBook
from bot.core.transfers.book import TransferBook
from bot.core.velocity import PaceBook, describe_time_left, hours_to_zero

VIEW_MEMBERS = 15  # members a message names; the rest are counted


@dataclass(frozen=True, slots=True)
class TransferLine:
    """What a low-stock alert says of transfers: one accepted and on its way, or the best
    suggestion (with its number, for the Accept and Dismiss buttons)."""

    kind: str  # "accepted" or "suggested"
    id: int  # the transfer's number, or the suggestion's
    quantity: int
    source: str
    why: str
    by: str | None = None  # who accepted it


@dataclass(frozen=True, slots=True)
class View:
    """An incident as it stands, with what it folds: what its message is rendered from.

    Bounded whatever the incident folds: the worst VIEW_MEMBERS open members by name, the rest
    as counts."""

    incident: Incident
    members: tuple[Incident, ...] = ()  # the worst open members, at most VIEW_MEMBERS
    open_members: int = 0  # open members in all
    counts: tuple[tuple[str, int], ...] = ()  # open members by severity ("out", "low", ...)
    rule: str | None = None  # the rule that applies, in words
    now: float = 0.0
    pace: str | None = None  # low stock: "about 2 h to zero at the current pace"
    transfer: TransferLine | None = None  # low stock: the transfer under way or suggested


class Views:
    """Builds views from the engine's state (read only)."""

    def __init__(
        self,
        ledger: Ledger,
        chains: Chains,
        book: RuleBook,
        transfers: TransferBook,
        paces: PaceBook | None,
    ) -> None:
        self._ledger = ledger
        self._chains = chains
        self._book = book
        self._transfers = transfers
        self.paces = paces

    def view(self, incident_id: int, now: float) -> View | None:
        """The incident with what it shows inside, for rendering its message."""
        incident = self._ledger.get(incident_id)
        if incident is None:
            return None
        members: Iterable[Incident] = ()
        if incident.kind is Kind.CHAIN:
            channel, model = incident.channel, incident.model or ""
            current = self._ledger.current
            ids = (
                current.get((channel, store, model, Side.LOW))
                for store in self._chains.stores_short(channel, model)
            )
            incidents = self._ledger.incidents
            members = (incidents[i] for i in ids if i is not None and i in incidents)
        elif incident.folds_others:
            members = self._ledger.members(incident)
        ordered = sorted((m for m in members if m.open), key=severity_order)
        counts: dict[str, int] = {}
        for member in ordered:
            name = member.severity.value if member.severity else member.kind.value
            counts[name] = counts.get(name, 0) + 1
        rule = pace = transfer = None
        if incident.kind in (Kind.LOW, Kind.HIGH):
            config = self._book.channels.get(incident.channel)
            store, model = incident.store or "", incident.model or ""
            if config is not None and config.scope.covers(store, model):
                rule = config.rule_for(store, model)
        if incident.kind is Kind.LOW and incident.open:
            pace, transfer = self._helping(incident, now)
        return View(
            replace(incident, detail=dict(incident.detail)),
            tuple(replace(m) for m in ordered[:VIEW_MEMBERS]),
            len(ordered),
            tuple(sorted(counts.items())),
            rule.describe() if rule else None,
            now,
            pace,
            transfer,
        )

    def _helping(self, incident: Incident, now: float) -> tuple[str | None, TransferLine | None]:
        """How long the stock lasts at this pace, and the transfer that would help."""
        store, model = incident.store or "", incident.model or ""
        pace = None
        if self.paces is not None and incident.level:
            per_hour = self.paces.rate(store, model, now).risk
            pace = describe_time_left(hours_to_zero(incident.level, per_hour))
        incoming = self._transfers.incoming(store, model)
        if incoming is not None:
            line = TransferLine(
                "accepted",
                incoming.id,
                incoming.quantity,
                incoming.source,
                incoming.why,
                incoming.by,
            )
            return pace, line
        best = self._transfers.best_for(store, model)
        if best is None:
            return pace, None
        s = best.suggestion
        return pace, TransferLine("suggested", best.id, s.quantity, s.source, s.why, None)
