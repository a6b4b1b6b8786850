"""The transfers people see: the planner's current suggestions, and the ones someone accepted.

A suggestion lives until the next plan of its model replaces it; the same (model, from, to)
keeps its number across plans, so a button on an older message still names it. Accepting one
makes it a transfer, tracked from the feed alone:
- accepted: its pairs are reserved, promised away at the source and on their way to the target,
  so no plan promises them twice;
- sent: the source's level fell by about the quantity more than its sales explain;
- received: the target's level rose by about the quantity above its lowest since acceptance
  (a delivery from the supplier of that size would look the same: the feed cannot tell);
- expired: not received within `expire_after`; cancelled: someone took it back.
A pair that just moved stock one way is not asked to move it back, and a dismissed suggestion is
not made again, for `block_for`. Pure: times are passed in, the store persists the changes.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from enum import StrEnum

from bot.core.transfers.plan import Suggestion

Key = tuple[str, str]  # store, model


class Status(StrEnum):
    ACCEPTED = "accepted"
    RECEIVED = "received"
    EXPIRED = "expired"
    CANCELLED = "cancelled"
    DISMISSED = "dismissed"  # a suggestion someone turned down: kept to not make it again


@dataclass(frozen=True, slots=True)
class TransferSettings:
    expire_after: float = 72 * 3600.0
    block_for: float = 24 * 3600.0
    seen_share: float = 0.75  # a level change of this share of the quantity counts as it


@dataclass(slots=True)
class Suggested:
    """A current suggestion, with its number."""

    id: int
    suggestion: Suggestion
    planned_at: float


@dataclass(slots=True)
class Transfer:
    """A suggestion someone accepted (or dismissed), and what the feed has shown of it since."""

    id: int
    model: str
    source: str
    target: str
    quantity: int
    why: str
    status: Status
    by: str
    at: float
    source_last: int  # the source's last level seen
    target_low: int  # the target's lowest level since acceptance
    sent: bool = False
    source_gone: int = 0  # pairs gone from the source beyond its sales
    closed_at: float | None = None
    closed_by: str | None = None
    suggestion_id: int | None = None

    @property
    def open(self) -> bool:
        return self.status is Status.ACCEPTED


@dataclass(slots=True)
class Changes:
    """What changed since the last `take_changes`, for the store to persist."""

    suggestions: dict[int, Suggested] = field(default_factory=dict)
    gone: set[int] = field(default_factory=set)  # suggestion ids no longer current
    transfers: dict[int, Transfer] = field(default_factory=dict)


class TransferBook:
    """Suggestions and transfers in memory; see the module docstring."""

    def __init__(
        self,
        settings: TransferSettings = TransferSettings(),
        *,
        next_suggestion_id: int = 1,
        next_transfer_id: int = 1,
    ) -> None:
        self.settings = settings
        self.suggestions: dict[int, Suggested] = {}
        self.transfers: dict[int, Transfer] = {}  # open ones, and those closed lately
        self.watched: dict[Key, set[int]] = {}  # open transfers by their source and target
        self.replan: set[str] = set()  # models whose transfers changed since the last plan
        self.shown: set[Key] = set()  # receivers whose transfer line changed, for their alerts
        self._versions: dict[str, int] = {}
        self._by_model: dict[str, dict[tuple[str, str], int]] = {}
        self._next_suggestion = next_suggestion_id
        self._next_transfer = next_transfer_id
        self._changes = Changes()

    # -- what the planner needs ---------------------------------------------------------

    def version(self, model: str) -> int:
        """Changes whenever the model's transfers change: a plan made before is stale."""
        return self._versions.get(model, 0)

    def reserved(self, model: str) -> tuple[dict[str, int], dict[str, int]]:
        """(incoming, outgoing) pairs by store, promised by open transfers of `model`."""
        incoming: dict[str, int] = {}
        outgoing: dict[str, int] = {}
        for t in self.transfers.values():
            if t.model == model and t.open:
                incoming[t.target] = incoming.get(t.target, 0) + t.quantity
                if not t.sent:
                    outgoing[t.source] = outgoing.get(t.source, 0) + t.quantity
        return incoming, outgoing

    def blocked(self, model: str, now: float) -> frozenset[tuple[str, str]]:
        """(from, to) pairs not to suggest: back along a transfer still open or closed lately,
        or a suggestion dismissed lately."""
        pairs = set()
        for t in self.transfers.values():
            if t.model != model or t.status is Status.CANCELLED or not self._recent(t, now):
                continue
            if t.status is Status.DISMISSED:
                pairs.add((t.source, t.target))
            else:
                pairs.add((t.target, t.source))
        return frozenset(pairs)

    def _recent(self, t: Transfer, now: float) -> bool:
        """Open, or closed (dismissed) less than `block_for` ago."""
        return (
            t.open
            or now - (t.at if t.closed_at is None else t.closed_at) <= self.settings.block_for
        )

    def set_plan(self, model: str, plan: list[Suggestion], version: int, now: float) -> bool:
        """Make `plan` the model's current suggestions, unless its transfers changed since the
        plan was made (False: plan it again)."""
        if version != self.version(model):
            self.replan.add(model)
            return False
        current = self._by_model.get(model, {})
        fresh: dict[tuple[str, str], int] = {}
        for suggestion in plan:
            pair = (suggestion.source, suggestion.target)
            number = current.get(pair)
            if number is None:
                number = self._next_suggestion
                self._next_suggestion += 1
                self.shown.add((suggestion.target, model))
            old = self.suggestions.get(number)
            if old is None or old.suggestion != suggestion:
                if old is not None and old.suggestion.quantity != suggestion.quantity:
                    self.shown.add((suggestion.target, model))  # alerts show the new quantity
                self.suggestions[number] = Suggested(number, suggestion, now)
                self._changes.suggestions[number] = self.suggestions[number]
            fresh[pair] = number
        for pair, number in current.items():
            if pair not in fresh:
                self._drop_suggestion(number)
        if fresh:
            self._by_model[model] = fresh
        else:
            self._by_model.pop(model, None)
        return True

    # -- what people do -----------------------------------------------------------------

    def accept(
        self,
        suggestion_id: int,
        user: str,
        now: float,
        levels: tuple[int | None, int | None] = (None, None),
    ) -> Transfer | None:
        """Accept a current suggestion: None if it is not current any more. `levels` are the
        source's and the target's levels now, if known (the plan saw older ones): what the
        feed shows from here on is measured from them."""
        found = self.suggestions.get(suggestion_id)
        if found is None:
            return None
        s = found.suggestion
        transfer = self._new_transfer(found, Status.ACCEPTED, user, now)
        source_now, target_now = levels
        if source_now is not None:
            transfer.source_last = source_now
        if target_now is not None:
            transfer.target_low = target_now
        for key in ((s.source, s.model), (s.target, s.model)):
            self.watched.setdefault(key, set()).add(transfer.id)
        return transfer

    def dismiss(self, suggestion_id: int, user: str, now: float) -> Transfer | None:
        """Turn a current suggestion down: None if it is not current any more."""
        found = self.suggestions.get(suggestion_id)
        if found is None:
            return None
        return self._new_transfer(found, Status.DISMISSED, user, now)

    def cancel(self, transfer_id: int, user: str, now: float) -> Transfer | None:
        """Take back an accepted transfer not yet received: None if there is none open."""
        transfer = self.transfers.get(transfer_id)
        if transfer is None or not transfer.open:
            return None
        self._close(transfer, Status.CANCELLED, now, user)
        return transfer

    # -- what the feed shows ------------------------------------------------------------

    def sale(self, store: str, model: str, level: int, now: float) -> list[Transfer]:
        """A sale at a store an open transfer leaves from or goes to; returns the transfers
        it showed received."""
        received = []
        for number in list(self.watched.get((store, model), ())):
            t = self.transfers[number]
            enough = max(1, math.ceil(self.settings.seen_share * t.quantity))
            if store == t.source and not t.sent:
                # One pair left by this sale; anything more left some other way.
                t.source_gone += max(0, t.source_last - 1 - level)
                t.source_last = level
                if t.source_gone >= enough:
                    t.sent = True
                    self._changed(t)
                else:
                    self._changes.transfers[t.id] = t  # progress kept across a restart
            if store == t.target:
                # The level is after this sale: the pairs that arrived are level + 1 - low.
                if level + 1 - t.target_low >= enough:
                    self._close(t, Status.RECEIVED, now, None)
                    received.append(t)
                elif level < t.target_low:
                    t.target_low = level
                    self._changes.transfers[t.id] = t
        return received

    def tick(self, now: float) -> list[Transfer]:
        """Expire transfers never seen received; forget closed ones no longer blocking.
        Returns those that expired."""
        expired = []
        for t in list(self.transfers.values()):
            if t.open and now - t.at >= self.settings.expire_after:
                self._close(t, Status.EXPIRED, now, None)
                expired.append(t)
            elif not self._recent(t, now):
                del self.transfers[t.id]
        return expired

    # -- what people see ----------------------------------------------------------------

    def best_for(self, store: str, model: str) -> Suggested | None:
        """The suggestion bringing the most pairs to `store`, if any."""
        best = None
        for (_, target), number in self._by_model.get(model, {}).items():
            if target != store:
                continue
            found = self.suggestions[number]
            if best is None or (found.suggestion.quantity, -found.id) > (
                best.suggestion.quantity,
                -best.id,
            ):
                best = found
        return best

    def incoming(self, store: str, model: str) -> Transfer | None:
        """The open transfer to `store` of `model` accepted first, if any."""
        found = [
            self.transfers[n]
            for n in self.watched.get((store, model), ())
            if self.transfers[n].target == store
        ]
        return min(found, key=lambda t: t.id) if found else None

    # -- persistence --------------------------------------------------------------------

    def take_changes(self) -> Changes:
        changes, self._changes = self._changes, Changes()
        return changes

    def restore(self, suggestions: list[Suggested], transfers: list[Transfer]) -> None:
        """Load what a previous run persisted."""
        for found in suggestions:
            s = found.suggestion
            self.suggestions[found.id] = found
            self._by_model.setdefault(s.model, {})[(s.source, s.target)] = found.id
            self._next_suggestion = max(self._next_suggestion, found.id + 1)
        for t in transfers:
            self.transfers[t.id] = t
            self._next_transfer = max(self._next_transfer, t.id + 1)
            if t.open:
                for key in ((t.source, t.model), (t.target, t.model)):
                    self.watched.setdefault(key, set()).add(t.id)

    # -- inside -------------------------------------------------------------------------

    def _new_transfer(self, found: Suggested, status: Status, user: str, now: float) -> Transfer:
        s = found.suggestion
        transfer = Transfer(
            self._next_transfer,
            s.model,
            s.source,
            s.target,
            s.quantity,
            s.why,
            status,
            user,
            now,
            source_last=s.source_level,
            target_low=s.target_level,
            suggestion_id=found.id,
        )
        self._next_transfer += 1
        self.transfers[transfer.id] = transfer
        self._drop_suggestion(found.id)
        by_model = self._by_model.get(s.model)
        if by_model is not None:
            by_model.pop((s.source, s.target), None)
        self._changed(transfer)
        return transfer

    def _drop_suggestion(self, number: int) -> None:
        found = self.suggestions.pop(number, None)
        if found is None:
            return
        self._changes.gone.add(number)
        self._changes.suggestions.pop(number, None)
        self.shown.add((found.suggestion.target, found.suggestion.model))

    def _close(self, t: Transfer, status: Status, now: float, user: str | None) -> None:
        t.status, t.closed_at, t.closed_by = status, now, user
        for key in ((t.source, t.model), (t.target, t.model)):
            ids = self.watched.get(key)
            if ids is not None:
                ids.discard(t.id)
                if not ids:
                    del self.watched[key]
        self._changed(t)

    def _changed(self, t: Transfer) -> None:
        self._versions[t.model] = self._versions.get(t.model, 0) + 1
        self.replan.add(t.model)
        self._changes.transfers[t.id] = t
        self.shown.add((t.target, t.model))
