"""Every channel's notifier, and the one door the other stages knock on."""

from __future__ import annotations

from bot.core.alerting.effects import Effects, Note
from bot.core.alerting.incidents import Incident
from bot.core.alerting.ledger import Ledger
from bot.core.alerting.notify import ChannelNotifier, NotifySettings
from bot.core.rules import RuleBook


class Notifiers:
    """Every channel's notifier, and what the other stages ask of them: announce a new
    incident, tell a change, resolve, fold. A channel's notifier is made when first needed."""

    def __init__(self, settings: NotifySettings, ledger: Ledger, book: RuleBook) -> None:
        self.settings = settings
        self._ledger = ledger
        self._book = book
        self.channels: dict[str, ChannelNotifier] = {}

    def of(self, channel: str) -> ChannelNotifier:
        notifier = self.channels.get(channel)
        if notifier is None:
            notifier = self.channels[channel] = ChannelNotifier(
                channel, self.settings, self._ledger
            )
        return notifier

    def quiet(self, channel: str, now: float) -> bool:
        """The channel is in its quiet hours."""
        config = self._book.channels.get(channel)
        return config is not None and config.quiet is not None and config.quiet.active(now)

    def announce(self, incident: Incident, now: float) -> None:
        """A new incident for its channel."""
        channel = incident.channel
        self.of(channel).announce(incident, now, quiet=self.quiet(channel, now))

    def changed(self, incident: Incident, now: float, note: Note | None = None) -> None:
        """Someone acted on the incident: refresh its message, and `note` goes in its thread."""
        self.of(incident.channel).changed(incident, now, note)

    def tell(
        self, incident: Incident, now: float, note: Note | None, *, broadcast: bool = False
    ) -> None:
        """The incident changed by itself: refresh its message; its thread hears `note` unless
        the incident is snoozed (a broadcast is heard anyway)."""
        if incident.snoozed(now) and not broadcast:
            note = None
        self.of(incident.channel).changed(incident, now, note, broadcast=broadcast)

    def resolve(self, incident: Incident, now: float, note: Note | None) -> None:
        """Close the incident and tell it, with `note` for its thread."""
        self._ledger.close(incident, now)
        self.tell(incident, now, note)
        self._ledger.detach(incident)

    def fold(self, incident: Incident, parent: Incident, now: float) -> None:
        """Show `incident` in `parent`'s message instead of its own."""
        self.of(incident.channel).fold(incident, parent, now)

    def touch(self, incident: Incident) -> None:
        """What a folding message shows changed: refresh it soon."""
        self.of(incident.channel).touch(incident)

    def tick(self, now: float) -> None:
        for channel, notifier in self.channels.items():
            notifier.tick(now, quiet=self.quiet(channel, now))

    def take(self, effects: Effects) -> None:
        """Move the calls decided, and the notifier states to persist, into `effects`."""
        for channel, notifier in self.channels.items():
            out = notifier.take()
            if out:
                effects.outgoing.extend(out)
                # A message going out changed how its incident is shown: persist that too.
                for outgoing in out:
                    incident = self._ledger.get(outgoing.incident_id)
                    if incident is not None:
                        self._ledger.touch(incident)
            if notifier.changed_since_saved():
                effects.notifiers[channel] = notifier.state()

    def waiting_or_held(self) -> set[int]:
        """Incidents some channel has not sent yet."""
        return {i for notifier in self.channels.values() for i in notifier.waiting_or_held()}

    def forget(self, incident: Incident) -> None:
        notifier = self.channels.get(incident.channel)
        if notifier is not None:
            notifier.forget(incident.id)

    def restore(self, states: list[tuple[str, dict]]) -> None:
        for channel, state in states:
            self.of(channel).restore(state)
