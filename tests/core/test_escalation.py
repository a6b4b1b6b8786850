"""Owners and escalation in pure code: the owner is named in the alert's post, called once more in
its thread when nobody acknowledges it in time; acknowledging, muting, snoozes and quiet hours
stop or hold it."""

from datetime import time

import pytest

from bot.core.alerting.actions import Acknowledge, Mute, SetQuietHours, Snooze
from bot.core.alerting.effects import Op
from bot.core.alerting.engine import AlertEngine, EngineSettings
from bot.core.alerting.notify import NotifySettings
from bot.core.errors import RuleError
from bot.core.quiet import QuietHours
from bot.core.rules import Rule, RuleBook
from bot.core.thresholds import Thresholds
from bot.mrkdwn import escape
from bot.slack.render import render

C = "C-STORES"
T = Thresholds(low=10, gate_readings=1, gate_seconds=0)
START = 1_700_000_000.0  # 22:13 UTC


class Owned:
    def __init__(self, escalate=60.0, second="U0SECOND"):
        book = RuleBook()
        book.set_rule(
            C,
            thresholds=T,
            user="U1",
            at=0,
            owner="S0BUYERS",
            second_owner=second,
            escalate=escalate,
        )
        self.engine = AlertEngine(book, EngineSettings(notify=NotifySettings(group_wait=0)))
        self.engine.sale("Maine", "ADERI", 3, START)
        self.posted = self.calls()

    def calls(self):
        """(op, thread line as Slack shows it, broadcast) since the last look."""
        outgoing = self.engine.take_effects().outgoing
        return [(o.op, o.note.text(escape) if o.note else None, o.broadcast) for o in outgoing]

    def replies_at(self, at):
        self.engine.tick(at)
        return [(note, broadcast) for op, note, broadcast in self.calls() if op is Op.REPLY]


def test_the_post_names_the_owner_who_is_called_again_once_in_the_thread():
    owned = Owned()
    message = render(owned.engine.view(1, START))

    assert owned.posted == [(Op.POST, None, False)]
    assert "<!subteam^S0BUYERS> owns this" in message.text  # the post notifies the group
    assert owned.replies_at(START + 59) == []
    assert owned.replies_at(START + 60) == [
        (
            "Nobody has acknowledged this in 1 min: <!subteam^S0BUYERS> <@U0SECOND>, please "
            "have a look.",
            True,
        )
    ]
    assert owned.replies_at(START + 3600) == []  # once


def test_an_acknowledged_alert_calls_no_one():
    owned = Owned()
    owned.engine.apply(Acknowledge(1, "U7"), START + 30)
    owned.calls()

    assert owned.replies_at(START + 120) == []


def test_a_muted_alert_calls_no_one():
    owned = Owned()
    owned.engine.apply(Mute(1, "U7"), START + 30)
    owned.calls()

    assert owned.replies_at(START + 120) == []


def test_a_snooze_holds_the_call_until_it_ends():
    owned = Owned()
    owned.engine.apply(Snooze(1, "U7", 600), START + 30)
    owned.calls()

    assert owned.replies_at(START + 120) == []
    replies = owned.replies_at(START + 630)
    assert any("<!subteam^S0BUYERS>" in note for note, _ in replies)


def test_quiet_hours_hold_the_call_until_they_end():
    owned = Owned()
    quiet = QuietHours(time(22, 0), time(23, 0), "UTC")  # START is 22:13 UTC
    owned.engine.apply(SetQuietHours(C, quiet, "U1"), START + 1)
    owned.calls()

    assert owned.replies_at(START + 120) == []
    assert owned.replies_at(START + 46 * 60) == []  # 22:59
    replies = owned.replies_at(START + 48 * 60)  # 23:01
    assert [note for note, _ in replies if "<!subteam^S0BUYERS>" in note]


def test_an_owner_without_escalation_is_named_and_never_called_again():
    owned = Owned(escalate=None, second=None)
    assert "<!subteam^S0BUYERS> owns this" in render(owned.engine.view(1, START)).text
    assert owned.replies_at(START + 86_400) == []


@pytest.mark.parametrize(
    ("owners", "says"),
    [
        ({"owner": "<!here>"}, "an owner is a Slack user"),
        ({"owner": "buyers"}, "an owner is a Slack user"),
        ({"owner": "U1<@U2>"}, "an owner is a Slack user"),
        ({"owner": "C0CHANNEL"}, "an owner is a Slack user"),
        ({"owner": "U0A", "second_owner": "U0B"}, "a second owner is called when"),
        ({"escalate": 60.0}, "escalate= calls the owner again"),
        ({"owner": "U0A", "escalate": 10.0}, "an escalation comes after 1 minute"),
    ],
)
def test_owners_are_ids_and_escalation_needs_an_owner(owners, says):
    with pytest.raises(RuleError, match=says):
        Rule(C, "", "", T, "U1", 0.0, **owners)
