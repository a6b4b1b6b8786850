"""What low-stock alerts say of transfers. A receiving shelf's alert shows the transfer on its
way or the best suggestion; when a plan, an acceptance, a receipt or an expiry changes that, the
alert's message is refreshed, and its thread says what happened."""

from __future__ import annotations

from collections.abc import Iterable

from bot.core.alerting import wording
from bot.core.alerting.effects import Note
from bot.core.alerting.ledger import Ledger
from bot.core.alerting.machine import Side
from bot.core.alerting.notifiers import Notifiers
from bot.core.errors import CommandError
from bot.core.rules import RuleBook
from bot.core.transfers.book import Transfer, TransferBook
from bot.core.transfers.plan import Suggestion

_GONE = (
    "suggestion S{} is no longer current: stock has moved since it was made. "
    "`/transfers` shows the current ones"
)

Levels = tuple[int | None, int | None]  # the source's and the target's levels now, if known


class TransferNotes:
    """The transfer book's changes, told on the alerts they concern."""

    def __init__(
        self, transfers: TransferBook, book: RuleBook, ledger: Ledger, notifiers: Notifiers
    ) -> None:
        self.transfers = transfers
        self._book = book
        self._ledger = ledger
        self._notifiers = notifiers

    def set_plans(
        self, plans: Iterable[tuple[str, list[Suggestion], int]], now: float
    ) -> list[str]:
        """Make each (model, suggestions, version) current; returns the models whose plan came
        too late (their transfers changed since) and must be planned again."""
        stale = [
            m for m, plan, version in plans if not self.transfers.set_plan(m, plan, version, now)
        ]
        self._show_all(now)
        return stale

    def accept(
        self, suggestion_id: int, user: str, who: str, now: float, levels: Levels
    ) -> Transfer:
        t = self.transfers.accept(suggestion_id, user, now, levels)
        if t is None:
            raise CommandError(_GONE.format(suggestion_id))
        self._note(t, now, wording.transfer_accepted(t.id, t.quantity, who))
        return t

    def dismiss(self, suggestion_id: int, user: str, now: float) -> Transfer:
        t = self.transfers.dismiss(suggestion_id, user, now)
        if t is None:
            raise CommandError(_GONE.format(suggestion_id))
        self._show_all(now)
        return t

    def cancel(self, transfer_id: int, user: str, who: str, now: float) -> Transfer:
        t = self.transfers.cancel(transfer_id, user, now)
        if t is None:
            raise CommandError(f"there is no open transfer T{transfer_id}")
        self._note(t, now, wording.transfer_cancelled(t.id, who))
        return t

    def sale(self, store: str, model: str, level: int, now: float) -> None:
        """A sale at a shelf an open transfer leaves from or goes to."""
        for t in self.transfers.sale(store, model, level, now):
            self._note(t, now, wording.transfer_received(t.id, t.quantity))

    def tick(self, now: float) -> None:
        hours = self.transfers.settings.expire_after / 3600
        for t in self.transfers.tick(now):
            self._note(t, now, wording.transfer_expired(t.id, hours))

    def _note(self, t: Transfer, now: float, note: Note) -> None:
        self.transfers.shown.discard((t.target, t.model))
        self._show_all(now)
        self._show(t.target, t.model, now, note)

    def _show_all(self, now: float) -> None:
        shown, self.transfers.shown = self.transfers.shown, set()
        for store, model in shown:
            self._show(store, model, now, None)

    def _show(self, store: str, model: str, now: float, note: Note | None) -> None:
        """Refresh the low-stock alerts of (store, model): their transfer line changed."""
        for channel in self._book.watching(store, model).rules:
            incident = self._ledger.get(self._ledger.current.get((channel, store, model, Side.LOW)))
            if incident is not None and incident.open:
                self._notifiers.changed(incident, now, note)
