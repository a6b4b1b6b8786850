"""What each channel is told, and when: grouping, flood control and quiet hours.

Per channel, in the manner of Alertmanager's notification pipeline:
- a new incident waits a short grouping window (critical ones go at once), then goes out as its
  own message, unless the channel is flooded: more than `flood_limit` new messages in
  `flood_window` seconds (alarm practice: 10 in 10 minutes). A flooded channel gets one digest
  message that folds every new incident, edited as they come and go, until fewer than
  `flood_exit` incidents arrive in a window. An edit notifies no one, so what only edits have
  shown (new incidents, folded ones that ran out) is posted again in a fresh digest every
  `digest_every` seconds, and in a last one when the flood ends with some of it still open;
- a folded incident that runs out outside a running flood leaves for a message of its own;
- during quiet hours non-critical incidents are held, then folded into one summary digest when
  the hours end;
- a change to an incident with its own message edits that message (chat.update) and adds a line
  to its thread; a change to a folded incident refreshes the message that folds it, at most
  every `refresh` seconds unless the change is critical. An incident joining a message that
  folds it refreshes that message at once.
Nothing is dropped: every incident ends up in its own message or in one that folds it.
"""

from __future__ import annotations

from collections import Counter, deque
from dataclasses import dataclass

from bot.core.alerting.effects import Note, Op, Outgoing
from bot.core.alerting.incidents import Incident, Shown
from bot.core.alerting.ledger import Ledger


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
        # What the flood's digest has shown since it was posted only by edits: its alerts (by
        # id) and how many of each severity (those resolved since are gone but still news).
        self._news: list[int] = []
        self._news_counts: Counter[str] = Counter()
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
                if incident.critical and incident.open:
                    self._ran_out_folded(incident, now)
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
            "news_counts": dict(self._news_counts),
            "dirty": list(self._dirty.items()),
        }

    def restore(self, state: dict) -> None:
        self._waiting = {int(k): v for k, v in state.get("waiting", [])}
        self._held = list(state.get("held", []))
        self._posts.extend(state.get("posts", []))
        self._arrivals.extend(state.get("arrivals", []))
        self._flood = state.get("flood")
        self._news = list(state.get("news", []))
        self._news_counts = Counter(state.get("news_counts", {}))
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
        if digest is None:
            digest = self._start_digest(now, "flood")
            self._flood = digest.id
        for incident in incidents:
            self.fold(incident, digest, now)
        if self._unsent_post(digest):
            self._dirty.pop(digest.id, None)  # its post, rendered at commit, shows them
        else:
            for incident in incidents:
                self._add_news(incident)

    def _open_news(self) -> bool:
        return any((i := self._ledger.get(n)) is not None and i.open for n in self._news)

    def _unsent_post(self, incident: Incident) -> bool:
        """Whether `incident`'s post is among the calls not taken yet: rendered at commit,
        it will show what happened until then."""
        return any(o.op is Op.POST and o.incident_id == incident.id for o in self._out)

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
            if self._open_news():  # what only edits have shown goes out in a last digest
                digest = self._roll(digest, now)
            self._news.clear()
            self._news_counts.clear()
            digest.detail["ended_at"] = now
            self._flood = None
            self._touch(digest, urgent=True)

    def _roll_flood_digest(self, now: float) -> None:
        """An edit notifies no one and leaves the message where it was, so a long flood's news
        is posted again: a fresh digest with what came since the last one, at most every
        `digest_every`, and the older digest points to it."""
        digest = self._ledger.get(self._flood)
        if digest is None or now - digest.opened_at < self.settings.digest_every:
            return
        if self._news_counts:
            self._roll(digest, now)

    def _roll(self, digest: Incident, now: float) -> Incident:
        """Post a fresh flood digest after `digest` with the news since it; returns it."""
        news = [self._ledger.get(i) for i in self._news]
        counts = dict(self._news_counts)
        self._news.clear()
        self._news_counts.clear()
        self._saved = False
        fresh = self._start_digest(now, "flood")
        fresh.detail.update(since=digest.opened_at, new=counts)
        digest.detail["next"] = fresh.id
        for incident in news:  # the open ones move; the others are counted in `new`
            if incident is None or not incident.open:
                continue
            child, top = self._outermost(incident)
            if top is digest:
                self._ledger.refold(child, digest, fresh)
        self._flood = fresh.id
        self._touch(digest, urgent=True)
        return fresh

    def _ran_out_folded(self, incident: Incident, now: float) -> None:
        """`incident` ran out while folded, where only an edit would show it. In the running
        flood it is news for the next digest (moved to the current one if an older digest of
        the flood folds it); anywhere else (a flood that is over, quiet hours, a flapping
        notice) it leaves for a message of its own."""
        child, top = self._outermost(incident)
        if top is None:
            return
        if self._flood is None or (top.id != self._flood and not self._leads_to_flood(top)):
            self._ledger.unfold(child, top)
            self._touch(top, urgent=False)
            self._release([child], now)
            return
        current = self._ledger.incidents[self._flood]
        if top is not current:
            self._ledger.refold(child, top, current)
            self._touch(top, urgent=False)
            self._touch(current, urgent=True)
        if incident.id not in self._news and not self._unsent_post(current):
            self._add_news(incident)

    def _outermost(self, incident: Incident) -> tuple[Incident, Incident | None]:
        """The message showing folded `incident` (through a chain, say), and what it folds
        that leads to `incident`."""
        child, top = incident, self._ledger.get(incident.parent_id)
        while top is not None and top.shown is Shown.FOLDED:
            child, top = top, self._ledger.get(top.parent_id)
        return child, top

    def _leads_to_flood(self, digest: Incident) -> bool:
        """Whether `digest` is an older digest of the flood still running."""
        seen = set()
        while digest is not None and digest.id not in seen:
            if digest.id == self._flood:
                return True
            seen.add(digest.id)
            digest = self._ledger.get(digest.detail.get("next", -1))
        return False

    def _add_news(self, incident: Incident) -> None:
        """A change of the flood's digest that only an edit has shown so far."""
        self._news.append(incident.id)
        self._news_counts[
            incident.severity.value if incident.severity else incident.kind.value
        ] += 1

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
