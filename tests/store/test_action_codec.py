"""Every change a person can ask for crosses to another process and back as it was, and so do
its result and its refusal."""

from __future__ import annotations

from datetime import time

import pytest

from bot.core.alerting import actions
from bot.core.alerting.incidents import Incident, Kind, Shown
from bot.core.alerting.machine import Severity
from bot.core.errors import CommandError, RuleError
from bot.core.quiet import QuietHours
from bot.core.rules import Change, Rule, Scope
from bot.core.thresholds import Thresholds
from bot.core.transfers.book import Status, Transfer
from bot.store.action_codec import (
    HANDED_OVER,
    decode_action,
    decode_refusal,
    decode_result,
    encode_action,
    encode_refusal,
    encode_result,
)

EXAMPLES = [
    actions.Acknowledge(12, "U1", "ana"),
    actions.Snooze(12, "U1", 3600.0),
    actions.Mute(12, "U1", None, "ana"),
    actions.Mute(12, "U1", 86400.0),
    actions.Unmute(12, "U2"),
    actions.SetRule("C1", Thresholds(low=5, high=None, gate_readings=3), "U1", store="Maine"),
    actions.SetRule(
        "C1",
        Thresholds(low=10, high=80, low_days=2.0, high_days=60.0),
        "U1",
        owner="S0BUYERS",
        second_owner="U2",
        escalate=1800.0,
    ),
    actions.FollowStores("U1", ("Maine", "Auburn")),
    actions.ClearRule("C1", "U1", model="ADERI"),
    actions.DefaultRule("C1", Thresholds()),
    actions.Watch("C1", Scope(stores=frozenset({"Maine", "Auburn"})), "U1"),
    actions.Watch("C1", Scope(), "U1"),
    actions.SetQuietHours("C1", QuietHours(time(22), time(7), "America/Toronto"), "U1"),
    actions.SetQuietHours("C1", None, "U1"),
    actions.AcceptTransfer(41, "U1", "ana"),
    actions.DismissTransfer(41, "U1"),
    actions.CancelTransfer(3, "U1", "ana"),
]


@pytest.mark.parametrize("action", EXAMPLES, ids=lambda a: type(a).__name__)
def test_an_action_crosses_as_it_was(action):
    assert decode_action(encode_action(action)) == action


def test_every_kind_a_person_asks_for_has_an_example():
    assert {type(a).__name__ for a in EXAMPLES} == set(HANDED_OVER)


def test_results_and_refusals_cross_as_they_were():
    incident = Incident(7, "C1", Kind.LOW, "Maine", "ADERI", Severity.OUT, 1.0, 2.0, 0, 10)
    incident.shown, incident.acked_by = Shown.MESSAGE, "U1"
    transfer = Transfer(3, "ADERI", "A", "B", 6, "Move 6", Status.ACCEPTED, "U1", 5.0, 40, 3)
    change = Change("C1", "U1", 5.0, "set_rule", "low <= 5")
    rule = Rule("C1", "", "", Thresholds(low=5, low_days=2.0), "U1", 5.0, "S0BUYERS")
    saved = Change("C1", "U1", 5.0, "set_rule", "low <= 2 days ...", rule, rule)
    for result in (incident, transfer, change, saved, None, ["ADERI"]):
        assert decode_result(encode_result(result)) == result
    for refusal in (CommandError("no open alert #9"), RuleError("high must be above low")):
        back = decode_refusal(encode_refusal(refusal))
        assert (type(back), str(back)) == (type(refusal), str(refusal))


def test_the_planners_plans_never_leave_the_leader():
    with pytest.raises(TypeError, match="SetPlans"):
        encode_action(actions.SetPlans(()))
