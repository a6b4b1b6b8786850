"""What each channel is told, and when: grouping, flood control and quiet hours.

Per channel, in the manner of Alertmanager's notification pipeline:
- a new incident waits a short grouping window (critical ones go at once), then goes out as its
  own message, unless the channel is flooded: more than `flood_limit` new messages in
  `flood_window` seconds (alarm practice: 10 in 10 minutes). A flooded channel gets one digest
  message that folds every new incident, edited as they come and go, until fewer than
  `flood_exit` incidents arrive in a window;
- during quiet hours non-critical incidents are held, then folded into one summary digest when
  the hours end;
- a change to an incident with its own message edits that message (chat.update) and adds a line
  to its thread; a change to a folded incident refreshes the message that folds it, at most
  every `refresh` seconds unless the change is critical. An incident joining a message that
  folds it refreshes that message at once.
Nothing is dropped: every incident ends up in its own message or in one that folds it.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

from bot.core.alerting.effects import Effects, Note, Op, Outgoing
from bot.core.alerting.incidents import Incident, Shown
from bot.core.alerting.ledger import Ledger
from bot.core.rules import RuleBook


@dataclass(frozen=True, slots=True)
class NotifySettings:
    group_wait: float = 1.0
    flood_limit: int = 10
    flood_window: float = 600.0
    flood_exit: int = 5
    refresh: float = 5.0
    digest_every: float = 600.0  # a flood's news gets a new message at least this often


class ChannelNotifier:
    """Decides the messages of one channel. Feed it announcements, changes and ticks; read
    `take()` for the calls to make."""

    def __init__(self, channel: str, settings: NotifySettings, ledger: Ledger) -> None:
        self.channel = channel
        self.settings = settings
        self._ledger = ledger
        self._waiting: dict[int, float] = {}  # incident id -> when its window ends
        self._held: list[int] = []  # held during quiet hours
        # Only as many times as the flood rules compare against: the state stays small.
        self._posts: deque[float] = deque(maxlen=settings.flood_limit + 1)  # new messages
        self._arrivals: deque[float] = deque(maxlen=settings.flood_exit)  # new incidents
        self._flood: int | None = None  # the digest of the flood under way
        self._news: list[int] = []  # folded into that digest since it was posted
        self._dirty: dict[int, bool] = {}  # folding incidents to refresh -> urgent
        self._refreshed: dict[int, float] = {}
        self._out: list[Outgoing] = []
        self._saved = True  # nothing changed since state() was last taken

    # -- what the engine tells it ---------------------------------------------------------

    def announce(self, incident: Incident, now: float, *, quiet: bool) -> None:
        """A new incident to tell the channel about."""
        self._saved = False
        self._arrivals.append(now)
        if quiet and not incident.critical:
            incident.shown = Shown.HELD
            self._held.append(incident.id)
        elif incident.critical or self.settings.group_wait <= 0:
            self._release([incident], now)
        else:
            incident.shown = Shown.WAITING
            self._waiting[incident.id] = now + self.settings.group_wait

    def fold(self, incident: Incident, parent: Incident, now: float) -> None:
        """Show `incident` inside `parent`'s message instead of its own."""
        self._saved = False
        self._waiting.pop(incident.id, None)
        incident.shown, incident.parent_id = Shown.FOLDED, parent.id
        self._ledger.folded(incident, parent)
        # Joining a message is the incident's announcement: show it now, not at the next
        # coalesced refresh.
        self._touch(parent, urgent=True)

    def changed(
        self, incident: Incident, now: float, note: Note | None = None, *, broadcast: bool = False
    ) -> None:
        """Something about `incident` changed; `note` is the line for its thread."""
        self._saved = False
        if incident.shown is Shown.MESSAGE:
            self._emit(Op.UPDATE, incident)
            if note:
                self._emit(Op.REPLY, incident, note, broadcast)
        elif incident.shown is Shown.FOLDED:
            parent = self._ledger.get(incident.parent_id)
            if parent is not None:
                self._touch(parent, urgent=incident.critical or broadcast)
        # WAITING and HELD incidents are rendered as they stand when they go out.

    def touch(self, incident: Incident, *, urgent: bool = False) -> None:
        """What a folding message shows changed: refresh it soon (now if urgent)."""
        self._saved = False
        self._touch(incident, urgent=urgent)

    def tick(self, now: float, *, quiet: bool) -> None:
        """Time passed: release what waited long enough, end floods, refresh folded views."""
        ready = [i for i, at in self._waiting.items() if at <= now]
        if ready:
            self._saved = False
            incidents = [self._ledger.get(i) for i in ready]
            for i in ready:
                del self._waiting[i]
            self._release([i for i in incidents if i is not None], now)
        if self._held and not quiet:
            self._saved = False
            held = [self._ledger.get(i) for i in self._held]
            self._held.clear()
            digest = self._start_digest(now, "quiet")
            for incident in held:
                if incident is not None:
                    self.fold(incident, digest, now)
            self._dirty.pop(digest.id, None)  # its first post already shows them
        self._end_flood_if_calm(now)
        self._roll_flood_digest(now)
        self._refresh(now)

    def take(self) -> list[Outgoing]:
        """The calls decided since the last take, in order."""
        out, self._out = self._out, []
        return out

    @property
    def flooded(self) -> bool:
        return self._flood is not None

    def waiting_or_held(self) -> set[int]:
        """Incidents not sent yet: they must stay known until they are."""
        return set(self._waiting) | set(self._held)

    def forget(self, incident_id: int) -> None:
        """The incident is gone for good (resolved and no longer shown)."""
        self._dirty.pop(incident_id, None)
        self._refreshed.pop(incident_id, None)

    # -- state kept across restarts -------------------------------------------------------

    def changed_since_saved(self) -> bool:
        return not self._saved

    def state(self) -> dict:
        """What must survive a restart. When each message was last refreshed is not: after a
        restart a refresh may come a few seconds early, no more."""
        self._saved = True
        return {
            "waiting": list(self._waiting.items()),
            "held": self._held,
            "posts": list(self._posts),
            "arrivals": list(self._arrivals),
            "flood": self._flood,
            "news": self._news,
            "dirty": list(self._dirty.items()),
        }

    def restore(self, state: dict) -> None:
        self._waiting = {int(k): v for k, v in state.get("waiting", [])}
        self._held = list(state.get("held", []))
        self._posts.extend(state.get("posts", []))
        self._arrivals.extend(state.get("arrivals", []))
        self._flood = state.get("flood")
        self._news = list(state.get("news", []))
        self._dirty = {int(k): v for k, v in state.get("dirty", [])}

    # -- inside ---------------------------------------------------------------------------

    def _release(self, incidents: list[Incident], now: float) -> None:
        window_start = now - self.settings.flood_window
        posts = self._posts
        while posts and posts[0] < window_start:
            posts.popleft()
        if self._flood is None and len(posts) + len(incidents) <= self.settings.flood_limit:
            for incident in incidents:
                self._post(incident, now)
            return
        digest = self._ledger.get(self._flood) if self._flood is not None else None
        fresh = digest is None
        if digest is None:
            digest = self._start_digest(now, "flood")
            self._flood = digest.id
        for incident in incidents:
            self.fold(incident, digest, now)
        if fresh:
            self._dirty.pop(digest.id, None)
        else:
            self._news.extend(incident.id for incident in incidents)

    def _start_digest(self, now: float, reason: str) -> Incident:
        digest = self._ledger.open_digest(self.channel, now, reason)
        self._post(digest, now)
        return digest

    def _post(self, incident: Incident, now: float) -> None:
        incident.shown = Shown.MESSAGE
        self._emit(Op.POST, incident)
        self._posts.append(now)
        # The post is rendered at commit, as the incident then stands: no refresh is owed.
        self._dirty.pop(incident.id, None)
        self._refreshed[incident.id] = now

    def _end_flood_if_calm(self, now: float) -> None:
        if self._flood is None:
            return
        arrivals = self._arrivals
        while arrivals and arrivals[0] < now - self.settings.flood_window:
            arrivals.popleft()
        digest = self._ledger.get(self._flood)
        if digest is None:
            self._flood = None
            return
        if now - digest.opened_at < self.settings.flood_window:
            return
        if len(arrivals) < self.settings.flood_exit:
            self._saved = False
            digest.detail["ended_at"] = now
            self._flood = None
            self._news.clear()
            self._touch(digest, urgent=True)

    def _roll_flood_digest(self, now: float) -> None:
        """An edit notifies no one and leaves the message where it was, so a long flood's news
        is posted again: a fresh digest with what came since the last one, at most every
        `digest_every`, and the older digest points to it."""
        digest = self._ledger.get(self._flood)
        if digest is None or now - digest.opened_at < self.settings.digest_every:
            return
        news = [self._ledger.get(i) for i in self._news]
        self._news.clear()
        news = [i for i in news if i is not None and i.open and i.parent_id == digest.id]
        if not news:
            return
        self._saved = False
        fresh = self._start_digest(now, "flood")
        fresh.detail["since"] = digest.opened_at
        digest.detail["next"] = fresh.id
        for incident in news:
            self._ledger.refold(incident, digest, fresh)
        self._flood = fresh.id
        self._touch(digest, urgent=True)

    def _touch(self, parent: Incident, *, urgent: bool) -> None:
        if parent.shown is Shown.FOLDED:
            grandparent = self._ledger.get(parent.parent_id)
            if grandparent is not None:
                self._touch(grandparent, urgent=urgent)
            return
        self._dirty[parent.id] = self._dirty.get(parent.id, False) or urgent

    def _refresh(self, now: float) -> None:
        if self._dirty:
            self._saved = False
        for incident_id, urgent in list(self._dirty.items()):
            incident = self._ledger.get(incident_id)
            if incident is None or incident.shown is not Shown.MESSAGE:
                del self._dirty[incident_id]  # not out yet: it will show its state when it is
                continue
            if urgent or now - self._refreshed.get(incident_id, 0.0) >= self.settings.refresh:
                del self._dirty[incident_id]
                self._refreshed[incident_id] = now
                self._emit(Op.UPDATE, incident)

    def _emit(
        self, op: Op, incident: Incident, note: Note | None = None, broadcast: bool = False
    ) -> None:
        self._out.append(Outgoing(self.channel, op, incident.id, note, broadcast))


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
