"""Replaying sales through an alert engine, with the time between them ticking as the bot's
ticker does. Pure: `/thresholds preview` replays the stored day with the current and the
proposed rules; bench/alert_noise.py replays a simulated hour."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from bot.core.alerting.effects import Effects, Op
from bot.core.alerting.engine import AlertEngine

Sale = tuple[float, str, str, int]  # (when, store, model, level)


def replay(
    engine: AlertEngine,
    sales: Iterable[Sale],
    *,
    tick: float,
    until: float | None = None,
    observe: Callable[[Effects, float], None] | None = None,
) -> float | None:
    """Feed `sales` (in time order) to `engine`, ticking every `tick` seconds of their own
    time, then on until `until`; `observe` sees the effects after each step. Returns the last
    time ticked, or None if there was nothing to replay."""
    next_tick: float | None = None
    for at, store, model, level in sales:
        if next_tick is None:
            next_tick = at
        while next_tick <= at:
            engine.tick(next_tick)
            _settle(engine, observe, next_tick)
            next_tick += tick
        engine.sale(store, model, level, at)
        _settle(engine, observe, at)
    if next_tick is not None and until is not None:
        while next_tick <= until:
            engine.tick(next_tick)
            _settle(engine, observe, next_tick)
            next_tick += tick
    return None if next_tick is None else next_tick - tick


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


def tally(engine: AlertEngine, sales: list[Sale], *, tick: float, settle: float) -> Tally:
    """Replay and count; time ticks on for `settle` seconds after the last sale so that
    grouping windows close and what they hold is counted."""
    counted = Tally(sales=len(sales))
    until = sales[-1][0] + settle if sales else None
    replay(engine, sales, tick=tick, until=until, observe=counted)
    return counted


def _settle(engine: AlertEngine, observe, now: float) -> None:
    effects = engine.take_effects()
    if observe is not None:
        observe(effects, now)
    engine.forget_closed()
