"""The per-channel delivery lane, with the clock passed in."""

import pytest

from bot.core.delivery import BACKOFF_CAP, BLOCKED_PROBE, Delivery, Lane


def delivery(n: int, op: str = "post", incident: int | None = None) -> Delivery:
    return Delivery(n, op, incident if incident is not None else n, "{}")


def send(lane: Lane, now: float, answered: float) -> Delivery:
    head = lane.next(now)
    assert isinstance(head, Delivery), head
    lane.started(now)
    done = lane.done()
    lane.finished(answered, done.op)
    return done


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


def test_retry_after_is_honoured():
    lane = Lane("C1")
    lane.add(delivery(1))
    lane.started(0.0)
    lane.rate_limited(0.0, retry_after=30)
    lane.finished(0.1, "post")

    assert lane.next(29.9) > 0
    assert lane.next(30.0) is lane.queue[0]


def test_server_errors_back_off_doubling_up_to_a_cap_and_remember_uncertainty():
    lane = Lane("C1")
    lane.add(delivery(1))
    waits = []
    for attempt in range(10):
        lane.started(attempt * 1000.0)
        waits.append(lane.retry_later(attempt * 1000.0, uncertain=attempt == 2))

    assert waits[:4] == [2, 4, 8, 16]
    assert waits[-1] == BACKOFF_CAP
    assert lane.queue[0].uncertain  # once the answer was lost, look before every resend
    assert lane.queue[0].attempts == 10


def test_an_edit_superseded_by_a_later_edit_of_the_same_message_is_skipped():
    lane = Lane("C1")
    lane.add(delivery(1, "update", incident=7))
    lane.add(delivery(2, "update", incident=8))
    lane.add(delivery(3, "update", incident=7))

    assert [d.outbox_id for d in lane.superseded()] == [1]  # #3 edits the same message later
    assert [d.outbox_id for d in lane.queue] == [2, 3]
    assert lane.superseded() == []


def test_replies_are_never_skipped():
    lane = Lane("C1")
    lane.add(delivery(1, "reply", incident=7))
    lane.add(delivery(2, "reply", incident=7))
    assert lane.superseded() == []


def test_a_refused_channel_is_reported_once_and_tried_again_after_a_while():
    lane = Lane("C1")
    lane.add(delivery(1))
    lane.started(0.0)
    assert lane.block(0.0, "not_in_channel") is True
    assert lane.next(BLOCKED_PROBE - 1) > 0
    assert lane.next(BLOCKED_PROBE) is lane.queue[0]
    lane.started(BLOCKED_PROBE)
    assert lane.block(BLOCKED_PROBE, "not_in_channel") is False  # still refused: said already

    send(lane, 2 * BLOCKED_PROBE, answered=2 * BLOCKED_PROBE)
    assert lane.blocked is None
