"""Alert rules per Slack channel: what a channel watches and when a level is worth telling.

A channel watches a scope (every store and model, or some stores, or some models) and has rules.
A rule names a store, a model, both or neither (the channel's default); for a given (store,
model) the most specific rule wins: store+model, then store, then model, then the default.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace

from bot.core.errors import RuleError
from bot.core.events import MAX_NAME_CHARS
from bot.core.quiet import QuietHours
from bot.core.thresholds import Thresholds
from bot.mrkdwn import OWNER_ID, escape

ANY = ""  # a rule's store or model that matches every store or model
MAX_FOLLOWED = 10  # stores a person follows in the App Home
MIN_ESCALATE = 60.0
MAX_ESCALATE = 7 * 86_400.0


@dataclass(frozen=True, slots=True)
class Rule:
    """Thresholds for a channel, narrowed to a store and/or model (ANY matches all).

    `owner` (a Slack user or user group ID) is mentioned when an alert under the rule is
    posted; if nobody acknowledges it within `escalate` seconds, the owner is mentioned again in
    its thread, with `second_owner` if set. `pace` is set only on a rule as it applies to one
    shelf now (see `at_pace`): the pace its cover was turned into pairs with."""

    channel: str
    store: str
    model: str
    thresholds: Thresholds
    updated_by: str
    updated_at: float
    owner: str | None = None
    second_owner: str | None = None
    escalate: float | None = None
    pace: float | None = None

    def __post_init__(self) -> None:
        for owner in (self.owner, self.second_owner):
            if owner is not None and not OWNER_ID.fullmatch(owner):
                raise RuleError(
                    "an owner is a Slack user (U...) or user group (S...), named by its ID"
                )
        if self.second_owner is not None and self.escalate is None:
            raise RuleError("a second owner is called when an alert escalates: set escalate= too")
        if self.escalate is not None:
            if self.owner is None:
                raise RuleError("escalate= calls the owner again: set owner= too")
            if not MIN_ESCALATE <= self.escalate <= MAX_ESCALATE:
                raise RuleError("an escalation comes after 1 minute to 7 days")

    def at_pace(self, per_hour: float | None) -> Rule:
        """The rule as it applies to a shelf selling `per_hour` pairs an hour (None: unknown)."""
        if not self.thresholds.by_cover:
            return self
        return replace(self, thresholds=self.thresholds.at_pace(per_hour), pace=per_hour)

    def describe(self) -> str:
        """`low <= 5, high >= 80 for ADERI at ALDO Maine Mall`"""
        return f"{self.thresholds.describe()} {self.where()}"

    def owners(self) -> str:
        """Who is called, by ID, for the audit log: `; owner S123, then U456 after 30 min`
        (the mentions are made where a message is rendered, from the IDs)."""
        if self.owner is None:
            return ""
        said = f"; owner {self.owner}"
        if self.escalate is not None:
            then = f" and {self.second_owner}" if self.second_owner else ""
            said += f", called again{then} after {self.escalate / 60:g} min unacknowledged"
        return said

    def where(self) -> str:
        if self.store and self.model:
            return f"for {self.model} at {self.store}"
        if self.store:
            return f"at {self.store}"
        if self.model:
            return f"for {self.model}"
        return "(channel default)"


@dataclass(frozen=True, slots=True)
class Scope:
    """What a channel watches. None means every store (or every model)."""

    stores: frozenset[str] | None = None
    models: frozenset[str] | None = None

    def covers(self, store: str, model: str) -> bool:
        return (self.stores is None or store in self.stores) and (
            self.models is None or model in self.models
        )

    def describe(self) -> str:
        if self.stores is None and self.models is None:
            return "every store and model"
        stores = "every store" if self.stores is None else ", ".join(sorted(self.stores))
        models = "every model" if self.models is None else ", ".join(sorted(self.models))
        return f"stores: {stores}; models: {models}"


@dataclass(slots=True)
class Channel:
    """A channel's scope, quiet hours and rules (keyed by (store, model), ANY for all)."""

    id: str
    scope: Scope = field(default_factory=Scope)
    quiet: QuietHours | None = None
    rules: dict[tuple[str, str], Rule] = field(default_factory=dict)

    def rule_for(self, store: str, model: str) -> Rule | None:
        """The most specific rule for (store, model), or None if none applies."""
        rules = self.rules
        if len(rules) == 1 and (ANY, ANY) in rules:
            return rules[(ANY, ANY)]  # the common case: a channel with its default rule only
        return (
            rules.get((store, model))
            or rules.get((store, ANY))
            or rules.get((ANY, model))
            or rules.get((ANY, ANY))
        )


@dataclass(frozen=True, slots=True)
class Change:
    """One change to a channel's configuration, for the audit log and for the channel."""

    channel: str
    user: str
    at: float
    action: str  # set_rule | clear_rule | watch | quiet_hours
    summary: str  # what a person reads: "low <= 5, high >= 80 for ADERI (was: ...)"
    rule: Rule | None = None  # set_rule: the rule saved, and the one it replaced
    before: Rule | None = None


@dataclass(frozen=True, slots=True)
class KeyWatch:
    """The channels watching one (store, model), arranged for the engine's check of each sale:
    `lows` by threshold, highest first, and `highs` lowest first, so a sale looks only at the
    rules it crosses; a level strictly between `quiet_above` and `quiet_below` crosses none.

    `paced`: some rule is in days of cover, so its pairs depend on the shelf's pace; such a
    watch is used only through `at_pace`, which turns it into pairs for the pace of the day."""

    rules: dict[str, Rule]  # channel -> its most specific rule for this key
    lows: tuple[tuple[int, str, Rule], ...]
    highs: tuple[tuple[int, str, Rule], ...]
    quiet_above: int
    quiet_below: float
    paced: bool = False

    @classmethod
    def of(cls, rules: tuple[tuple[str, Rule], ...], *, paced: bool | None = None) -> KeyWatch:
        lows = sorted(
            ((r.thresholds.low, c, r) for c, r in rules if r.thresholds.low is not None),
            key=lambda entry: -entry[0],
        )
        highs = sorted(
            ((r.thresholds.high, c, r) for c, r in rules if r.thresholds.high is not None),
            key=lambda entry: entry[0],
        )
        return cls(
            dict(rules),
            tuple(lows),
            tuple(highs),
            lows[0][0] if lows else -1,
            highs[0][0] if highs else math.inf,
            any(r.thresholds.by_cover for _, r in rules) if paced is None else paced,
        )

    def at_pace(self, per_hour: float | None) -> KeyWatch:
        """The watch for a shelf selling `per_hour` pairs an hour (None: not known yet)."""
        if not self.paced:
            return self
        rules = tuple((c, r.at_pace(per_hour)) for c, r in self.rules.items())
        return KeyWatch.of(rules, paced=False)


class RuleBook:
    """Every channel's configuration, with the lookups the engine makes on each sale cached."""

    def __init__(self, channels: dict[str, Channel] | None = None) -> None:
        self.channels: dict[str, Channel] = channels or {}
        self.version = 0  # changes whenever who watches what changes
        self._keys: dict[tuple[str, str], KeyWatch] = {}
        # Keys watched by the same channels with the same rules share one KeyWatch: a chain of
        # 15,000 shelves and 50 channels needs about a thousand, not 15,000.
        self._interned: dict[tuple[tuple[str, str, str], ...], KeyWatch] = {}
        # Channels by what they watch, so a new key is checked against the few that can cover
        # it rather than every channel: (watching everything, by store, by model).
        self._by_scope: (
            tuple[list[Channel], dict[str, list[Channel]], dict[str, list[Channel]]] | None
        ) = None

    def watching(self, store: str, model: str) -> KeyWatch:
        """Who watches (store, model), with which rule (cached until the rules change)."""
        key = (store, model)
        found = self._keys.get(key)
        if found is None:
            rules = tuple(
                (channel.id, rule)
                for channel in self._candidates(store, model)
                if channel.scope.covers(store, model)
                and (rule := channel.rule_for(store, model)) is not None
            )
            # (channel, store, model) names a rule in the book: a cheaper key than the rules.
            signature = tuple((c, r.store, r.model) for c, r in rules)
            found = self._interned.get(signature)
            if found is None:
                found = self._interned[signature] = KeyWatch.of(rules)
            self._keys[key] = found
        return found

    def _candidates(self, store: str, model: str) -> list[Channel]:
        """The channels whose scope may cover (store, model)."""
        if self._by_scope is None:
            everything: list[Channel] = []
            by_store: dict[str, list[Channel]] = {}
            by_model: dict[str, list[Channel]] = {}
            for channel in self.channels.values():
                scope = channel.scope
                if scope.stores is not None:
                    for name in scope.stores:
                        by_store.setdefault(name, []).append(channel)
                elif scope.models is not None:
                    for name in scope.models:
                        by_model.setdefault(name, []).append(channel)
                else:
                    everything.append(channel)
            self._by_scope = (everything, by_store, by_model)
        everything, by_store, by_model = self._by_scope
        # Each channel is in one list only (a scope naming stores is indexed by store).
        return everything + by_store.get(store, []) + by_model.get(model, [])

    def _changed(self) -> None:
        self.version += 1
        self._keys.clear()
        self._interned.clear()
        self._by_scope = None

    def channel(self, channel_id: str) -> Channel:
        return self.channels.setdefault(channel_id, Channel(channel_id))

    def set_rule(
        self,
        channel_id: str,
        *,
        store: str = ANY,
        model: str = ANY,
        thresholds: Thresholds,
        user: str,
        at: float,
        owner: str | None = None,
        second_owner: str | None = None,
        escalate: float | None = None,
    ) -> Change:
        """Save a rule (replacing the one for the same store and model)."""
        _check_name("store", store)
        _check_name("model", model)
        rule = Rule(channel_id, store, model, thresholds, user, at, owner, second_owner, escalate)
        channel = self.channel(channel_id)
        before = channel.rules.get((store, model))
        channel.rules[(store, model)] = rule
        self._changed()
        was = f" (was: {before.describe()}{before.owners()})" if before else ""
        summary = f"{rule.describe()}{rule.owners()}{was}"
        return Change(channel_id, user, at, "set_rule", summary, rule, before)

    def clear_rule(
        self, channel_id: str, *, store: str = ANY, model: str = ANY, user: str, at: float
    ) -> Change:
        """Remove the rule for exactly this store and model."""
        channel = self.channels.get(channel_id)
        rule = channel.rules.pop((store, model), None) if channel else None
        if rule is None:
            where = Rule(channel_id, store, model, Thresholds(), user, at).where()
            raise RuleError(f"there is no rule {escape(where)} in this channel")  # said in Slack
        self._changed()
        return Change(channel_id, user, at, "clear_rule", f"removed {rule.describe()}")

    def followed(self, stores: tuple[str, ...]) -> tuple[str, ...]:
        """Stores a person follows in the App Home, checked: names, at most MAX_FOLLOWED."""
        if len(stores) > MAX_FOLLOWED:
            raise RuleError(f"follow at most {MAX_FOLLOWED} stores")
        for name in stores:
            _check_name("store", name)
        return stores

    def watch(self, channel_id: str, scope: Scope, *, user: str, at: float) -> Change:
        """Set what the channel watches."""
        for name in scope.stores or ():
            _check_name("store", name)
        for name in scope.models or ():
            _check_name("model", name)
        channel = self.channel(channel_id)
        before = channel.scope.describe()
        channel.scope = scope
        self._changed()
        return Change(channel_id, user, at, "watch", f"watching {scope.describe()} (was: {before})")

    def set_quiet_hours(
        self, channel_id: str, quiet: QuietHours | None, *, user: str, at: float
    ) -> Change:
        channel = self.channel(channel_id)
        channel.quiet = quiet
        summary = f"quiet hours {quiet.describe()}" if quiet else "no quiet hours"
        return Change(channel_id, user, at, "quiet_hours", summary)


def _check_name(kind: str, name: str) -> None:
    if len(name) > MAX_NAME_CHARS or any(ord(c) < 32 for c in name):
        raise RuleError(f"that is not a {kind} name")
