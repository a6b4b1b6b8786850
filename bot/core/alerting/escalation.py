"""Owners and escalation: an alert under a rule with an owner names the owner in its message
(the post notifies them, its edits do not); if nobody acknowledges it within the rule's
`escalate` seconds, the owner, and the second owner if there is one, are called in its thread,
once (PagerDuty's acknowledgement timeout, without the repeats).

Acknowledging stops it; so do resolving and muting. A snooze holds it until the snooze ends,
and so do the channel's quiet hours. An alert that never gets a message of its own (folded
into a chain-wide alert or a digest, which speak for many alerts at once) calls no one. The
state lives in the incident's `detail`, so it survives a restart with the incident."""

from __future__ import annotations

from collections.abc import Iterable

from bot.core.alerting import wording
from bot.core.alerting.incidents import Incident, Shown
from bot.core.alerting.ledger import Ledger
from bot.core.alerting.notifiers import Notifiers
from bot.core.rules import Rule


class Escalations:
    """The escalations due, by incident; see the module docstring."""

    def __init__(self, ledger: Ledger, notifiers: Notifiers) -> None:
        self._ledger = ledger
        self._notifiers = notifiers
        self._due: dict[int, float] = {}  # incident id -> when its owners are called again

    def fired(self, incident: Incident, rule: Rule, now: float) -> None:
        """A stock alert fired under `rule`: its owners, and when they are called again."""
        if rule.owner is None:
            return
        detail = incident.detail
        detail["owner"] = rule.owner
        if rule.second_owner is not None:
            detail["second_owner"] = rule.second_owner
        if rule.escalate is not None:
            detail["escalate_after"] = rule.escalate
            detail["escalate_at"] = self._due[incident.id] = now + rule.escalate

    def tick(self, now: float) -> None:
        """Call the owners of the alerts whose time is up and that nobody acknowledged."""
        for incident_id, due in list(self._due.items()):
            if due > now:
                continue
            incident = self._ledger.get(incident_id)
            if incident is None or not incident.open or incident.acked_by or incident.muted_by:
                del self._due[incident_id]
                continue
            if incident.shown in (Shown.WAITING, Shown.HELD):
                continue  # not out yet
            if incident.shown is not Shown.MESSAGE:
                del self._due[incident_id]  # folded: the message speaks for many
                continue
            if incident.snoozed(now):
                self._due[incident_id] = incident.snoozed_until or now
                continue
            if self._notifiers.quiet(incident.channel, now):
                continue  # held until the quiet hours end: looked at again each tick
            del self._due[incident_id]
            incident.detail["escalated_at"] = now
            self._ledger.touch(incident)
            note = wording.escalated(
                incident.detail["owner"],
                incident.detail.get("second_owner"),
                incident.detail["escalate_after"],
            )
            self._notifiers.tell(incident, now, note, broadcast=True)

    def restore(self, incidents: Iterable[Incident]) -> None:
        """Escalations still due, from the incidents a previous run persisted."""
        for incident in incidents:
            detail = incident.detail
            if incident.open and "escalate_at" in detail and "escalated_at" not in detail:
                self._due[incident.id] = detail["escalate_at"]
