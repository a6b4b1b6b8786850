"""Sales pace from sales alone: each message is one sale."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.core.events import SaleEvent
from bot.core.velocity import (
    TAU_FAST,
    TAU_SLOW,
    Pace,
    PaceBook,
    advance,
    after_sale,
    describe_pace,
    describe_time_left,
    hours_to_zero,
    pooled,
    rate,
    risk_rates,
)

H = 3600.0


def sell(pace, times, level=50):
    for at in times:
        pace = after_sale(pace, level, at)
    return pace


def every(per_hour: float, start: float, hours: float) -> list[float]:
    step = H / per_hour
    return [start + i * step for i in range(int(hours * per_hour))]


def test_a_steady_seller_reads_its_own_pace_at_both_speeds():
    pace = sell(None, every(10, 0, 48))
    r = rate(pace, None, 48 * H)

    assert r.fast == pytest.approx(10, rel=0.05)
    assert r.slow == pytest.approx(10, rel=0.05)


def test_a_flash_sale_shows_in_the_fast_rate_within_the_hour_and_drives_the_risk():
    pace = sell(None, every(10, 0, 48))
    half = sell(pace, every(60, 48 * H, 0.5))
    assert rate(half, None, 48.5 * H).fast > 2 * rate(half, None, 48.5 * H).slow

    pace = sell(half, every(60, 48.5 * H, 0.5))
    r = rate(pace, None, 49 * H)
    assert r.fast > 30  # six times the usual pace, seen as more than three within the hour
    assert r.slow < 12
    assert r.risk == r.fast


def test_time_out_of_stock_does_not_count_as_time_without_demand():
    pace = sell(None, every(10, 0, 24))
    pace = after_sale(pace, 0, 24 * H)  # the last pair went
    pace = sell(pace, every(10, 36 * H, 2), level=40)  # restocked after 12 empty hours
    r = rate(pace, None, 38 * H)

    assert r.slow == pytest.approx(10, rel=0.1)  # the empty 12 hours did not halve it


def test_a_restock_is_not_a_sale():
    steady = sell(None, every(10, 0, 10), level=5)
    restocked = sell(None, every(10, 0, 10), level=5)
    restocked = after_sale(restocked, 80, 10 * H)  # a jump up, then one sale
    steady = after_sale(steady, 4, 10 * H)

    assert rate(restocked, None, 10 * H) == rate(steady, None, 10 * H)


def test_a_shelf_seen_once_has_no_pace_of_its_own_but_borrows_its_models():
    once = after_sale(None, 7, 100 * H)
    assert rate(once, None, 100 * H).risk is None

    model = Pace(stocked=10)  # ten shelves of the model in stock, 20 sales an hour between them
    for at in every(20, 0, 100):
        advance(model, at)
        model.fast_sold += 1
        model.slow_sold += 1
    borrowed = rate(once, model, 100 * H)
    assert borrowed.slow == pytest.approx((1 + 8 * 2) / 8, rel=0.05)  # 8 h at 2 an hour, + 1


def test_a_shelf_that_stops_selling_slows_down_over_time():
    pace = sell(None, every(10, 0, 24))
    assert rate(pace, None, 30 * H).fast < rate(pace, None, 24 * H).fast / 10


def test_time_to_zero_and_how_it_reads():
    assert hours_to_zero(10, 5.0) == 2.0
    assert hours_to_zero(10, None) is None
    assert hours_to_zero(10, 0.0) is None
    assert describe_time_left(2.0) == "about 2 h to zero at the current pace"
    assert describe_time_left(0.25) == "about 15 min to zero at the current pace"
    assert describe_time_left(100.0) == "about 4 days of cover at the current pace"
    assert describe_time_left(None) == "pace not known yet"


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(st.sampled_from(["A", "B", "C"]), st.integers(0, 30), st.floats(1, 7_200)),
        min_size=1,
        max_size=60,
    )
)
def test_a_models_pace_is_the_sum_of_its_shelves(sales):
    book, at = PaceBook(), 0.0
    for store, level, gap in sales:
        at += gap
        book.sale(store, "ADERI", level, at)
    model = book.models["ADERI"]
    shelves = [
        Pace(**{f: getattr(p, f) for f in Pace.__slots__}) for p in book.shelves["ADERI"].values()
    ]
    rebuilt = pooled(shelves)  # as a database from before model paces were kept gets them
    for pace in [model, rebuilt, *shelves]:
        advance(pace, at + H)
    for field in ("fast_sold", "fast_hours", "slow_sold", "slow_hours"):
        assert getattr(model, field) == pytest.approx(sum(getattr(p, field) for p in shelves))
        assert getattr(rebuilt, field) == pytest.approx(getattr(model, field))
    assert model.stocked == rebuilt.stocked == sum(p.stocked for p in shelves)


def test_a_new_shelf_of_a_known_model_gets_a_pace_at_once():
    book = PaceBook()
    for at in every(20, 0, 10):  # one shelf selling 20 an hour for 10 hours
        book.sale("Maine", "ADERI", 30, at)
    book.sale("Auburn", "ADERI", 12, 10 * H)
    assert book.rate("Auburn", "ADERI", 10 * H).risk == pytest.approx((1 + 8 * 20) / 8, rel=0.05)
    assert book.rate("Auburn", "MIRIRA", 10 * H).risk is None


def test_a_stock_listing_says_the_pace_in_a_few_words():
    assert describe_pace(12, 6.0) == "sells 6/h, 2 h of cover"
    assert describe_pace(30, 0.25) == "sells 6/day, 5 days of cover"
    assert describe_pace(3, 12.0) == "sells 12/h, 15 min of cover"
    assert describe_pace(0, 1.0) == "sells 24/day"
    assert describe_pace(9, None) == "pace not known yet"


PACES = st.builds(
    Pace,
    st.floats(0, 500),
    st.floats(0, 200),
    st.floats(0, 5_000),
    st.floats(0, 2_000),
    st.floats(0, 10 * H),
    st.integers(0, 1),
)


@settings(max_examples=100, deadline=None)
@given(st.lists(PACES, min_size=1, max_size=20), st.one_of(st.none(), PACES))
def test_the_rates_of_many_shelves_at_once_are_each_shelfs_risk_rate(shelves, model):
    now = 11 * H
    rows = np.array([[*p.sums(), p.at, p.stocked] for p in shelves])
    expected = [rate(p, model, now).risk for p in shelves]

    found = risk_rates(rows, model, now)
    assert [None if np.isnan(r) else pytest.approx(r) for r in found] == expected


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(st.sampled_from(["A", "B", "C"]), st.integers(0, 30), st.floats(0, 0.01)),
        min_size=1,
        max_size=60,
    )
)
def test_a_batch_of_sales_counts_as_the_same_sales_one_by_one(batch):
    # The writer counts a batch (milliseconds of the feed) at once: each model's pace moves
    # forward once, at the batch's end, instead of at each sale. That counts each of the
    # batch's sales undecayed and its shelves' stock as it was before the batch, so the sums
    # may differ by what `span` seconds can change: a fraction span/tau of each sale, and
    # span seconds of in-stock time per shelf.
    one_by_one, batched = PaceBook(), PaceBook()
    for book in (one_by_one, batched):
        for i, store in enumerate("ABC"):
            book.sale(store, "ADERI", 5 * i, 600.0 * i)  # some history: C sold out, A stocked
    at, sales = 3 * H, []
    for store, level, gap in batch:
        at += gap
        sales.append(SaleEvent(store, "ADERI", level, at, "ws://feed/"))
        one_by_one.sale(store, "ADERI", level, at)
    assert batched.record(sales) == ["ADERI"]
    assert batched.shelves == one_by_one.shelves
    model, expected = batched.models["ADERI"], one_by_one.models["ADERI"]
    assert (model.at, model.stocked) == (expected.at, expected.stocked)
    span = sum(gap for _, _, gap in batch)
    for field, tau in (("fast_sold", TAU_FAST), ("slow_sold", TAU_SLOW)):
        bound = len(batch) * span / tau
        assert getattr(model, field) == pytest.approx(getattr(expected, field), abs=bound + 1e-9)
    for field, tau in (("fast_hours", TAU_FAST), ("slow_hours", TAU_SLOW)):
        bound = 3 * span / H + getattr(expected, field) * span / tau
        assert getattr(model, field) == pytest.approx(getattr(expected, field), abs=bound + 1e-9)
