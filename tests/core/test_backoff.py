from bot.core.backoff import reconnect_delay


def test_the_ceiling_doubles_up_to_the_cap():
    ceilings = [reconnect_delay(n, base=0.5, cap=30, jitter=0.999999) for n in range(10)]

    assert [round(c, 2) for c in ceilings] == [0.5, 1, 2, 4, 8, 16, 30, 30, 30, 30]


def test_jitter_spreads_each_wait_over_the_upper_half_of_its_ceiling():
    low = reconnect_delay(3, base=0.5, cap=30, jitter=0.0)
    high = reconnect_delay(3, base=0.5, cap=30, jitter=0.999)

    assert low == 2.0
    assert 3.99 < high < 4.0


def test_a_huge_attempt_number_stays_at_the_cap():
    assert reconnect_delay(10_000, base=0.5, cap=30, jitter=0.5) == 22.5
