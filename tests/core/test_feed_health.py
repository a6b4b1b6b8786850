from bot.core.feed_health import FeedHealth, FeedState


def health() -> FeedHealth:
    return FeedHealth("ws://feed", stale_after=60, now=0)


def test_a_new_feed_is_disconnected_until_it_connects():
    h = health()
    assert h.state is FeedState.DISCONNECTED

    t = h.connected(1)

    assert (t.before, t.after, t.detail) == (FeedState.DISCONNECTED, FeedState.LIVE, "connected")


def test_silence_for_the_limit_makes_a_live_feed_stale_and_a_message_revives_it():
    h = health()
    h.connected(0)
    h.message(10)

    assert h.tick(69) is None
    stale = h.tick(70)
    assert (stale.after, stale.detail) == (FeedState.STALE, "no message for 60 s")
    assert h.tick(200) is None  # told once

    back = h.message(201)
    assert (back.before, back.after) == (FeedState.STALE, FeedState.LIVE)
    assert h.message(202) is None


def test_a_connection_that_never_sends_goes_stale_from_when_it_opened():
    h = health()
    h.connected(100)

    assert h.tick(159) is None
    assert h.tick(160).after is FeedState.STALE


def test_a_disconnected_feed_is_not_stale_and_counts_how_long_it_has_been_down():
    h = health()
    h.connected(0)
    t = h.disconnected(5, "connection refused")

    assert (t.after, t.detail) == (FeedState.DISCONNECTED, "connection refused")
    assert h.tick(500) is None
    assert h.unhealthy_for(65) == 60
    assert h.disconnected(70, "again") is None  # still down: no new transition

    h.connected(80)
    assert h.unhealthy_for(81) == 0


def test_counts_connections_and_messages():
    h = health()
    h.connected(0)
    h.message(1)
    h.message(2)
    h.disconnected(3, "x")
    h.connected(4)

    assert (h.connects, h.messages, h.last_message_at) == (2, 2, 2)
