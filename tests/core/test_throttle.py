from bot.core.throttle import LogThrottle


def test_the_first_of_each_kind_is_logged_and_the_rest_summed_once_a_window():
    throttle = LogThrottle(window=60)

    assert throttle.admit("not_json", 0)
    assert throttle.admit("binary_frame", 1)
    assert not throttle.admit("not_json", 2)
    assert not throttle.admit("not_json", 3)
    assert throttle.summary(59) is None

    assert throttle.summary(60) == {"not_json": 2}
    assert throttle.admit("not_json", 61)  # a new window tells the first one again


def test_a_quiet_window_has_no_summary():
    throttle = LogThrottle(window=60)
    throttle.admit("not_json", 0)

    assert throttle.summary(100) is None
