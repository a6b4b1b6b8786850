"""Chain-wide shortages: one model low in many of a channel's stores is one alert, which folds
those stores' low-stock alerts (out of stock, being critical, keeps a message of its own)."""

from __future__ import annotations

import math

from bot.core.alerting import wording
from bot.core.alerting.incidents import Incident, Kind, Shown
from bot.core.alerting.ledger import Ledger
from bot.core.alerting.machine import Severity, Side
from bot.core.alerting.notifiers import Notifiers
from bot.core.rules import RuleBook


class Chains:
    """The stores short of each (channel, model), and the chain-wide incident they make."""

    def __init__(
        self,
        book: RuleBook,
        ledger: Ledger,
        notifiers: Notifiers,
        *,
        min_stores: int,
        fraction: float,
    ) -> None:
        self._book = book
        self._ledger = ledger
        self._notifiers = notifiers
        self._min_stores = min_stores  # a model short in this many stores of a channel ...
        self._fraction = fraction  # ... and in this share of the stores selling it
        self._short: dict[tuple[str, str], set[str]] = {}  # (channel, model) -> stores low
        self._chains: dict[tuple[str, str], int] = {}  # (channel, model) -> open incident
        self._model_stores: dict[str, set[str]] = {}  # stores seen selling each model

    def seen(self, store: str, model: str) -> None:
        """A key first seen (since the start or since the rules changed)."""
        self._model_stores.setdefault(model, set()).add(store)

    def short(self, channel: str, model: str, store: str, now: float) -> Incident | None:
        """`store` fired low on `model`: returns the chain-wide incident, if there is one."""
        self._short.setdefault((channel, model), set()).add(store)
        return self._update(channel, model, now)

    def restocked(self, channel: str, model: str, store: str, now: float) -> None:
        """`store`'s low alert on `model` ended."""
        self._short.get((channel, model), set()).discard(store)
        self._update(channel, model, now)

    def stores_short(self, channel: str, model: str) -> set[str]:
        return self._short.get((channel, model), set())

    def restore(self, incident: Incident) -> None:
        if not incident.open:
            return
        if incident.kind is Kind.CHAIN:
            self._chains[(incident.channel, incident.model or "")] = incident.id
        elif incident.kind is Kind.LOW:
            self._short.setdefault((incident.channel, incident.model or ""), set()).add(
                incident.store or ""
            )

    def _update(self, channel: str, model: str, now: float) -> Incident | None:
        """Keep the chain-wide shortage of (channel, model) in step with its short stores:
        open it when enough stores are short, refresh it, resolve it when none are."""
        short = self._short.get((channel, model), set())
        chain = self._ledger.get(self._chains.get((channel, model), -1))
        if chain is not None:
            chain.detail["stores"] = len(short)
            self._ledger.touch(chain)
            if short:
                self._notifiers.touch(chain)
                return chain
            del self._chains[(channel, model)]
            self._notifiers.resolve(chain, now, wording.back_everywhere(model))
            return None
        if len(short) < self._min_stores or len(short) < self._least(channel, model):
            return None
        chain = self._ledger.open(
            channel, Kind.CHAIN, None, model, Severity.LOW, opened_at=now, now=now
        )
        chain.detail["stores"] = len(short)
        self._chains[(channel, model)] = chain.id
        self._notifiers.announce(chain, now)
        # Stores whose low alert is still in the grouping window join the chain's message.
        for other in short:
            member = self._ledger.get(self._ledger.current.get((channel, other, model, Side.LOW)))
            if member is not None and member.shown is Shown.WAITING and not member.critical:
                self._notifiers.fold(member, chain, now)
        return chain

    def _least(self, channel: str, model: str) -> int:
        scope = self._book.channel(channel).scope
        selling = sum(1 for s in self._model_stores.get(model, ()) if scope.covers(s, model))
        return max(self._min_stores, math.ceil(self._fraction * selling))
