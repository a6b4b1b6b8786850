"""The delivery policy, with the clock passed in: each channel's lane, and the budgets every
channel shares."""

import pytest

from bot.core.delivery import (
    BACKOFF_CAP,
    BLOCKED_PROBE,
    STORE_BACKOFF_CAP,
    WINDOW_MARGIN,
    Budget,
    Budgets,
    Delivery,
    Lane,
    Limit,
)


def delivery(n: int, op: str = "post", incident: int | None = None) -> Delivery:
    return Delivery(n, op, incident if incident is not None else n, "{}")


def send(lane: Lane, now: float, answered: float) -> Delivery:
    """Make the call the lane offers now, answered at `answered`, and settle it."""
    d = lane.next(now)
    assert isinstance(d, Delivery), d
    lane.started(d, now)
    lane.finished(answered, d.op)
    return lane.done(d)


def test_messages_go_out_in_order_one_second_after_the_previous_answer():
    lane = Lane("C1")
    for n in range(3):
        lane.add(delivery(n))

    assert send(lane, 0.0, answered=0.3).outbox_id == 0
    assert lane.next(0.5) == pytest.approx(0.8)  # a second after the answer, not the call
    assert send(lane, 1.3, answered=1.4).outbox_id == 1
    assert lane.next(2.0) == pytest.approx(0.4)
    assert send(lane, 2.4, answered=2.5).outbox_id == 2
    assert lane.next(10) is None


def test_an_edit_is_not_held_back_by_the_pace_of_messages():
    lane = Lane("C1")
    lane.add(delivery(1, "post", incident=7))
    lane.add(delivery(2, "update", incident=7))
    lane.add(delivery(3, "reply", incident=7))
    send(lane, 0.0, answered=0.1)

    assert send(lane, 0.1, answered=0.2).op == "update"
    assert lane.next(0.2) == pytest.approx(0.9)  # the reply waits for the message pace


def test_retry_after_is_honoured_by_every_channel():
    budgets = Budgets()
    stores, merch = Lane("C1", budgets), Lane("C2", budgets)
    stores.add(delivery(1))
    merch.add(delivery(2))
    budgets.pause("chat.postMessage", 0.0, 30)  # a 429 to a post in C1

    assert stores.next(29.9) > 0
    assert merch.next(29.9) > 0  # the method is paused for the workspace, not the channel
    assert stores.next(30.0) is stores.queue[0]
    assert merch.next(30.0) is merch.queue[0]


def test_a_budget_allows_so_many_calls_in_any_window_of_its_length():
    budget = Budget(Limit(3, per=60))
    for at in (0.0, 1.0, 2.0):
        assert budget.wait(at) == 0
        budget.spend(at)

    # Until the call at 0 leaves the window, with a margin for the network's jitter.
    assert budget.wait(30.0) == pytest.approx(30.0 + WINDOW_MARGIN)
    assert budget.wait(60.0 + WINDOW_MARGIN) == 0
    budget.spend(60.0 + WINDOW_MARGIN)
    assert budget.used(60.5) == 3  # the calls at 1, 2 and 60.25
    assert budget.wait(60.5) == pytest.approx(1.0 + 60.0 + WINDOW_MARGIN - 60.5)


def test_edits_in_every_channel_share_one_budget():
    budgets = Budgets({"chat.update": Limit(2)})
    lanes = [Lane(f"C{n}", budgets) for n in range(3)]
    for n, lane in enumerate(lanes):
        lane.add(delivery(n, "update", incident=n))

    for lane in lanes[:2]:
        d = lane.next(0.0)
        budgets.spend("chat.update", 0.0)  # the transport spends as the call goes out
        lane.done(d)
    assert lanes[2].next(0.0) == pytest.approx(60.0 + WINDOW_MARGIN)  # the third one waits
    assert isinstance(lanes[2].next(60.0 + WINDOW_MARGIN), Delivery)


def test_a_new_alert_is_posted_while_edits_wait_for_their_budget():
    budgets = Budgets({"chat.update": Limit(1)})
    budgets.spend("chat.update", 0.0)
    lane = Lane("C1", budgets)
    lane.add(delivery(1, "update", incident=7))
    lane.add(delivery(2, "reply", incident=7))  # after its incident's edit, always
    lane.add(delivery(3, "post", incident=8))
    lane.add(delivery(4, "post", incident=9))

    assert send(lane, 1.0, answered=1.1).outbox_id == 3  # not held behind the edit
    assert lane.next(1.5) == pytest.approx(0.6)  # posts keep their order and their pace
    assert send(lane, 2.1, answered=2.2).outbox_id == 4
    assert lane.next(3.5) == pytest.approx(56.5 + WINDOW_MARGIN)  # the edit, then its reply
    assert [d.outbox_id for d in lane.queue] == [1, 2]


def test_edits_waiting_for_the_budget_coalesce_into_the_latest():
    budgets = Budgets({"chat.update": Limit(1)})
    budgets.spend("chat.update", 0.0)
    lane = Lane("C1", budgets)
    for n, incident in enumerate([7, 8, 7, 7, 8]):
        lane.add(delivery(n, "update", incident=incident))

    dropped = lane.superseded()

    assert [d.outbox_id for d in dropped] == [0, 1, 2]
    assert all(d.outcome == ("superseded", None) for d in dropped)
    assert [d.outbox_id for d in lane.waiting()] == [3, 4]  # each message's latest state
    assert lane.superseded() == []


def test_a_settled_row_is_offered_first_to_be_recorded_whatever_the_budget():
    budgets = Budgets({"chat.update": Limit(1)})
    budgets.spend("chat.update", 0.0)
    lane = Lane("C1", budgets)
    lane.add(delivery(1, "update", incident=7))
    lane.add(delivery(2, "update", incident=7))
    lane.superseded()

    assert lane.next(0.0).outbox_id == 1  # its record is all that is left
    lane.done(lane.queue[0])
    assert lane.next(0.0) == pytest.approx(60.0 + WINDOW_MARGIN)


def test_replies_are_never_skipped():
    lane = Lane("C1")
    lane.add(delivery(1, "reply", incident=7))
    lane.add(delivery(2, "reply", incident=7))
    assert lane.superseded() == []


def test_server_errors_back_off_doubling_up_to_a_cap_and_remember_uncertainty():
    lane = Lane("C1")
    lane.add(delivery(1))
    d = lane.queue[0]
    waits = []
    for attempt in range(10):
        lane.started(d, attempt * 1000.0)
        waits.append(lane.retry_later(d, attempt * 1000.0, uncertain=attempt == 2))

    assert waits[:4] == [2, 4, 8, 16]
    assert waits[-1] == BACKOFF_CAP
    assert d.uncertain  # once the answer was lost, look before every resend
    assert d.attempts == 10


def test_a_refused_channel_is_reported_once_and_tried_again_after_a_while():
    lane = Lane("C1")
    lane.add(delivery(1))
    lane.started(lane.queue[0], 0.0)
    assert lane.block(0.0, "not_in_channel") is True
    assert lane.next(BLOCKED_PROBE - 1) > 0
    assert lane.next(BLOCKED_PROBE) is lane.queue[0]
    lane.started(lane.queue[0], BLOCKED_PROBE)
    assert lane.block(BLOCKED_PROBE, "not_in_channel") is False  # still refused: said already

    send(lane, 2 * BLOCKED_PROBE, answered=2 * BLOCKED_PROBE)
    assert lane.blocked is None


def test_a_database_that_refuses_writes_is_retried_later_and_later():
    lane = Lane("C1")
    lane.add(delivery(1))
    waits = [lane.store_failed(float(n)) for n in range(10)]

    assert waits[:3] == [0.5, 1.0, 2.0]
    assert waits[-1] == STORE_BACKOFF_CAP
    assert lane.next(9.0 + STORE_BACKOFF_CAP - 0.1) > 0
    lane.stored()
    assert lane.store_failed(100.0) == 0.5  # a write went in: start again from the shortest
