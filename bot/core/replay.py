"""Replaying sales through an alert engine, with the time between them ticking as the bot's
ticker does. Pure: `/thresholds preview` replays the stored day with the current and the
proposed rules (a chunk at a time, in a worker thread); benchmarks replay a simulated hour."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from bot.core.alerting.effects import Effects, Op
from bot.core.alerting.engine import AlertEngine

Sale = tuple[float, str, str, int]  # (when, store, model, level)


@dataclass
class Tally:
    """What a replay would have put in Slack."""

    sales: int = 0
    messages: int = 0  # new messages (posts)
    edits: int = 0
    replies: int = 0
    incidents: Counter = field(default_factory=Counter)  # by kind (and severity for stock)
    _seen: set[int] = field(default_factory=set)

    def __call__(self, effects: Effects, now: float) -> None:
        for outgoing in effects.outgoing:
            if outgoing.op is Op.POST:
                self.messages += 1
            elif outgoing.op is Op.UPDATE:
                self.edits += 1
            else:
                self.replies += 1
        for incident in effects.incidents.values():
            if incident.id in self._seen or incident.kind.value == "digest":
                continue
            self._seen.add(incident.id)
            name = incident.severity.value if incident.severity else incident.kind.value
            self.incidents[name] += 1


class Replayer:
    """Feeds sales (in time order, in as many pieces as they come) to `engine`, ticking every
    `tick` seconds of their own time; `observe` sees the effects after each step."""

    def __init__(
        self,
        engine: AlertEngine,
        *,
        tick: float,
        observe: Callable[[Effects, float], None] | None = None,
    ) -> None:
        self.engine = engine
        self.tick = tick
        self.observe = observe
        self.next_tick: float | None = None

    def feed(self, sales: Iterable[Sale]) -> None:
        """The next sales, after those fed before."""
        paces = self.engine.paces
        for at, store, model, level in sales:
            if self.next_tick is None:
                self.next_tick = at
            self._tick_until(at)
            if paces is not None:  # the engine's own paces, learnt as the sales replay
                paces.sale(store, model, level, at)
            self.engine.sale(store, model, level, at)
            self._settle(at)

    def finish(self, until: float) -> float | None:
        """Tick on until `until`; returns the last time ticked (None if nothing was fed)."""
        if self.next_tick is None:
            return None
        self._tick_until(until)
        return self.next_tick - self.tick

    def _tick_until(self, at: float) -> None:
        while self.next_tick is not None and self.next_tick <= at:
            self.engine.tick(self.next_tick)
            self._settle(self.next_tick)
            self.next_tick += self.tick

    def _settle(self, now: float) -> None:
        effects = self.engine.take_effects()
        if self.observe is not None:
            self.observe(effects, now)
        self.engine.forget_closed()


class Counting:
    """A replay that counts what it would have put in Slack (see Tally); time ticks on for
    `settle` seconds after the last sale so that grouping windows close and what they hold is
    counted."""

    def __init__(self, engine: AlertEngine, *, tick: float, settle: float) -> None:
        self.tally = Tally()
        self.settle = settle
        self._last: float | None = None
        self._replayer = Replayer(engine, tick=tick, observe=self.tally)

    def feed(self, sales: list[Sale]) -> None:
        self.tally.sales += len(sales)
        if sales:
            self._last = sales[-1][0]
        self._replayer.feed(sales)

    def finish(self) -> Tally:
        if self._last is not None:
            self._replayer.finish(self._last + self.settle)
        return self.tally


def tally(engine: AlertEngine, sales: list[Sale], *, tick: float, settle: float) -> Tally:
    """Replay `sales` at once and count (see Counting)."""
    counting = Counting(engine, tick=tick, settle=settle)
    counting.feed(sales)
    return counting.finish()
