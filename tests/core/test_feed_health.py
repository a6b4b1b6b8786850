from bot.core.feed_health import FeedHealth, FeedState


def health() -> FeedHealth:
    return FeedHealth("ws://feed", stale_after=60, now=0)


def test_a_handshake_is_not_live_the_first_message_is():
    h = health()
    assert h.state is FeedState.DISCONNECTED

    opened = h.connected(1)
    assert (opened.before, opened.after) == (FeedState.DISCONNECTED, FeedState.CONNECTED)
    assert h.last_error == "waiting for the first message"

    live = h.message(2)
    assert (live.before, live.after, live.detail) == (
        FeedState.CONNECTED,
        FeedState.LIVE,
        "messages are flowing",
    )


def test_silence_for_the_limit_makes_a_live_feed_stale_and_a_message_revives_it():
    h = health()
    h.connected(0)
    h.message(10)

    assert h.tick(69) is None
    stale = h.tick(70)
    assert (stale.after, stale.detail) == (FeedState.STALE, "no message for 60 s")
    assert h.tick(200) is None  # told once

    back = h.message(201)
    assert (back.before, back.after, back.detail) == (
        FeedState.STALE,
        FeedState.LIVE,
        "messages are flowing again",
    )
    assert h.message(202) is None


def test_a_connection_that_never_sends_goes_stale_from_when_it_opened():
    h = health()
    h.connected(100)

    assert h.tick(159) is None
    assert h.tick(160).after is FeedState.STALE
    assert h.last_error == "no message for 60 s"


def test_silence_counts_from_the_last_message_across_reconnects():
    h = health()
    h.connected(0)
    h.message(10)
    h.disconnected(20, "ping timeout")
    reopened = h.connected(21)  # the handshake alone brings nothing back

    assert reopened.after is FeedState.CONNECTED
    assert h.tick(69) is None
    assert h.tick(70).after is FeedState.STALE


def test_links_that_open_and_close_without_a_message_go_stale_and_stay_stale():
    h = health()
    at, changes = 0.0, []
    while at < 100:  # a websocketd whose script exits at once, retried every 5 s
        changes += [h.connected(at), h.disconnected(at + 0.01, "no close frame"), h.tick(at + 1)]
        at += 5
    states = [t.after for t in changes if t is not None]

    assert FeedState.LIVE not in states
    assert states.count(FeedState.STALE) == 1
    assert h.state is FeedState.STALE
    assert h.last_error == (
        "no message for 61 s over 13 connection(s); the last closed with: no close frame"
    )
    assert h.unhealthy_for(100) == 100
    assert h.message(101).after is FeedState.LIVE  # only a message ends it


def test_a_feed_that_cannot_be_reached_is_disconnected_not_stale():
    h = health()
    h.connected(0)
    h.message(1)
    t = h.disconnected(5, "connection refused")

    assert (t.after, t.detail) == (FeedState.DISCONNECTED, "connection refused")
    assert h.tick(500) is None
    assert h.unhealthy_for(65) == 60
    assert h.disconnected(70, "again") is None  # still down: no new transition

    h.connected(80)
    assert h.unhealthy_for(80) == 75  # connected is not live
    h.message(81)
    assert h.unhealthy_for(82) == 0


def test_a_feed_never_reached_is_never_stale():
    h = health()
    for at in range(0, 300, 10):
        assert h.disconnected(at, "connection refused") is None
        assert h.tick(at + 5) is None
    assert h.state is FeedState.DISCONNECTED


def test_counts_connections_and_messages():
    h = health()
    h.connected(0)
    h.message(1)
    h.message(2)
    h.disconnected(3, "x")
    h.connected(4)

    assert (h.connects, h.messages, h.last_message_at) == (2, 2, 2)
