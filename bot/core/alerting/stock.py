"""Stock alerts per key: for each sale, each channel watching the (store, model) runs its low-side
and high-side alert machines with the most specific rule. A sale inside every watcher's band, at
a key with no alert under way and no transfer followed, costs three dictionary lookups.

A rule in days of cover means pairs that depend on the shelf's pace: its three-day pace (see
`cover_pace`). A key watched by such a rule gets a watch of its own, in pairs at that pace,
kept REPACE_EVERY seconds and then made again at the next sale: the three lookups stay the
whole cost of a quiet sale, and a three-day pace moves little in a minute.

A machine that fires opens an incident; where it goes is decided here: muted (kept, not posted),
folded into its key's flapping notice or its model's chain-wide shortage, or announced."""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Iterable, Iterator

from bot.core.alerting import wording
from bot.core.alerting.chains import Chains
from bot.core.alerting.effects import Effects, MachineKey
from bot.core.alerting.escalation import Escalations
from bot.core.alerting.flapping import Flapping
from bot.core.alerting.incidents import Kind, Shown
from bot.core.alerting.ledger import Ledger
from bot.core.alerting.machine import AlertMachine, Phase, Side, Step
from bot.core.alerting.notifiers import Notifiers
from bot.core.alerting.silences import Silences
from bot.core.events import SaleEvent
from bot.core.rules import KeyWatch, Rule, RuleBook
from bot.core.velocity import PaceBook

Item = tuple[str, str]  # store, model
REPACE_EVERY = 60.0  # seconds a key's watch in pairs stands for its cover rules
Machines = dict[tuple[str, Side], AlertMachine]  # (channel, side) -> machine, for one item


class StockAlerts:
    """Every key's alert machines; see the module docstring."""

    def __init__(
        self,
        book: RuleBook,
        ledger: Ledger,
        notifiers: Notifiers,
        effects: Effects,
        *,
        chains: Chains,
        flapping: Flapping,
        silences: Silences,
        escalations: Escalations,
    ) -> None:
        self._book = book
        self._ledger = ledger
        self._notifiers = notifiers
        self._effects = effects
        self._chains = chains
        self._flapping = flapping
        self._silences = silences
        self._escalations = escalations
        self.paces: PaceBook | None = None  # read for cover rules (the writer keeps them)
        self._machines: dict[Item, Machines] = {}
        # Pending machines whose readings are in and whose gate waits only on time: the ticker
        # looks at these. (One still waiting for a reading is left to its next sale: with
        # thousands of shelves pending on readings, a tick looking at each cost seconds.)
        self._pending: set[MachineKey] = set()
        self._flappers: set[MachineKey] = set()  # machines flapping now
        self._keys: dict[Item, KeyWatch] = {}  # who watches each key seen
        self._book_version = book.version
        self._stored: set[MachineKey] = set()  # machines with a row in the database
        # Watches in pairs made for cover rules, by when they are made again: (until, n, item,
        # watch); one still in `_keys` at its time is dropped there.
        self._repace: list[tuple[float, int, Item, KeyWatch]] = []
        self._count = itertools.count()

    def needing_a_look(
        self, sales: Iterable[SaleEvent], also: dict[Item, object]
    ) -> Iterator[tuple[Item, KeyWatch | None, SaleEvent]]:
        """The sales worth a closer look: those that cross a threshold of their key, or find an
        alert under way, or concern a key in `also` (transfers followed). Most sales are told
        apart here with three lookups and cost nothing more."""
        if self._book_version != self._book.version:
            self._book_version = self._book.version
            self._keys.clear()
        keys, machines = self._keys, self._machines
        for sale in sales:
            item = (sale.store, sale.model)
            watch = keys.get(item)
            if (
                watch is not None
                and watch.quiet_above < sale.inventory < watch.quiet_below
                and item not in machines
                and not (also and item in also)
            ):
                continue
            yield item, watch, sale

    def sale(self, item: Item, watch: KeyWatch | None, level: int, now: float) -> None:
        """A sale `needing_a_look` let through."""
        store, model = item
        if watch is None:  # new since the start or since the rules changed, or paced again
            watch = self._watch(item, now)
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
                    self._ledger.incidents[self._ledger.current[key]].level = level
                elif machine.readings >= rule.thresholds.gate_readings:
                    self._pending.add(key)  # pending, now on time alone
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

    def tick(self, now: float) -> None:
        """Gates whose time is up fire; flapping keys that have settled say so; watches of
        cover rules whose time is up are dropped, to be made again at the pace of the day."""
        repace = self._repace
        while repace and repace[0][0] <= now:
            _, _, item, watch = heapq.heappop(repace)
            if self._keys.get(item) is watch:
                del self._keys[item]
        for key in list(self._pending):
            channel, store, model, _ = key
            machine = self.machine(key)
            rule = self._applying(channel, store, model, now)
            if (
                machine is None
                or rule is None
                or machine.phase is not Phase.PENDING
                or machine.readings < rule.thresholds.gate_readings  # the next sale decides
            ):
                self._pending.discard(key)
                continue
            step = machine.tick(rule.thresholds, now)
            if step is not Step.NONE:
                self._stepped(key, machine, step, rule, now)
        for key in list(self._flappers):
            machine = self.machine(key)
            if machine is None or machine.update_flapping(now) is False:
                self._flappers.discard(key)
                self._flapping.settled(key, now)
                if machine is not None:
                    self._save_machine(key, machine)

    def unwatched(self, channel: str, now: float) -> None:
        """The channel's rules changed: the keys it no longer watches end their alerts here,
        quietly resolved; the ticker looks again at what is pending (the gate may be shorter)."""
        for item, machines in list(self._machines.items()):
            store, model = item
            for ch, side in list(machines):
                if ch != channel:
                    continue
                if self._rule(ch, store, model) is not None:
                    if machines[(ch, side)].phase is Phase.PENDING:
                        self._pending.add((ch, store, model, side))  # its gate may have changed
                    continue
                key = (ch, store, model, side)
                incident_id = self._ledger.current.pop(key, None)
                if incident_id is not None:
                    incident = self._ledger.incidents[incident_id]
                    self._notifiers.resolve(incident, now, wording.NO_LONGER_WATCHED)
                    if side is Side.LOW:
                        self._chains.restocked(ch, model, store, now)
                del machines[(ch, side)]
                self._pending.discard(key)
                self._flappers.discard(key)
                self._forget_machine(key)
            self._drop_idle(item, machines)

    def machine(self, key: MachineKey) -> AlertMachine | None:
        channel, store, model, side = key
        return self._machines.get((store, model), {}).get((channel, side))

    def restore(self, machines: Iterable[tuple[MachineKey, AlertMachine]]) -> None:
        for key, machine in machines:
            channel, store, model, side = key
            self._machines.setdefault((store, model), {})[(channel, side)] = machine
            self._stored.add(key)
            if machine.phase is Phase.PENDING:
                self._pending.add(key)
            if machine.flapping:
                self._flappers.add(key)

    # -- inside -----------------------------------------------------------------------------

    def _watch(self, item: Item, now: float) -> KeyWatch:
        """Who watches `item` and with which rule, cover turned into pairs at its pace now."""
        store, model = item
        watch = self._book.watching(store, model)
        self._chains.seen(store, model)
        if watch.paced:
            watch = watch.at_pace(cover_pace(self.paces, store, model, now))
            heapq.heappush(self._repace, (now + REPACE_EVERY, next(self._count), item, watch))
        self._keys[item] = watch
        return watch

    def _applying(self, channel: str, store: str, model: str, now: float) -> Rule | None:
        """The rule that applies to the key now (in pairs, for a rule in days of cover)."""
        rule = self._rule(channel, store, model)
        if rule is None or not rule.thresholds.by_cover:
            return rule
        watch = self._keys.get((store, model)) or self._watch((store, model), now)
        return watch.rules.get(channel)

    def _start(
        self, item: Item, channel: str, side: Side, *, level: int, rule: Rule, now: float
    ) -> Machines:
        machines = self._machines.setdefault(item, {})
        machine = machines[(channel, side)] = AlertMachine(side)
        step = machine.observe(level, rule.thresholds, now)
        self._stepped((channel, item[0], item[1], side), machine, step, rule, now)
        return machines

    def _stepped(
        self, key: MachineKey, machine: AlertMachine, step: Step, rule: Rule, now: float
    ) -> None:
        channel, store, model, side = key
        self._save_machine(key, machine)
        if step is Step.PENDING:
            if machine.readings >= rule.thresholds.gate_readings:
                self._pending.add(key)
        elif step is Step.CANCELLED:
            self._pending.discard(key)
        elif step is Step.FIRED:
            self._pending.discard(key)
            self._fired(key, machine, rule, now)
        elif step in (Step.ESCALATED, Step.EASED):
            incident = self._ledger.incidents[self._ledger.current[key]]
            incident.severity, incident.level = machine.severity, machine.level
            self._ledger.touch(incident)
            parent = self._ledger.get(incident.parent_id)
            if step is Step.ESCALATED and parent is not None and parent.kind is Kind.CHAIN:
                # Out of stock is critical: it leaves the chain's message for one of its own.
                self._ledger.unfold(incident, parent)
                self._notifiers.announce(incident, now)
                self._notifiers.touch(parent)
            else:
                # Running out is news for the whole channel, not only the thread's followers:
                # the line is also sent to the channel (an edit alone notifies no one).
                out = step is Step.ESCALATED
                self._notifiers.tell(
                    incident, now, wording.state_line(incident, step), broadcast=out
                )
        elif step is Step.RESOLVED:
            incident = self._ledger.incidents[self._ledger.current.pop(key)]
            incident.level = machine.level
            self._notifiers.resolve(incident, now, wording.state_line(incident, step))
            if side is Side.LOW:
                self._chains.restocked(channel, model, store, now)
            if machine.update_flapping(now):
                self._start_flapping(key, machine, now)

    def _fired(self, key: MachineKey, machine: AlertMachine, rule: Rule, now: float) -> None:
        channel, store, model, side = key
        t = rule.thresholds
        incident = self._ledger.open(
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
        self._ledger.current[key] = incident.id
        days = t.low_days if side is Side.LOW else t.high_days
        if days is not None:  # in days of cover: at what pace, or said to be not known yet
            incident.detail["cover_days"] = days
            incident.detail["per_hour"] = rule.pace
        self._escalations.fired(incident, rule, now)
        chain = self._chains.short(channel, model, store, now) if side is Side.LOW else None
        if self._silences.muted(incident):
            incident.shown = Shown.MUTED
            return
        if machine.update_flapping(now):
            self._start_flapping(key, machine, now)
        notice = self._flapping.notice(key)
        if notice is not None:
            notice.detail["alerts"] = notice.detail.get("alerts", 0) + 1
            self._notifiers.fold(incident, notice, now)  # the fold refreshes the notice
        elif chain is not None and not incident.critical:
            self._notifiers.fold(incident, chain, now)
        else:
            self._notifiers.announce(incident, now)

    def _start_flapping(self, key: MachineKey, machine: AlertMachine, now: float) -> None:
        if self._flapping.start(key, machine, now):
            self._flappers.add(key)

    def _rule(self, channel: str, store: str, model: str) -> Rule | None:
        config = self._book.channels.get(channel)
        if config is None or not config.scope.covers(store, model):
            return None
        return config.rule_for(store, model)

    def _drop_idle(self, item: Item, machines: Machines) -> None:
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
            self._effects.machines[key] = machine
            self._stored.add(key)
        else:
            self._forget_machine(key)

    def _forget_machine(self, key: MachineKey) -> None:
        if key in self._stored:
            self._stored.discard(key)
            self._effects.machines[key] = None
        else:
            self._effects.machines.pop(key, None)


def cover_pace(paces: PaceBook | None, store: str, model: str, now: float) -> float | None:
    """The pace days of cover are counted at: the shelf's three-day pace (pairs an hour in
    stock; None while not known). Not the hour's: read when a sale comes in, as here, it
    counts that sale as the pace of the hour and doubles a slow seller's rate (a shelf selling
    3 a week reads 16.7 a day right after a sale, 10 a day reads 20.5), which would make days
    of cover noise; the three-day pace reads 3.1 and 10.1 (tests/core/test_cover.py)."""
    return paces.rate(store, model, now).slow if paces is not None else None
