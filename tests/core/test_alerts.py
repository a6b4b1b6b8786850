"""The alert machine, transition by transition, with the clock passed in."""

from bot.core.alerting.machine import (
    FLAP_CHANGES,
    FLAP_SETTLE,
    FLAP_WINDOW,
    AlertMachine,
    Phase,
    Severity,
    Side,
    Step,
)
from bot.core.thresholds import Thresholds

T = Thresholds(low=10, high=80, gate_readings=2, gate_seconds=60)


def low() -> AlertMachine:
    return AlertMachine(Side.LOW)


def test_a_level_inside_the_band_does_nothing():
    m = low()
    assert m.observe(50, T, 0) is Step.NONE
    assert m.phase is Phase.OK
    assert m.idle


def test_a_low_reading_starts_the_gate_and_a_level_back_in_the_band_cancels_it_silently():
    m = low()
    assert m.observe(9, T, 0) is Step.PENDING
    assert (m.phase, m.severity, m.readings) == (Phase.PENDING, Severity.LOW, 1)

    assert m.observe(11, T, 5) is Step.CANCELLED
    assert m.phase is Phase.OK
    assert m.flips == []  # never announced: no history


def test_the_gate_needs_both_its_readings_and_its_time():
    m = low()
    m.observe(9, T, 0)
    assert m.observe(8, T, 30) is Step.NONE  # two readings, but only 30 s
    assert m.tick(T, 59) is Step.NONE
    assert m.tick(T, 60) is Step.FIRED  # the ticker promotes it: the store may go quiet
    assert (m.phase, m.fired_at) == (Phase.FIRING, 60)


def test_time_alone_does_not_fire_a_single_reading():
    m = low()
    m.observe(9, T, 0)
    assert m.tick(T, 10_000) is Step.NONE
    assert m.observe(9, T, 10_001) is Step.FIRED  # the second reading, long after


def test_a_gate_of_one_reading_and_no_time_fires_at_once():
    m = low()
    assert m.observe(3, Thresholds(low=5, gate_readings=1, gate_seconds=0), 0) is Step.FIRED


def test_out_of_stock_is_critical_and_skips_the_gate():
    m = low()
    assert m.observe(0, T, 0) is Step.FIRED
    assert m.severity is Severity.OUT


def test_out_of_stock_during_the_gate_fires_at_once():
    m = low()
    m.observe(4, T, 0)
    assert m.observe(0, T, 1) is Step.FIRED
    assert m.severity is Severity.OUT


def test_a_firing_low_alert_escalates_to_out_of_stock_and_eases_back_in_place():
    m = low()
    m.observe(5, T, 0)
    m.observe(4, T, 60)
    assert m.observe(0, T, 70) is Step.ESCALATED
    assert m.severity is Severity.OUT
    assert m.observe(3, T, 80) is Step.EASED
    assert (m.phase, m.severity) == (Phase.FIRING, Severity.LOW)


def test_the_deadband_keeps_it_firing_until_the_level_clears_it():
    m = low()
    m.observe(0, T, 0)
    assert T.low_clear == 12
    assert m.observe(11, T, 10) is Step.EASED  # above low but inside the deadband
    assert m.observe(10, T, 20) is Step.NONE
    assert m.observe(12, T, 30) is Step.RESOLVED
    assert m.phase is Phase.OK
    assert m.flips == [0, 30]


def test_high_fires_after_its_gate_and_resolves_below_its_deadband():
    m = AlertMachine(Side.HIGH)
    assert m.observe(85, T, 0) is Step.PENDING
    assert m.observe(90, T, 60) is Step.FIRED
    assert m.severity is Severity.HIGH
    assert T.high_clear == 72
    assert m.observe(75, T, 70) is Step.NONE
    assert m.observe(72, T, 80) is Step.RESOLVED


def test_a_side_without_a_threshold_never_alerts():
    m = low()
    assert m.observe(0, Thresholds(low=None, high=80), 0) is Step.NONE
    h = AlertMachine(Side.HIGH)
    assert h.observe(10_000, Thresholds(low=5, high=None), 0) is Step.NONE


def test_low_zero_alerts_only_out_of_stock():
    t = Thresholds(low=0, high=None)
    m = low()
    assert m.observe(1, t, 0) is Step.NONE
    assert m.observe(0, t, 1) is Step.FIRED


def fire_and_resolve(m: AlertMachine, start: float) -> None:
    m.observe(0, T, start)
    m.observe(50, T, start + 1)


def test_a_key_that_keeps_firing_and_resolving_is_flapping_until_it_settles():
    m = low()
    for episode in range(FLAP_CHANGES // 2 - 1):
        fire_and_resolve(m, episode * 100)
        assert m.update_flapping(episode * 100 + 1) is None
    fire_and_resolve(m, 1000)
    assert m.update_flapping(1001) is True
    assert m.flapping
    assert m.update_flapping(1001 + FLAP_SETTLE - 1) is None
    assert m.update_flapping(1001 + FLAP_SETTLE) is False
    assert not m.flapping


def test_old_changes_drop_out_of_the_flap_window():
    m = low()
    for episode in range(FLAP_CHANGES // 2 - 1):
        fire_and_resolve(m, episode * 100)
    fire_and_resolve(m, FLAP_WINDOW + 500)
    assert m.update_flapping(FLAP_WINDOW + 501) is None
    assert len(m.flips) == 2
