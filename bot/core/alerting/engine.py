"""The alert engine: composes the alerting stages and is their one door. Pure: the caller
passes every time in, and persists what `take_effects` hands out.

In: sales (`sales`), time (`tick`), feed health (`feed_changed`, `bad_frame`) and changes
people ask for (`apply`). Out: `take_effects` (incidents, machines, the Slack calls decided,
configuration changes) and `view` (what an incident's message shows). Each stage is a file of
this package; this one only wires them and keeps the order in which time reaches them.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from dataclasses import dataclass, field

from bot.core.alerting import actions
from bot.core.alerting.chains import Chains
from bot.core.alerting.effects import Effects, MachineKey, MuteKey
from bot.core.alerting.escalation import Escalations
from bot.core.alerting.flapping import Flapping
from bot.core.alerting.incidents import Incident
from bot.core.alerting.ledger import Ledger
from bot.core.alerting.machine import AlertMachine
from bot.core.alerting.notifiers import Notifiers
from bot.core.alerting.notify import NotifySettings
from bot.core.alerting.ops import FeedAlerts
from bot.core.alerting.silences import Muting, Silences
from bot.core.alerting.stock import StockAlerts
from bot.core.alerting.transfer_notes import TransferNotes
from bot.core.alerting.view import View, Views
from bot.core.events import SaleEvent
from bot.core.feed_health import Transition as FeedTransition
from bot.core.rules import Change, RuleBook
from bot.core.transfers.book import Transfer, TransferBook, TransferSettings
from bot.core.velocity import PaceBook


@dataclass(frozen=True, slots=True)
class EngineSettings:
    notify: NotifySettings = field(default_factory=NotifySettings)
    chain_min_stores: int = 3  # a model short in this many stores of a channel is chain-wide
    chain_fraction: float = 0.25  # ... and in at least this share of the stores that sell it
    ops_channel: str | None = None
    feed_down_after: float = 60.0  # a feed disconnected or stale this long is an ops alert
    bad_frames_per_minute: int = 60  # more bad frames than this in a minute is an ops alert
    transfers: TransferSettings = field(default_factory=TransferSettings)


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
        self._effects = Effects()
        ledger = self._ledger = Ledger(self._effects, next_id)
        notifiers = self._notifiers = Notifiers(settings.notify, ledger, book)
        self._silences = Silences(ledger, notifiers, self._effects)
        self._flapping = Flapping(ledger, notifiers)
        self._escalations = Escalations(ledger, notifiers)
        self._chains = Chains(
            book,
            ledger,
            notifiers,
            min_stores=settings.chain_min_stores,
            fraction=settings.chain_fraction,
        )
        self._stock = StockAlerts(
            book,
            ledger,
            notifiers,
            self._effects,
            chains=self._chains,
            flapping=self._flapping,
            silences=self._silences,
            escalations=self._escalations,
        )
        self._feeds = FeedAlerts(
            ledger,
            notifiers,
            channel=settings.ops_channel,
            down_after=settings.feed_down_after,
            bad_frames_per_minute=settings.bad_frames_per_minute,
        )
        self._transfer_notes = TransferNotes(self.transfers, book, ledger, notifiers)
        self._views = Views(ledger, self._chains, book, self.transfers, paces)
        self._stock.paces = paces

    @property
    def paces(self) -> PaceBook | None:
        return self._views.paces

    @paces.setter
    def paces(self, paces: PaceBook | None) -> None:
        self._views.paces = self._stock.paces = paces

    @property
    def incidents(self) -> dict[int, Incident]:
        """The incidents still needed, by number (read them; change them through `apply`)."""
        return self._ledger.incidents

    # -- inputs -----------------------------------------------------------------------------

    def sale(self, store: str, model: str, level: int, now: float) -> None:
        """A store sold a pair and has `level` left."""
        self.sales((SaleEvent(store, model, level, now, ""),))

    def sales(self, sales: Iterable[SaleEvent]) -> None:
        """Sales in the order they came (the writer hands over a batch at once)."""
        watched = self.transfers.watched
        for item, watch, sale in self._stock.needing_a_look(sales, watched):
            if watched and item in watched:
                self._transfer_notes.sale(sale.store, sale.model, sale.inventory, sale.at)
            self._stock.sale(item, watch, sale.inventory, sale.at)

    def bad_frame(self, feed: str, reason: str, now: float) -> None:
        """A feed sent a frame that was refused."""
        self._feeds.bad_frame(feed, reason, now)

    def feed_changed(self, transition: FeedTransition) -> None:
        """A feed connected, went stale or dropped."""
        self._feeds.changed(transition)

    def tick(self, now: float) -> None:
        """Time passed: gates, flapping, snoozes, transfers, feed health, grouping windows."""
        self._stock.tick(now)
        self._silences.tick(now)
        self._escalations.tick(now)
        self._transfer_notes.tick(now)
        self._feeds.tick(now)
        self._notifiers.tick(now)
        self._close_finished_digests(now)

    @functools.singledispatchmethod
    def apply(self, action: actions.Action, now: float) -> object:
        """Apply a change someone asked for; returns what it made (an Incident, a Change, a
        Transfer, ...) or raises a Refusal (CommandError, RuleError) and changes nothing."""
        raise TypeError(f"not an action: {action!r}")

    @apply.register
    def _(self, a: actions.Acknowledge, now: float) -> Incident:
        return self._silences.acknowledge(a.incident, a.user, a.name or a.user, now)

    @apply.register
    def _(self, a: actions.Snooze, now: float) -> Incident:
        return self._silences.snooze(a.incident, a.user, a.name or a.user, a.seconds, now)

    @apply.register
    def _(self, a: actions.Mute, now: float) -> Incident:
        return self._silences.mute(a.incident, a.user, a.name or a.user, a.seconds, now)

    @apply.register
    def _(self, a: actions.Unmute, now: float) -> Incident:
        return self._silences.unmute(a.incident, a.user, a.name or a.user, now)

    @apply.register
    def _(self, a: actions.SetRule, now: float) -> Change:
        change = self.book.set_rule(
            a.channel,
            store=a.store,
            model=a.model,
            thresholds=a.thresholds,
            user=a.user,
            at=now,
            owner=a.owner,
            second_owner=a.second_owner,
            escalate=a.escalate,
        )
        return self._configure(change, now)

    @apply.register
    def _(self, a: actions.DefaultRule, now: float) -> Change | None:
        config = self.book.channels.get(a.channel)
        if config is not None and config.rules:
            return None
        return self.apply(actions.SetRule(a.channel, a.thresholds, "settings"), now)

    @apply.register
    def _(self, a: actions.ClearRule, now: float) -> Change:
        change = self.book.clear_rule(a.channel, store=a.store, model=a.model, user=a.user, at=now)
        return self._configure(change, now)

    @apply.register
    def _(self, a: actions.Watch, now: float) -> Change:
        return self._configure(self.book.watch(a.channel, a.scope, user=a.user, at=now), now)

    @apply.register
    def _(self, a: actions.SetQuietHours, now: float) -> Change:
        change = self.book.set_quiet_hours(a.channel, a.quiet, user=a.user, at=now)
        return self._configure(change, now)

    @apply.register
    def _(self, a: actions.FollowStores, now: float) -> tuple[str, ...]:
        # Not alert state: passed through, so that it is written in order with the rest.
        self._effects.homes[a.user] = self.book.followed(a.stores)
        return a.stores

    @apply.register
    def _(self, a: actions.AcceptTransfer, now: float) -> Transfer:
        found = self.transfers.suggestions.get(a.suggestion)
        levels: tuple[int | None, int | None] = (None, None)
        if found is not None and self.paces is not None:
            s = found.suggestion
            levels = tuple(  # the levels now: the plan may be half a minute old
                shelf.level if (shelf := self.paces.shelf(store, s.model)) else None
                for store in (s.source, s.target)
            )
        return self._transfer_notes.accept(a.suggestion, a.user, a.name or a.user, now, levels)

    @apply.register
    def _(self, a: actions.DismissTransfer, now: float) -> Transfer:
        return self._transfer_notes.dismiss(a.suggestion, a.user, now)

    @apply.register
    def _(self, a: actions.CancelTransfer, now: float) -> Transfer:
        return self._transfer_notes.cancel(a.transfer, a.user, a.name or a.user, now)

    @apply.register
    def _(self, a: actions.SetPlans, now: float) -> list[str]:
        return self._transfer_notes.set_plans(a.plans, now)

    # -- outputs ----------------------------------------------------------------------------

    def take_effects(self) -> Effects:
        """What changed since the last call."""
        self._notifiers.take(self._effects)
        return self._effects.take()

    def forget_closed(self) -> None:
        """Drop resolved incidents that no message needs any more (call after rendering)."""
        if not self._ledger.has_closed:
            return
        for incident in self._ledger.forget_closed(self._notifiers.waiting_or_held()):
            self._notifiers.forget(incident)

    def view(self, incident_id: int, now: float) -> View | None:
        """The incident with what it shows inside, for rendering its message."""
        return self._views.view(incident_id, now)

    def open_incidents(self, channel: str | None = None) -> list[Incident]:
        """Open incidents, worst first."""
        return self._ledger.open_incidents(channel)

    # -- state kept across restarts ---------------------------------------------------------

    def restore(
        self,
        *,
        incidents: Iterable[Incident],
        machines: Iterable[tuple[MachineKey, AlertMachine]],
        mutes: Iterable[tuple[MuteKey, Muting]],
        notifiers: Iterable[tuple[str, dict]],
    ) -> None:
        """Load what a previous run persisted (open incidents, machines, mutes, notifiers)."""
        incidents = list(incidents)
        self._ledger.restore(incidents)
        for incident in incidents:
            self._chains.restore(incident)
            self._flapping.restore(incident)
        self._stock.restore(machines)
        self._silences.restore(incidents, mutes)
        self._escalations.restore(incidents)
        self._notifiers.restore(list(notifiers))

    # -- inside -----------------------------------------------------------------------------

    def _configure(self, change: Change, now: float) -> Change:
        self._effects.changes.append(change)
        self._effects.channels.add(change.channel)
        self._stock.unwatched(change.channel, now)
        return change

    def _close_finished_digests(self, now: float) -> None:
        ledger = self._ledger
        for digest_id in list(ledger.digests):
            digest = ledger.incidents[digest_id]
            detail = digest.detail
            # Quiet hours' summary, and a flood's digest once the flood ended or moved on.
            finished = detail.get("reason") == "quiet" or "ended_at" in detail or "next" in detail
            if finished and not ledger.children.get(digest_id):
                self._notifiers.resolve(digest, now, None)
