"""The alert engine: sales, ticks, feed health and people's commands in; incidents and the
Slack calls to make out. Pure: the caller passes every time and persists the effects.

For each sale, each channel watching the (store, model) runs its low-side and high-side alert
machines with the most specific rule. A sale inside every watcher's band, at a key with no
alert under way, costs one cached lookup.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field, replace

from bot.core.alerts import AlertMachine, Phase, Severity, Side, Step
from bot.core.events import SaleEvent
from bot.core.feed_health import FeedState
from bot.core.feed_health import Transition as FeedTransition
from bot.core.incidents import Incident, Kind, Shown
from bot.core.notify import ChannelNotifier, NotifySettings, Outgoing, Registry
from bot.core.rules import Change, KeyWatch, Rule, RuleBook, RuleError, Scope, Thresholds
from bot.core.transfer_book import Transfer, TransferBook, TransferSettings
from bot.core.transfers import Suggestion
from bot.core.velocity import PaceBook, describe_time_left, hours_to_zero

MachineKey = tuple[str, str, str, Side]  # channel, store, model, side
MuteKey = tuple[str, str, str, str]  # channel, kind, store, model ("" where it does not apply)

SNOOZE_CHOICES = (3_600, 4 * 3_600, 24 * 3_600)
VIEW_MEMBERS = 15  # members a message names; the rest are counted
MAX_SNOOZE = 7 * 86_400
_GONE = (
    "suggestion S{} is no longer current: stock has moved since it was made. "
    "`/transfers` shows the current ones"
)


class CommandError(Exception):
    """A command that cannot be done; the message says why, for the person who asked."""


@dataclass(frozen=True, slots=True)
class EngineSettings:
    notify: NotifySettings = field(default_factory=NotifySettings)
    chain_min_stores: int = 3  # a model short in this many stores of a channel is chain-wide
    chain_fraction: float = 0.25  # ... and in at least this share of the stores that sell it
    ops_channel: str | None = None
    feed_down_after: float = 60.0  # a feed disconnected or stale this long is an ops alert
    bad_frames_per_minute: int = 60  # more bad frames than this in a minute is an ops alert
    transfers: TransferSettings = field(default_factory=TransferSettings)


@dataclass(frozen=True, slots=True)
class View:
    """An incident as it stands, with what it folds: what its message is rendered from.

    Bounded whatever the incident folds: the worst VIEW_MEMBERS open members by name, the rest
    as counts. It is stored in the outbox and rendered when the message is sent."""

    incident: Incident
    members: tuple[Incident, ...] = ()  # the worst open members, at most VIEW_MEMBERS
    open_members: int = 0  # open members in all
    counts: tuple[tuple[str, int], ...] = ()  # open members by severity ("out", "low", ...)
    rule: str | None = None  # the rule that applies, in words
    now: float = 0.0
    pace: str | None = None  # low stock: "about 2 h to zero at the current pace"
    transfer: TransferLine | None = None  # low stock: the transfer under way or suggested


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


@dataclass(slots=True)
class Effects:
    """Everything one batch changed, for the store to persist in the same transaction."""

    incidents: dict[int, Incident] = field(default_factory=dict)
    machines: dict[MachineKey, AlertMachine | None] = field(default_factory=dict)
    notifiers: dict[str, dict] = field(default_factory=dict)
    outgoing: list[Outgoing] = field(default_factory=list)
    changes: list[Change] = field(default_factory=list)
    mutes: dict[MuteKey, tuple[str, float] | None] = field(default_factory=dict)
    channels: set[str] = field(default_factory=set)  # whose rules, scope or quiet hours changed


@dataclass(slots=True)
class _Feed:
    state: FeedState = FeedState.DISCONNECTED
    since: float = 0.0
    detail: str = "not connected yet"
    bad: deque = field(default_factory=deque)  # times of recent bad frames
    reasons: dict = field(default_factory=dict)


class AlertEngine:
    """All alert state of the bot, in memory; see the module docstring."""

    def __init__(
        self,
        book: RuleBook,
        settings: EngineSettings,
        *,
        next_id: int = 1,
        transfers: TransferBook | None = None,
        paces: PaceBook | None = None,
    ) -> None:
        self.book = book
        self.settings = settings
        # Alerts show the transfer that would help and how long stock lasts, so the engine
        # holds the transfers (it changes them, in order with the feed) and reads the paces
        # (the writer keeps them).
        self.transfers = transfers or TransferBook(settings.transfers)
        self.paces = paces
        self.incidents: dict[int, Incident] = {}
        self._next_id = next_id
        self._machines: dict[tuple[str, str], dict[tuple[str, Side], AlertMachine]] = {}
        self._pending: set[MachineKey] = set()
        self._flapping: set[MachineKey] = set()
        self._current: dict[MachineKey, int] = {}  # the open incident of each key
        self._mutes: dict[MuteKey, tuple[str, float]] = {}
        self._short: dict[tuple[str, str], set[str]] = {}  # (channel, model) -> stores low
        self._chains: dict[tuple[str, str], int] = {}
        self._flaps: dict[MachineKey, int] = {}
        self._children: dict[int, set[int]] = {}
        self._model_stores: dict[str, set[str]] = {}
        self._chain_sizes: dict[tuple[str, str], tuple[int, int]] = {}
        self._keys: dict[tuple[str, str], KeyWatch] = {}  # who watches each key seen
        self._stored: set[MachineKey] = set()  # machines with a row in the database
        self._book_version = book.version
        self._notifiers: dict[str, ChannelNotifier] = {}
        self._feeds: dict[str, _Feed] = {}
        self._snoozed: set[int] = set()
        self._digests: set[int] = set()  # open digests
        self._closed: set[int] = set()  # resolved, to forget once no message needs them
        self._registry = Registry(self.incidents.get, self._new_digest, self._folded)
        self._fx = Effects()

    # -- inputs -----------------------------------------------------------------------------

    def sale(self, store: str, model: str, level: int, now: float) -> None:
        """A store sold a pair and has `level` left."""
        self.sales((SaleEvent(store, model, level, now, ""),))

    def sales(self, sales: Iterable[SaleEvent]) -> None:
        """Sales in the order they came (the writer hands over a batch at once).

        Most sales cross no threshold of their key, have no alert under way and no transfer
        to follow: those are told apart here, with three lookups, and cost nothing more."""
        if self._book_version != self.book.version:
            self._book_version = self.book.version
            self._keys.clear()
        keys, machines, watched = self._keys, self._machines, self.transfers.watched
        for sale in sales:
            item = (sale.store, sale.model)
            watch = keys.get(item)
            if (
                watch is not None
                and watch.quiet_above < sale.inventory < watch.quiet_below
                and item not in machines
                and not (watched and item in watched)
            ):
                continue
            self._sale(item, watch, sale.inventory, sale.at)

    def _sale(self, item: tuple[str, str], watch: KeyWatch | None, level: int, now: float) -> None:
        store, model = item
        if self.transfers.watched and item in self.transfers.watched:
            for t in self.transfers.sale(store, model, level, now):
                self._transfer_note(t, now, f"Transfer T{t.id} received ({t.quantity} pairs).")
        if watch is None:  # a key new since the start or since the rules changed
            watch = self._keys[item] = self.book.watching(store, model)
            self._model_stores.setdefault(model, set()).add(store)
        machines = self._machines.get(item)
        if machines is None:
            if watch.quiet_above < level < watch.quiet_below:
                return
        else:
            # Alerts under way, whatever the level: it may resolve or escalate them.
            for (channel, side), machine in list(machines.items()):
                rule = watch.rules.get(channel)
                if rule is None:
                    continue
                step = machine.observe(level, rule.thresholds, now)
                key = (channel, store, model, side)
                if step is not Step.NONE:
                    self._stepped(key, machine, step, rule, now)
                elif machine.phase is Phase.FIRING:
                    self.incidents[self._current[key]].level = level
        # New alerts: only the rules this level crosses, taken in threshold order.
        for low, channel, rule in watch.lows:
            if level > low:
                break
            if machines is None or (channel, Side.LOW) not in machines:
                machines = self._start(item, channel, Side.LOW, level=level, rule=rule, now=now)
        for high, channel, rule in watch.highs:
            if level < high:
                break
            if machines is None or (channel, Side.HIGH) not in machines:
                machines = self._start(item, channel, Side.HIGH, level=level, rule=rule, now=now)
        if machines is not None:
            self._drop_idle(item, machines)

    def _start(
        self,
        item: tuple[str, str],
        channel: str,
        side: Side,
        *,
        level: int,
        rule: Rule,
        now: float,
    ) -> dict[tuple[str, Side], AlertMachine]:
        machines = self._machines.setdefault(item, {})
        machine = machines[(channel, side)] = AlertMachine(side)
        step = machine.observe(level, rule.thresholds, now)
        self._stepped((channel, item[0], item[1], side), machine, step, rule, now)
        return machines

    def bad_frame(self, feed: str, reason: str, now: float) -> None:
        """A feed sent a frame that was refused."""
        status = self._feeds.setdefault(feed, _Feed(since=now))
        status.bad.append(now)
        status.reasons[reason] = status.reasons.get(reason, 0) + 1

    def feed_changed(self, transition: FeedTransition) -> None:
        """A feed connected, went stale or dropped."""
        status = self._feeds.setdefault(transition.url, _Feed())
        status.state, status.since, status.detail = (
            transition.after,
            transition.at,
            transition.detail,
        )
        if transition.after is FeedState.LIVE:
            key = (self.settings.ops_channel or "", transition.url, "", Side.LOW)
            self._resolve_special(key, transition.at, "Feed is back: messages are flowing.")

    def tick(self, now: float) -> None:
        """Time passed: gates, snoozes, flapping, feed health, grouping windows."""
        for key in list(self._pending):
            channel, store, model, _ = key
            machine = self._machine(key)
            rule = self._rule(channel, store, model)
            if machine is None or rule is None or machine.phase is not Phase.PENDING:
                self._pending.discard(key)
                continue
            step = machine.tick(rule.thresholds, now)
            if step is not Step.NONE:
                self._stepped(key, machine, step, rule, now)
        for key in list(self._flapping):
            machine = self._machine(key)
            if machine is None or machine.update_flapping(now) is False:
                self._flapping.discard(key)
                self._settled(key, now)
                if machine is not None:
                    self._save_machine(key, machine)
        for incident_id in list(self._snoozed):
            incident = self.incidents.get(incident_id)
            if incident is None or not incident.snoozed(now):
                self._snoozed.discard(incident_id)
            if (
                incident is not None
                and incident.snoozed_until is not None
                and not incident.snoozed(now)
            ):
                incident.snoozed_until = incident.snoozed_by = None
                if incident.open:
                    self._touch(incident)
                    self._tell(
                        incident, now, f"Snooze over: {_state_line(incident)}", broadcast=True
                    )
        for t in self.transfers.tick(now):
            self._transfer_note(
                t,
                now,
                f"Transfer T{t.id} was not seen arriving within "
                f"{self.transfers.settings.expire_after / 3600:g} h: its pairs are no longer "
                "reserved.",
            )
        self._watch_feeds(now)
        for channel, notifier in self._notifiers.items():
            notifier.tick(now, quiet=self._quiet(channel, now))
        self._close_finished_digests(now)

    # -- commands from people ---------------------------------------------------------------

    def acknowledge(self, incident_id: int, user: str, now: float) -> Incident:
        incident = self._open_incident(incident_id)
        if incident.acked_by:
            raise CommandError(f"#{incident_id} was already acknowledged by <@{incident.acked_by}>")
        incident.acked_by, incident.acked_at = user, now
        self._touch(incident)
        self._notifier(incident.channel).changed(incident, now, f"Acknowledged by <@{user}>.")
        return incident

    def snooze(self, incident_id: int, user: str, seconds: float, now: float) -> Incident:
        if not 0 < seconds <= MAX_SNOOZE:
            raise CommandError("a snooze lasts from a minute to 7 days")
        incident = self._open_incident(incident_id)
        incident.snoozed_by, incident.snoozed_until = user, now + seconds
        self._snoozed.add(incident.id)
        self._touch(incident)
        self._notifier(incident.channel).changed(
            incident, now, f"Snoozed for {_duration(seconds)} by <@{user}>."
        )
        return incident

    def mute(self, incident_id: int, user: str, now: float) -> Incident:
        """Mute what this incident is about, in its channel, until unmuted."""
        incident = self._open_incident(incident_id)
        key = _mute_key(incident)
        self._mutes[key] = (user, now)
        self._fx.mutes[key] = (user, now)
        incident.muted_by = user
        self._touch(incident)
        self._notifier(incident.channel).changed(
            incident, now, f"Muted by <@{user}>: no new alerts for this in this channel."
        )
        return incident

    def unmute(self, incident_id: int, user: str, now: float) -> Incident:
        incident = self.incidents.get(incident_id)
        if incident is None or _mute_key(incident) not in self._mutes:
            raise CommandError(f"#{incident_id} is not muted")
        key = _mute_key(incident)
        del self._mutes[key]
        self._fx.mutes[key] = None
        incident.muted_by = None
        self._touch(incident)
        self._notifier(incident.channel).changed(incident, now, f"Unmuted by <@{user}>.")
        return incident

    def set_rule(
        self,
        channel: str,
        *,
        store: str,
        model: str,
        thresholds: Thresholds,
        user: str,
        now: float,
    ) -> Change:
        return self._configure(
            self.book.set_rule(
                channel, store=store, model=model, thresholds=thresholds, user=user, at=now
            ),
            now,
        )

    def ensure_default_rule(
        self, channel: str, thresholds: Thresholds, now: float
    ) -> Change | None:
        """Give a channel with no rules at all a default rule (from the settings). A channel
        someone has configured is left as it is."""
        config = self.book.channels.get(channel)
        if config is not None and config.rules:
            return None
        return self.set_rule(
            channel, store="", model="", thresholds=thresholds, user="settings", now=now
        )

    def clear_rule(self, channel: str, *, store: str, model: str, user: str, now: float) -> Change:
        return self._configure(
            self.book.clear_rule(channel, store=store, model=model, user=user, at=now), now
        )

    def watch(self, channel: str, scope: Scope, *, user: str, now: float) -> Change:
        return self._configure(self.book.watch(channel, scope, user=user, at=now), now)

    def set_quiet_hours(self, channel: str, quiet, *, user: str, now: float) -> Change:
        return self._configure(self.book.set_quiet_hours(channel, quiet, user=user, at=now), now)

    # -- transfers --------------------------------------------------------------------------

    def set_plans(
        self, plans: Iterable[tuple[str, list[Suggestion], int]], now: float
    ) -> list[str]:
        """Make each (model, suggestions, version) current; returns the models whose plan came
        too late (their transfers changed since) and must be planned again."""
        stale = [
            m for m, plan, version in plans if not self.transfers.set_plan(m, plan, version, now)
        ]
        self._show_transfers(now)
        return stale

    def accept_transfer(self, suggestion_id: int, user: str, now: float) -> Transfer:
        found = self.transfers.suggestions.get(suggestion_id)
        levels: tuple[int | None, int | None] = (None, None)
        if found is not None and self.paces is not None:
            s = found.suggestion
            levels = tuple(  # the levels now: the plan may be half a minute old
                shelf.level if (shelf := self.paces.shelf(store, s.model)) else None
                for store in (s.source, s.target)
            )
        t = self.transfers.accept(suggestion_id, user, now, levels)
        if t is None:
            raise CommandError(_GONE.format(suggestion_id))
        self._transfer_note(t, now, f"<@{user}> accepted transfer T{t.id} ({t.quantity} pairs).")
        return t

    def dismiss_transfer(self, suggestion_id: int, user: str, now: float) -> Transfer:
        t = self.transfers.dismiss(suggestion_id, user, now)
        if t is None:
            raise CommandError(_GONE.format(suggestion_id))
        self._show_transfers(now)
        return t

    def cancel_transfer(self, transfer_id: int, user: str, now: float) -> Transfer:
        t = self.transfers.cancel(transfer_id, user, now)
        if t is None:
            raise CommandError(f"there is no open transfer T{transfer_id}")
        self._transfer_note(t, now, f"<@{user}> cancelled transfer T{t.id}.")
        return t

    def _transfer_note(self, t: Transfer, now: float, note: str) -> None:
        self.transfers.shown.discard((t.target, t.model))
        self._show_transfers(now)
        self._show_transfer(t.target, t.model, now, note)

    def _show_transfers(self, now: float) -> None:
        shown, self.transfers.shown = self.transfers.shown, set()
        for store, model in shown:
            self._show_transfer(store, model, now, None)

    def _show_transfer(self, store: str, model: str, now: float, note: str | None) -> None:
        """Refresh the low-stock alerts of (store, model): their transfer line changed."""
        for channel in self.book.watching(store, model).rules:
            incident = self.incidents.get(self._current.get((channel, store, model, Side.LOW), 0))
            if incident is not None and incident.open:
                self._notifier(channel).changed(incident, now, note)

    # -- outputs ----------------------------------------------------------------------------

    def take_effects(self) -> Effects:
        """What changed since the last call; the engine forgets incidents no one needs now."""
        for channel, notifier in self._notifiers.items():
            out = notifier.take()
            if out:
                self._fx.outgoing.extend(out)
                # A message going out changed how its incident is shown: persist that too.
                for outgoing in out:
                    incident = self.incidents.get(outgoing.incident_id)
                    if incident is not None:
                        self._touch(incident)
            if notifier.changed_since_saved():
                self._fx.notifiers[channel] = notifier.state()
        effects, self._fx = self._fx, Effects()
        return effects

    def forget_closed(self) -> None:
        """Drop resolved incidents that no message needs any more (call after rendering)."""
        if not self._closed:
            return
        needed: set[int] = set()
        for notifier in self._notifiers.values():
            needed.update(notifier.waiting_or_held())
        for incident_id in list(self._closed):
            incident = self.incidents.get(incident_id)
            if incident is not None and (incident_id in needed or self._children.get(incident_id)):
                continue
            self._closed.discard(incident_id)
            if incident is None:
                continue
            del self.incidents[incident_id]
            self._children.pop(incident_id, None)
            self._notifier(incident.channel).forget(incident_id)

    def view(self, incident_id: int, now: float) -> View | None:
        """The incident with what it shows inside, for rendering its message."""
        incident = self.incidents.get(incident_id)
        if incident is None:
            return None
        members: Iterable[Incident] = ()
        if incident.kind is Kind.CHAIN:
            ids = (
                self._current.get((incident.channel, store, incident.model or "", Side.LOW))
                for store in self._short.get((incident.channel, incident.model or ""), ())
            )
            members = (self.incidents[i] for i in ids if i is not None and i in self.incidents)
        elif incident.folds_others:
            members = (
                self.incidents[i]
                for i in self._children.get(incident_id, ())
                if i in self.incidents
            )
        ordered = sorted((m for m in members if m.open), key=_severity_order)
        counts: dict[str, int] = {}
        for member in ordered:
            name = member.severity.value if member.severity else member.kind.value
            counts[name] = counts.get(name, 0) + 1
        rule = pace = transfer = None
        if incident.kind in (Kind.LOW, Kind.HIGH):
            rule = self._rule(incident.channel, incident.store or "", incident.model or "")
        if incident.kind is Kind.LOW and incident.open:
            pace, transfer = self._helping(
                incident.store or "", incident.model or "", incident, now
            )
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

    def _helping(
        self, store: str, model: str, incident: Incident, now: float
    ) -> tuple[str | None, TransferLine | None]:
        """How long the stock lasts at this pace, and the transfer that would help."""
        pace = None
        if self.paces is not None and incident.level:
            per_hour = self.paces.rate(store, model, now).risk
            pace = describe_time_left(hours_to_zero(incident.level, per_hour))
        incoming = self.transfers.incoming(store, model)
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
        best = self.transfers.best_for(store, model)
        if best is None:
            return pace, None
        s = best.suggestion
        return pace, TransferLine("suggested", best.id, s.quantity, s.source, s.why, None)

    def open_incidents(self, channel: str | None = None) -> list[Incident]:
        return sorted(
            (
                i
                for i in self.incidents.values()
                if i.open and (channel is None or i.channel == channel)
            ),
            key=_severity_order,
        )

    # -- state kept across restarts ---------------------------------------------------------

    def restore(
        self,
        *,
        incidents: Iterable[Incident],
        machines: Iterable[tuple[MachineKey, AlertMachine]],
        mutes: Iterable[tuple[MuteKey, tuple[str, float]]],
        notifiers: Iterable[tuple[str, dict]],
    ) -> None:
        """Load what a previous run persisted (open incidents, machines, mutes, notifiers)."""
        for incident in incidents:
            self.incidents[incident.id] = incident
            self._next_id = max(self._next_id, incident.id + 1)
            if incident.parent_id is not None and incident.open:
                self._children.setdefault(incident.parent_id, set()).add(incident.id)
            if not incident.open:
                self._closed.add(incident.id)
                continue
            if incident.kind is Kind.CHAIN:
                self._chains[(incident.channel, incident.model or "")] = incident.id
            elif incident.kind is Kind.DIGEST:
                self._digests.add(incident.id)
            if incident.snoozed_until is not None:
                self._snoozed.add(incident.id)
        for key, machine in machines:
            channel, store, model, side = key
            self._machines.setdefault((store, model), {})[(channel, side)] = machine
            self._stored.add(key)
            if machine.phase is Phase.PENDING:
                self._pending.add(key)
            if machine.flapping:
                self._flapping.add(key)
        for incident in self.incidents.values():
            if not incident.open:
                continue
            if incident.kind in (Kind.LOW, Kind.HIGH):
                side = Side.LOW if incident.kind is Kind.LOW else Side.HIGH
                key = (incident.channel, incident.store or "", incident.model or "", side)
                self._current[key] = incident.id
                if side is Side.LOW:
                    self._short.setdefault((incident.channel, incident.model or ""), set()).add(
                        incident.store or ""
                    )
            elif incident.kind is Kind.FLAPPING:
                side = Side(incident.detail.get("side", "low"))
                self._flaps[
                    (incident.channel, incident.store or "", incident.model or "", side)
                ] = incident.id
        self._mutes.update(mutes)
        for channel, state in notifiers:
            self._notifier(channel).restore(state)

    # -- inside -----------------------------------------------------------------------------

    def _stepped(
        self, key: MachineKey, machine: AlertMachine, step: Step, rule: Rule, now: float
    ) -> None:
        channel, store, model, side = key
        self._save_machine(key, machine)
        if step is Step.PENDING:
            self._pending.add(key)
        elif step is Step.CANCELLED:
            self._pending.discard(key)
        elif step is Step.FIRED:
            self._pending.discard(key)
            self._fired(key, machine, rule, now)
        elif step in (Step.ESCALATED, Step.EASED):
            incident = self.incidents[self._current[key]]
            incident.severity, incident.level = machine.severity, machine.level
            self._touch(incident)
            parent = self.incidents.get(incident.parent_id or -1)
            if step is Step.ESCALATED and parent is not None and parent.kind is Kind.CHAIN:
                # Out of stock is critical: it leaves the chain's message for one of its own.
                self._children.get(parent.id, set()).discard(incident.id)
                incident.parent_id = None
                notifier = self._notifier(channel)
                notifier.announce(incident, now, quiet=self._quiet(channel, now))
                notifier.touch(parent)
            else:
                self._tell(incident, now, _state_line(incident, step))
        elif step is Step.RESOLVED:
            incident = self.incidents[self._current.pop(key)]
            incident.level = machine.level
            self._resolve(incident, now, _state_line(incident, step))
            if side is Side.LOW:
                self._short.get((channel, model), set()).discard(store)
                self._update_chain(channel, model, now)
            if machine.update_flapping(now):
                self._start_flapping(key, machine, now)

    def _fired(self, key: MachineKey, machine: AlertMachine, rule: Rule, now: float) -> None:
        channel, store, model, side = key
        t = rule.thresholds
        incident = self._new_incident(
            channel,
            Kind.LOW if side is Side.LOW else Kind.HIGH,
            store,
            model,
            machine.severity,
            opened_at=machine.started_at,
            now=now,
            level=machine.level,
            threshold=t.low if side is Side.LOW else t.high,
        )
        self._current[key] = incident.id
        chain = None
        if side is Side.LOW:
            self._short.setdefault((channel, model), set()).add(store)
            chain = self._update_chain(channel, model, now)
        if _mute_key(incident) in self._mutes:
            incident.shown = Shown.MUTED
            return
        if machine.update_flapping(now):
            self._start_flapping(key, machine, now)
        flap_id = self._flaps.get(key)
        if flap_id is not None:
            flap = self.incidents[flap_id]
            flap.detail["alerts"] = flap.detail.get("alerts", 0) + 1
            self._fold(incident, flap, now)  # the fold refreshes the notice
        elif chain is not None and not incident.critical:
            self._fold(incident, chain, now)
        else:
            self._notifier(channel).announce(incident, now, quiet=self._quiet(channel, now))

    def _start_flapping(self, key: MachineKey, machine: AlertMachine, now: float) -> None:
        if key in self._flaps:
            return
        channel, store, model, side = key
        flap = self._new_incident(
            channel,
            Kind.FLAPPING,
            store,
            model,
            None,
            opened_at=now,
            now=now,
            level=machine.level,
            threshold=None,
        )
        # Each alert is a fire and a resolve in the history that made the key flap.
        flap.detail.update(side=side.value, alerts=(len(machine.flips) + 1) // 2)
        self._flaps[key] = flap.id
        self._flapping.add(key)
        self._notifier(channel).announce(flap, now, quiet=self._quiet(channel, now))

    def _settled(self, key: MachineKey, now: float) -> None:
        flap_id = self._flaps.pop(key, None)
        if flap_id is not None:
            self._resolve(
                self.incidents[flap_id], now, "Settled: no threshold crossing for 30 minutes."
            )

    def _update_chain(self, channel: str, model: str, now: float) -> Incident | None:
        """Keep the chain-wide shortage of (channel, model) in step with its short stores:
        open it when enough stores are short, refresh it, resolve it when none are."""
        short = self._short.get((channel, model), set())
        chain = self.incidents.get(self._chains.get((channel, model), -1))
        if chain is not None:
            chain.detail["stores"] = len(short)
            self._touch(chain)
            if short:
                self._notifier(channel).touch(chain)
                return chain
            del self._chains[(channel, model)]
            self._resolve(chain, now, f"Resolved: {model} is back in stock everywhere.")
            return None
        if len(short) < self.settings.chain_min_stores or len(short) < self._chain_min(
            channel, model
        ):
            return None
        chain = self._new_incident(
            channel,
            Kind.CHAIN,
            None,
            model,
            Severity.LOW,
            opened_at=now,
            now=now,
            level=None,
            threshold=None,
        )
        chain.detail["stores"] = len(short)
        self._chains[(channel, model)] = chain.id
        self._notifier(channel).announce(chain, now, quiet=self._quiet(channel, now))
        # Stores whose low alert is still in the grouping window join the chain's message.
        for other in short:
            member = self.incidents.get(self._current.get((channel, other, model, Side.LOW), -1))
            if member is not None and member.shown is Shown.WAITING and not member.critical:
                self._fold(member, chain, now)
        return chain

    def _chain_min(self, channel: str, model: str) -> int:
        scope = self.book.channel(channel).scope
        selling = sum(1 for s in self._model_stores.get(model, ()) if scope.covers(s, model))
        return max(
            self.settings.chain_min_stores, math.ceil(self.settings.chain_fraction * selling)
        )

    def _fold(self, incident: Incident, parent: Incident, now: float) -> None:
        self._notifier(incident.channel).fold(incident, parent, now)

    def _folded(self, incident: Incident, parent: Incident) -> None:
        self._children.setdefault(parent.id, set()).add(incident.id)
        parent.detail["folded"] = parent.detail.get("folded", 0) + 1
        self._touch(incident)
        self._touch(parent)

    def _resolve(self, incident: Incident, now: float, note: str | None) -> None:
        incident.resolved_at = now
        self._touch(incident)
        self._closed.add(incident.id)
        self._snoozed.discard(incident.id)
        self._digests.discard(incident.id)
        self._tell(incident, now, note)
        parent = self.incidents.get(incident.parent_id or -1)
        if parent is not None:
            self._children.get(parent.id, set()).discard(incident.id)

    def _tell(
        self, incident: Incident, now: float, note: str | None, *, broadcast: bool = False
    ) -> None:
        """Refresh the incident's message; its thread hears `note` unless it is snoozed."""
        if incident.snoozed(now) and not broadcast:
            note = None
        self._notifier(incident.channel).changed(incident, now, note, broadcast=broadcast)

    def _new_digest(self, channel: str, now: float, reason: str) -> Incident:
        digest = self._new_incident(
            channel,
            Kind.DIGEST,
            None,
            None,
            None,
            opened_at=now,
            now=now,
            level=None,
            threshold=None,
        )
        digest.detail["reason"] = reason
        self._digests.add(digest.id)
        return digest

    def _close_finished_digests(self, now: float) -> None:
        for digest_id in list(self._digests):
            digest = self.incidents[digest_id]
            finished = digest.detail.get("reason") == "quiet" or "ended_at" in digest.detail
            if finished and not self._children.get(digest_id):
                self._resolve(digest, now, None)

    def _new_incident(
        self,
        channel: str,
        kind: Kind,
        store: str | None,
        model: str | None,
        severity: Severity | None,
        *,
        opened_at: float,
        now: float,
        level: int | None,
        threshold: int | None,
    ) -> Incident:
        incident = Incident(
            self._next_id, channel, kind, store, model, severity, opened_at, now, level, threshold
        )
        self._next_id += 1
        self.incidents[incident.id] = incident
        self._touch(incident)
        return incident

    def _watch_feeds(self, now: float) -> None:
        ops = self.settings.ops_channel
        for url, status in self._feeds.items():
            bad = status.bad
            while bad and bad[0] < now - 60:
                bad.popleft()
            if not bad:
                status.reasons.clear()
            if ops is None:
                continue
            down_key = (ops, url, "", Side.LOW)
            # Stale already means silent for the limit; disconnected must last as long.
            down = status.state is FeedState.STALE or (
                status.state is FeedState.DISCONNECTED
                and now - status.since >= self.settings.feed_down_after
            )
            if down and down_key not in self._current:
                incident = self._new_incident(
                    ops,
                    Kind.FEED_DOWN,
                    url,
                    None,
                    None,
                    opened_at=status.since,
                    now=now,
                    level=None,
                    threshold=None,
                )
                incident.detail.update(state=status.state.value, reason=status.detail)
                self._current[down_key] = incident.id
                self._notifier(ops).announce(incident, now, quiet=self._quiet(ops, now))
            bad_key = (ops, url, "", Side.HIGH)
            limit = self.settings.bad_frames_per_minute
            if len(bad) > limit and bad_key not in self._current:
                incident = self._new_incident(
                    ops,
                    Kind.BAD_FRAMES,
                    url,
                    None,
                    None,
                    opened_at=bad[0],
                    now=now,
                    level=len(bad),
                    threshold=limit,
                )
                incident.detail["reasons"] = dict(status.reasons)
                self._current[bad_key] = incident.id
                self._notifier(ops).announce(incident, now, quiet=self._quiet(ops, now))
            elif len(bad) <= limit and bad_key in self._current:
                self._resolve_special(
                    bad_key, now, "Resolved: bad frames are back under the limit."
                )

    def _resolve_special(self, key: MachineKey, now: float, note: str) -> None:
        incident_id = self._current.pop(key, None)
        if incident_id is not None:
            self._resolve(self.incidents[incident_id], now, note)

    def _configure(self, change: Change, now: float) -> Change:
        self._fx.changes.append(change)
        self._fx.channels.add(change.channel)
        self._chain_sizes.clear()
        # Keys this channel no longer watches: their alerts end here, quietly resolved.
        for item, machines in list(self._machines.items()):
            store, model = item
            for channel, side in list(machines):
                if channel != change.channel or self._rule(channel, store, model) is not None:
                    continue
                key = (channel, store, model, side)
                if key in self._current:
                    incident = self.incidents[self._current.pop(key)]
                    self._resolve(incident, now, "No longer watched here (the rules changed).")
                    if side is Side.LOW:
                        self._short.get((channel, model), set()).discard(store)
                        self._update_chain(channel, model, now)
                del machines[(channel, side)]
                self._pending.discard(key)
                self._flapping.discard(key)
                self._forget_machine(key)
            self._drop_idle(item, machines)
        return change

    def _open_incident(self, incident_id: int) -> Incident:
        incident = self.incidents.get(incident_id)
        if incident is None or not incident.open:
            raise CommandError(f"there is no open alert #{incident_id}")
        if incident.kind is Kind.DIGEST:
            raise CommandError(f"#{incident_id} is a digest; act on the alerts it lists")
        return incident

    def _machine(self, key: MachineKey) -> AlertMachine | None:
        channel, store, model, side = key
        return self._machines.get((store, model), {}).get((channel, side))

    def _rule(self, channel: str, store: str, model: str) -> Rule | None:
        config = self.book.channels.get(channel)
        if config is None or not config.scope.covers(store, model):
            return None
        return config.rule_for(store, model)

    def _drop_idle(self, item: tuple[str, str], machines: dict) -> None:
        for (channel, side), machine in list(machines.items()):
            if machine.idle:
                del machines[(channel, side)]
                self._forget_machine((channel, item[0], item[1], side))
        if not machines:
            self._machines.pop(item, None)

    def _save_machine(self, key: MachineKey, machine: AlertMachine) -> None:
        # Kept across restarts: firing machines and flap history. A pending gate is not: after
        # a restart it starts again at the next reading, and the churn of gates that open and
        # cancel (a threshold inside the usual range) costs no writes.
        if machine.phase is Phase.FIRING or machine.flips or machine.flapping:
            # The machine itself, not a copy: the batch persists it as it stands at the end.
            self._fx.machines[key] = machine
            self._stored.add(key)
        else:
            self._forget_machine(key)

    def _forget_machine(self, key: MachineKey) -> None:
        if key in self._stored:
            self._stored.discard(key)
            self._fx.machines[key] = None
        else:
            self._fx.machines.pop(key, None)

    def _touch(self, incident: Incident) -> None:
        self._fx.incidents[incident.id] = incident

    def _notifier(self, channel: str) -> ChannelNotifier:
        notifier = self._notifiers.get(channel)
        if notifier is None:
            notifier = self._notifiers[channel] = ChannelNotifier(
                channel, self.settings.notify, self._registry
            )
        return notifier

    def _quiet(self, channel: str, now: float) -> bool:
        config = self.book.channels.get(channel)
        return config is not None and config.quiet is not None and config.quiet.active(now)


def _could_fire(level: int, t: Thresholds, side: Side) -> bool:
    if side is Side.LOW:
        return t.low is not None and level <= t.low
    return t.high is not None and level >= t.high


def _mute_key(incident: Incident) -> MuteKey:
    return (incident.channel, incident.kind.value, incident.store or "", incident.model or "")


_SEVERITY_ORDER = {Severity.OUT: 0, Severity.LOW: 1, Severity.HIGH: 2, None: 3}


def _severity_order(incident: Incident) -> tuple:
    return (not incident.open, _SEVERITY_ORDER[incident.severity], incident.level or 0, incident.id)


def _state_line(incident: Incident, step: Step | None = None) -> str:
    """One line for an incident's thread: what it is now."""
    level = incident.level
    if step is Step.RESOLVED:
        return f"Resolved: {level} in stock."
    if incident.severity is Severity.OUT:
        return "Now out of stock (0 left)." if step else "still out of stock."
    if incident.severity is Severity.LOW:
        return (
            f"Restocked to {level}, still low."
            if step is Step.EASED
            else f"still low ({level} left)."
        )
    if incident.severity is Severity.HIGH:
        return f"still overstocked ({level})."
    return "still open."


def _duration(seconds: float) -> str:
    hours = seconds / 3600
    if hours >= 1 and hours == int(hours):
        return f"{int(hours)} h"
    return f"{round(seconds / 60)} min"


__all__ = ["SNOOZE_CHOICES", "AlertEngine", "CommandError", "EngineSettings", "RuleError", "View"]
