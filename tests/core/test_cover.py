"""Rules in days of cover: a level is low when the shelf's stock would last that long or less at
its pace, in pure code with the clock passed in."""

import pytest

from bot.core.alerting.engine import AlertEngine, EngineSettings
from bot.core.alerting.incidents import Kind
from bot.core.alerting.notify import NotifySettings
from bot.core.alerting.stock import REPACE_EVERY
from bot.core.errors import RuleError
from bot.core.rules import RuleBook
from bot.core.thresholds import Thresholds
from bot.core.velocity import Pace, PaceBook
from bot.slack.render import render

C = "C-STORES"
DAY = 86_400.0
NOW = 10 * DAY


def selling(book: PaceBook, store: str, per_day: float, level: int, at: float) -> None:
    """A shelf that has sold `per_day` pairs a day for days, at both of its speeds."""
    hours = 72.0
    book.shelves.setdefault("ADERI", {})[store] = Pace(
        per_day / 24 * hours, hours, per_day / 24 * hours, hours, at, 1, level
    )


class Shelves:
    def __init__(self, *rules: tuple[str, Thresholds]) -> None:
        book = RuleBook()
        for store, thresholds in rules:
            book.set_rule(C, store=store, thresholds=thresholds, user="U1", at=0)
        self.paces = PaceBook()
        notify = NotifySettings(group_wait=0)
        self.engine = AlertEngine(book, EngineSettings(notify=notify), paces=self.paces)

    def low_alerts(self) -> dict[str, dict]:
        return {
            i.store: i.detail
            for i in self.engine.incidents.values()
            if i.kind is Kind.LOW and i.open
        }


def cover(low_days: float, low: int = 5) -> Thresholds:
    return Thresholds(low=low, low_days=low_days, gate_readings=1, gate_seconds=0)


@pytest.mark.parametrize(("days", "alerts"), [(2, True), (1, False)])
def test_a_shelf_selling_ten_a_day_with_fifteen_left_lasts_a_day_and_a_half(days, alerts):
    shelves = Shelves(("", cover(days)))
    selling(shelves.paces, "Maine", per_day=10, level=15, at=NOW)

    shelves.engine.sale("Maine", "ADERI", 15, NOW)

    assert ("Maine" in shelves.low_alerts()) is alerts


@pytest.mark.parametrize(("days", "alerts"), [(2, True), (1, False)])
def test_paces_learnt_from_a_sale_every_two_hours_and_a_half_count_the_same(days, alerts):
    # Ten a day, read as each sale comes in: the hour's pace would read 20 a day here.
    shelves = Shelves(("", cover(days)))
    at, level = NOW, 45
    while level > 15:
        at, level = at + DAY / 10, level - 1
        shelves.paces.sale("Maine", "ADERI", level, at)
        shelves.engine.tick(at)
        shelves.engine.sale("Maine", "ADERI", level, at)

    assert ("Maine" in shelves.low_alerts()) is alerts


def test_the_alert_says_the_cover_and_the_pairs_it_meant():
    shelves = Shelves(("", cover(2)))
    selling(shelves.paces, "Maine", per_day=10, level=15, at=NOW)
    shelves.engine.sale("Maine", "ADERI", 15, NOW)

    incident = next(i for i in shelves.engine.incidents.values() if i.kind is Kind.LOW)
    text = render(shelves.engine.view(incident.id, NOW)).text

    assert incident.threshold == 20  # 2 days at 10 a day
    assert (
        "15 left (alert at 2 days of cover or less: 20 pairs at its pace of the last days)" in text
    )


def test_with_no_pace_known_the_pairs_threshold_stands_in_and_the_alert_says_so():
    shelves = Shelves(("", cover(2, low=10)))  # a shelf never seen selling: no pace

    shelves.engine.sale("Maine", "ADERI", 15, NOW)
    assert shelves.low_alerts() == {}
    shelves.engine.sale("Maine", "ADERI", 9, NOW + 1)

    incident = next(i for i in shelves.engine.incidents.values() if i.kind is Kind.LOW)
    text = render(shelves.engine.view(incident.id, NOW + 1)).text
    assert incident.threshold == 10
    assert "the pace is not known yet, so this stands in for 2 days of cover or less" in text


def test_cover_and_pairs_rules_side_by_side_the_most_specific_wins():
    shelves = Shelves(("", Thresholds(low=5, gate_readings=1, gate_seconds=0)), ("Maine", cover(2)))
    for store in ("Maine", "Auburn"):
        selling(shelves.paces, store, per_day=10, level=15, at=NOW)
        shelves.engine.sale(store, "ADERI", 15, NOW)

    assert set(shelves.low_alerts()) == {"Maine"}  # Auburn's rule is 5 pairs


def test_a_pace_that_changes_is_taken_up_within_a_minute():
    shelves = Shelves(("", cover(2)))
    selling(shelves.paces, "Maine", per_day=5, level=15, at=NOW)  # 3 days of cover
    shelves.engine.sale("Maine", "ADERI", 15, NOW)
    assert shelves.low_alerts() == {}

    selling(shelves.paces, "Maine", per_day=10, level=15, at=NOW + 1)  # now 1.5 days
    shelves.engine.sale("Maine", "ADERI", 15, NOW + 1)
    assert shelves.low_alerts() == {}  # the pairs of a minute ago still stand
    shelves.engine.tick(NOW + REPACE_EVERY)
    shelves.engine.sale("Maine", "ADERI", 15, NOW + REPACE_EVERY + 1)

    assert set(shelves.low_alerts()) == {"Maine"}


def test_high_in_days_of_cover_is_overstock():
    rule = Thresholds(low=None, high=80, high_days=60, gate_readings=1, gate_seconds=0)
    shelves = Shelves(("", rule))
    selling(shelves.paces, "Maine", per_day=1, level=70, at=NOW)  # 70 days of cover

    shelves.engine.sale("Maine", "ADERI", 70, NOW)

    highs = [i for i in shelves.engine.incidents.values() if i.kind is Kind.HIGH]
    assert [(i.store, i.threshold) for i in highs] == [("Maine", 60)]


def test_cover_in_pairs_at_a_pace():
    t = Thresholds(low=10, high=None, low_days=2)
    assert t.at_pace(10 / 24).low == 20
    assert t.at_pace(None).low == 10  # no pace: the pairs stand in
    assert t.at_pace(0.0).low == 10
    crossing = Thresholds(low=10, high=None, high_days=60).at_pace(0.1 / 24)  # 6 pairs
    assert (crossing.low, crossing.high) == (10, 11)  # running short wins


@pytest.mark.parametrize(
    ("given", "says"),
    [
        ({"low_days": 0}, "cover must be from 1 hour"),
        ({"low_days": 400}, "cover must be from 1 hour to 365 days"),
        ({"low_days": 5, "high_days": 3, "high": 90}, "high (3 days) must be above low (5 days)"),
        ({"low_days": 2, "high": 5}, "high (5) must be above low (10) pairs until a pace"),
    ],
)
def test_impossible_cover_is_refused(given, says):
    with pytest.raises(RuleError, match=r"^" + says.replace("(", r"\(").replace(")", r"\)")):
        Thresholds(**given)
