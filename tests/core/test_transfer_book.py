"""Suggestions people act on, and accepted transfers followed through the feed."""

import re

import pytest

from bot.core.alerting.actions import AcceptTransfer, SetPlans
from bot.core.alerting.effects import Op
from bot.core.alerting.engine import AlertEngine, EngineSettings
from bot.core.alerting.incidents import Kind
from bot.core.alerting.notify import NotifySettings
from bot.core.errors import CommandError
from bot.core.rules import RuleBook
from bot.core.thresholds import Thresholds
from bot.core.transfers.book import Status, TransferBook
from bot.core.velocity import PaceBook
from tests.helpers import move

H = 3600.0


def planned(book, *suggestions, at=0.0):
    assert book.set_plan("ADERI", list(suggestions), book.version("ADERI"), at)
    return book.best_for(suggestions[0].target, "ADERI") if suggestions else None


def test_a_pair_keeps_its_number_across_plans_and_a_dropped_one_is_gone():
    book = TransferBook()
    first = planned(book, move(6))
    again = planned(book, move(8), at=30)
    assert again.id == first.id
    assert again.suggestion.quantity == 8
    planned(book)
    assert book.best_for("Auburn", "ADERI") is None
    assert book.take_changes().gone == {first.id}


def test_accepting_reserves_the_pairs_on_both_sides_and_makes_older_plans_stale():
    book = TransferBook()
    version = book.version("ADERI")
    s = planned(book, move(6))
    transfer = book.accept(s.id, "U1", 10)

    assert transfer.status is Status.ACCEPTED
    assert book.reserved("ADERI") == ({"Auburn": 6}, {"Maine": 6})
    assert book.best_for("Auburn", "ADERI") is None
    assert book.incoming("Auburn", "ADERI") is transfer
    # A plan made before the acceptance did not count the reservation: refused.
    assert not book.set_plan("ADERI", [move(6)], version, 20)
    assert "ADERI" in book.replan
    # A suggestion no longer current cannot be accepted twice.
    assert book.accept(s.id, "U2", 11) is None


def test_a_transfer_is_sent_when_the_source_drops_beyond_its_sales_and_received_on_a_rise():
    book = TransferBook()
    t = book.accept(planned(book, move(6)).id, "U1", 0)

    book.sale("Maine", "ADERI", 39, 60)  # one sale: nothing else left
    assert not t.sent
    book.sale("Maine", "ADERI", 32, 120)  # one sale and 6 more pairs gone: shipped
    assert t.sent
    assert book.reserved("ADERI") == ({"Auburn": 6}, {})

    book.sale("Auburn", "ADERI", 1, 200)  # still selling down: lowest 1
    assert book.sale("Auburn", "ADERI", 4, 300) == []  # +3 is not about 6
    assert book.sale("Auburn", "ADERI", 6, 400) == [t]  # +5 of 6 is
    assert t.status is Status.RECEIVED
    assert book.reserved("ADERI") == ({}, {})
    assert not book.watched


def test_a_transfer_never_seen_arriving_expires_and_frees_its_pairs():
    book = TransferBook()
    t = book.accept(planned(book, move(6)).id, "U1", 0)
    assert book.tick(71 * H) == []
    assert book.tick(72 * H) == [t]
    assert t.status is Status.EXPIRED
    assert book.reserved("ADERI") == ({}, {})


def test_no_ping_pong_while_a_transfer_is_open_and_for_a_day_after_it_arrives():
    book = TransferBook()
    t = book.accept(planned(book, move(6)).id, "U1", 0)
    other = planned(book, move(4, source="Eaton"), at=60)
    book.dismiss(other.id, "U2", 60)
    blocked = book.blocked("ADERI", 120)
    assert ("Auburn", "Maine") in blocked  # back along the open transfer
    assert ("Eaton", "Auburn") in blocked  # dismissed: not suggested again
    assert ("Maine", "Auburn") not in blocked  # accepted, not refused

    book.tick(25 * H)
    # Still on its way after a day: still blocked. The dismissal is a day old: free again.
    assert book.blocked("ADERI", 25 * H) == frozenset({("Auburn", "Maine")})
    book.sale("Auburn", "ADERI", 8, 30 * H)  # arrived: lowest was 3, now 8 after a sale
    assert t.status is Status.RECEIVED
    book.tick(53 * H)
    assert ("Auburn", "Maine") in book.blocked("ADERI", 53 * H)  # a day from arrival
    book.tick(55 * H)
    assert book.blocked("ADERI", 55 * H) == frozenset()


def test_a_two_pair_transfer_is_received_at_the_first_sale_after_it_arrives():
    book = TransferBook()
    t = book.accept(planned(book, move(2, target_level=3)).id, "U1", 0)
    assert book.sale("Auburn", "ADERI", 4, 60) == [t]  # 3 + 2 arrived - 1 sold


def test_progress_is_saved_and_measured_from_the_levels_at_acceptance():
    book = TransferBook()
    s = planned(book, move(6, source_level=40, target_level=3))
    # By the time someone accepts, Maine has sold down to 30 and Auburn to 2.
    t = book.accept(s.id, "U1", 0, levels=(30, 2))
    book.take_changes()
    book.sale("Maine", "ADERI", 29, 60)  # one sale: nothing sent yet
    assert not t.sent
    assert book.take_changes().transfers == {t.id: t}  # its progress is persisted
    book.sale("Auburn", "ADERI", 1, 70)
    assert book.take_changes().transfers[t.id].target_low == 1


def test_a_suggestion_whose_quantity_changes_is_shown_again():
    book = TransferBook()
    planned(book, move(6))
    book.shown.clear()
    planned(book, move(6), at=30)
    assert book.shown == set()
    planned(book, move(9), at=60)
    assert book.shown == {("Auburn", "ADERI")}


def test_cancelling_frees_the_reservation_and_blocks_nothing():
    book = TransferBook()
    t = book.accept(planned(book, move(6)).id, "U1", 0)
    assert book.cancel(t.id, "U1", 10) is t
    assert book.reserved("ADERI") == ({}, {})
    assert book.blocked("ADERI", 20) == frozenset()
    assert book.cancel(t.id, "U1", 20) is None


def test_state_survives_a_restart():
    book = TransferBook()
    planned(book, move(6), move(3, source="Eaton"))
    number = {s.suggestion.source: s.id for s in book.suggestions.values()}
    t = book.accept(number["Eaton"], "U1", 5)
    changes = book.take_changes()

    again = TransferBook()
    again.restore(list(changes.suggestions.values()), list(changes.transfers.values()))
    assert again.best_for("Auburn", "ADERI").id == number["Maine"]
    assert again.reserved("ADERI") == ({"Auburn": 3}, {"Eaton": 3})
    assert ("Auburn", "ADERI") in again.watched
    assert planned(again, move(6), move(2, source="Holyoke")).id == number["Maine"]
    assert again.accept(again.best_for("Auburn", "ADERI").id, "U", 9).id == t.id + 1


# -- in the alert engine ----------------------------------------------------------------------

C = "C-STORES"


def engine():
    book = RuleBook()
    book.set_rule(
        C, thresholds=Thresholds(low=10, high=None, gate_readings=1, gate_seconds=0), user="u", at=0
    )
    paces = PaceBook()
    settings = EngineSettings(notify=NotifySettings(group_wait=0))
    return AlertEngine(book, settings, paces=paces), paces


def sell(e, paces, store, levels, start, every):
    at = start
    for level in levels:
        paces.sale(store, "ADERI", level, at)
        e.sale(store, "ADERI", level, at)
        at += every
    return at - every


def test_a_low_alert_says_how_long_stock_lasts_and_carries_the_best_suggestion():
    e, paces = engine()
    at = sell(e, paces, "Auburn", range(30, 7, -1), 0, 360)  # 10 an hour, 8 left
    e.tick(at + 1)
    incident = next(i for i in e.incidents.values() if i.kind is Kind.LOW)
    view = e.view(incident.id, at + 1)
    minutes = re.fullmatch(r"about (\d+) min to zero at the current pace", view.pace)
    assert 40 <= int(minutes[1]) <= 50  # 8 left, selling 10 an hour
    assert view.transfer is None
    e.take_effects()

    e.apply(
        SetPlans((("ADERI", (move(6, target_level=8),), e.transfers.version("ADERI")),)), at + 30
    )
    effects = e.take_effects()
    assert [o.op for o in effects.outgoing] == [Op.UPDATE]  # the alert shows it at once
    line = e.view(incident.id, at + 30).transfer
    assert (line.kind, line.quantity, line.source) == ("suggested", 6, "Maine")

    e.apply(AcceptTransfer(line.id, "U7", name="ana"), at + 40)
    effects = e.take_effects()
    assert [(o.op, o.note and o.note.text()) for o in effects.outgoing] == [
        (Op.UPDATE, None),
        (Op.REPLY, "ana accepted transfer T1 (6 pairs)."),
    ]
    line = e.view(incident.id, at + 40).transfer
    assert (line.kind, line.by) == ("accepted", "U7")

    with pytest.raises(CommandError, match="no longer current"):
        e.apply(AcceptTransfer(line.id, "U8"), at + 50)

    e.sale("Auburn", "ADERI", 14, at + 60)  # the pairs arrive
    assert e.transfers.transfers[1].status is Status.RECEIVED
    notes = [o.note.text() for o in e.take_effects().outgoing if o.op is Op.REPLY]
    assert "Transfer T1 received (6 pairs)." in notes


def test_without_a_known_pace_the_alert_says_so():
    e, paces = engine()
    sell(e, paces, "Auburn", [5], 0, 1)
    e.tick(1)
    incident = next(i for i in e.incidents.values() if i.kind is Kind.LOW)
    assert e.view(incident.id, 1).pace == "pace not known yet"
