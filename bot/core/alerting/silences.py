"""What people do to quiet an alert: acknowledge it, snooze it for a while, or mute what it is
about in its channel, until someone unmutes it or for a set time. Each change edits the alert's
message and says who in its thread; when a mute ends, what it held back is posted."""

from __future__ import annotations

from collections.abc import Iterable

from bot.core.alerting import wording
from bot.core.alerting.effects import Effects, MuteKey, Note
from bot.core.alerting.incidents import Incident, Kind, Shown
from bot.core.alerting.ledger import Ledger
from bot.core.alerting.notifiers import Notifiers
from bot.core.errors import CommandError

SNOOZE_CHOICES = (3_600, 4 * 3_600, 24 * 3_600)  # the snooze buttons, and /alerts snooze's default
MIN_SNOOZE = 60
MAX_SNOOZE = 7 * 86_400
MAX_MUTE = 90 * 86_400

Muting = tuple[str, float, float | None]  # who, when, until (None: until unmuted)


def mute_key(incident: Incident) -> MuteKey:
    """What a mute silences: this kind of alert, for this store and model, in this channel."""
    return (incident.channel, incident.kind.value, incident.store or "", incident.model or "")


class Silences:
    """Acknowledgements, snoozes and mutes; see the module docstring."""

    def __init__(self, ledger: Ledger, notifiers: Notifiers, effects: Effects) -> None:
        self._ledger = ledger
        self._notifiers = notifiers
        self._effects = effects
        self._mutes: dict[MuteKey, Muting] = {}
        self._snoozed: set[int] = set()

    def acknowledge(self, incident_id: int, user: str, who: str, now: float) -> Incident:
        incident = self._open_incident(incident_id)
        if incident.acked_by:
            raise CommandError(f"#{incident_id} was already acknowledged by <@{incident.acked_by}>")
        incident.acked_by, incident.acked_at = user, now
        self._ledger.touch(incident)
        self._notifiers.changed(incident, now, wording.acknowledged(who))
        return incident

    def snooze(self, incident_id: int, user: str, who: str, seconds: float, now: float) -> Incident:
        if not MIN_SNOOZE <= seconds <= MAX_SNOOZE:
            raise CommandError("a snooze lasts from a minute to 7 days")
        incident = self._open_incident(incident_id)
        incident.snoozed_by, incident.snoozed_until = user, now + seconds
        self._snoozed.add(incident.id)
        self._ledger.touch(incident)
        self._notifiers.changed(incident, now, wording.snoozed(seconds, who))
        return incident

    def mute(
        self, incident_id: int, user: str, who: str, seconds: float | None, now: float
    ) -> Incident:
        """Mute what this incident is about, in its channel, for `seconds` or until unmuted."""
        if seconds is not None and not MIN_SNOOZE <= seconds <= MAX_MUTE:
            raise CommandError("a mute lasts from a minute to 90 days, or until unmuted")
        incident = self._open_incident(incident_id)
        key = mute_key(incident)
        until = None if seconds is None else now + seconds
        self._mutes[key] = self._effects.mutes[key] = (user, now, until)
        incident.muted_by = user
        self._ledger.touch(incident)
        self._notifiers.changed(incident, now, wording.muted(who, until))
        return incident

    def unmute(self, incident_id: int, user: str, who: str, now: float) -> Incident:
        incident = self._ledger.get(incident_id)
        if incident is None or mute_key(incident) not in self._mutes:
            raise CommandError(f"#{incident_id} is not muted")
        self._lift(mute_key(incident), now, wording.unmuted(who))
        return incident

    def muted(self, incident: Incident) -> bool:
        """A new incident whose key is muted in its channel: kept, never posted."""
        return mute_key(incident) in self._mutes

    def tick(self, now: float) -> None:
        """Snoozes that ended: the alert is announced again in its thread and the channel.
        Mutes that ended: what they held back is posted."""
        for incident_id in list(self._snoozed):
            incident = self._ledger.get(incident_id)
            if incident is None or not incident.open:
                self._snoozed.discard(incident_id)
                continue
            if incident.snoozed(now):
                continue
            self._snoozed.discard(incident_id)
            if incident.snoozed_until is not None:
                incident.snoozed_until = incident.snoozed_by = None
                self._ledger.touch(incident)
                self._notifiers.tell(incident, now, wording.snooze_over(incident), broadcast=True)
        for key, (_, _, until) in list(self._mutes.items()):
            if until is not None and until <= now:
                self._lift(key, now, wording.MUTE_ENDED)

    def restore(
        self, incidents: Iterable[Incident], mutes: Iterable[tuple[MuteKey, Muting]]
    ) -> None:
        for incident in incidents:
            if incident.open and incident.snoozed_until is not None:
                self._snoozed.add(incident.id)
        self._mutes.update(mutes)

    def _lift(self, key: MuteKey, now: float, note: Note) -> None:
        """End the mute of `key`: its open alerts show it, and those it kept out are posted."""
        del self._mutes[key]
        self._effects.mutes[key] = None
        for incident in list(self._ledger.incidents.values()):
            if not incident.open or mute_key(incident) != key:
                continue
            incident.muted_by = None
            self._ledger.touch(incident)
            if incident.shown is Shown.MUTED:
                self._notifiers.announce(incident, now)
            else:
                self._notifiers.changed(incident, now, note)

    def _open_incident(self, incident_id: int) -> Incident:
        incident = self._ledger.get(incident_id)
        if incident is None or not incident.open:
            raise CommandError(f"there is no open alert #{incident_id}")
        if incident.kind is Kind.DIGEST:
            raise CommandError(f"#{incident_id} is a digest; act on the alerts it lists")
        return incident
