"""The alert engine end to end in pure code: sales and ticks in, Slack calls out."""

from dataclasses import replace

import pytest

from bot.core.alerting.actions import Acknowledge, Mute, SetRule, Snooze, Unmute, Watch
from bot.core.alerting.effects import Op
from bot.core.alerting.engine import AlertEngine, EngineSettings
from bot.core.alerting.incidents import Kind, Shown
from bot.core.alerting.machine import FLAP_SETTLE, Severity
from bot.core.alerting.notify import NotifySettings
from bot.core.errors import CommandError
from bot.core.feed_health import FeedState, Transition
from bot.core.quiet import parse_quiet_hours
from bot.core.rules import RuleBook, Scope
from bot.core.thresholds import Thresholds
from bot.mrkdwn import escape

C = "C-STORES"
T = Thresholds(low=10, high=80, gate_readings=2, gate_seconds=60)


def text(note):
    """A thread line as Slack shows it (names escaped)."""
    return note.text(escape) if note else None


class Harness:
    def __init__(self, thresholds=T, **settings):
        self.book = RuleBook()
        self.book.set_rule(C, thresholds=thresholds, user="setup", at=0)
        notify = NotifySettings(
            **{
                k: settings.pop(k)
                for k in list(settings)
                if k in NotifySettings.__dataclass_fields__
            }
        )
        self.engine = AlertEngine(self.book, EngineSettings(notify=notify, **settings))
        self.now = 0.0

    def sale(self, store, model, level, at):
        self.now = at
        self.engine.sale(store, model, level, at)

    def tick(self, at):
        self.now = at
        self.engine.tick(at)

    def calls(self):
        """(op, kind, store, model, note) for each Slack call decided since the last look."""
        out = []
        for o in self.engine.take_effects().outgoing:
            i = self.engine.incidents[o.incident_id]
            out.append((o.op.value, i.kind.value, i.store, i.model, text(o.note)))
        self.engine.forget_closed()
        return out

    def fire_low(self, store, model="ADERI", at=0.0, level=5):
        """Two low readings 60 s apart: the default gate."""
        self.sale(store, model, level, at)
        self.sale(store, model, level - 1, at + 60)

    def incident(self, kind, store=None, model=None):
        found = [
            i
            for i in self.engine.incidents.values()
            if i.kind is kind and i.store == store and i.model == model
        ]
        assert found, (kind, store, model)
        return found[-1]


def test_a_low_alert_waits_for_its_gate_then_the_grouping_window_then_posts():
    h = Harness()
    h.sale("Eaton", "ADERI", 9, 0)
    h.tick(30)
    assert h.calls() == []  # pending: the gate wants 2 readings and 60 s

    h.sale("Eaton", "ADERI", 8, 60)
    assert h.calls() == []  # fired, now in the 1 s grouping window
    h.tick(61)

    effects = h.engine.take_effects()
    incident = h.incident(Kind.LOW, "Eaton", "ADERI")
    assert [(o.op, o.incident_id) for o in effects.outgoing] == [(Op.POST, incident.id)]
    assert effects.incidents[incident.id].shown is Shown.MESSAGE  # persisted as shown
    assert (incident.severity, incident.level, incident.threshold) == (Severity.LOW, 8, 10)
    assert (incident.opened_at, incident.fired_at, incident.shown) == (0, 60, Shown.MESSAGE)


def test_the_ticker_fires_an_alert_whose_store_went_quiet():
    h = Harness(Thresholds(low=10, high=80, gate_readings=2, gate_seconds=300))
    h.sale("Eaton", "ADERI", 9, 0)
    h.sale("Eaton", "ADERI", 8, 10)
    h.tick(299)
    assert h.calls() == []
    h.tick(300)
    h.tick(301)
    assert h.calls() == [("post", "low", "Eaton", "ADERI", None)]


def test_a_level_back_in_the_band_before_the_gate_says_nothing():
    h = Harness()
    h.sale("Eaton", "ADERI", 9, 0)
    h.sale("Eaton", "ADERI", 40, 30)
    h.tick(1000)
    assert h.calls() == []
    assert h.engine.open_incidents() == []


def test_out_of_stock_skips_the_gate_and_the_window():
    h = Harness()
    h.sale("Eaton", "ADERI", 0, 5)
    assert h.calls() == [("post", "low", "Eaton", "ADERI", None)]
    assert h.incident(Kind.LOW, "Eaton", "ADERI").severity is Severity.OUT


def test_out_of_stock_covers_low_one_message_escalated_in_place_then_resolved():
    h = Harness()
    h.fire_low("Eaton")
    h.tick(61)
    assert [c[0] for c in h.calls()] == ["post"]

    h.sale("Eaton", "ADERI", 0, 100)
    calls = h.engine.take_effects().outgoing
    # An edit notifies no one: running out is also sent to the channel from the thread.
    assert [(c.op, text(c.note), c.broadcast) for c in calls] == [
        (Op.UPDATE, None, False),
        (Op.REPLY, "Now out of stock (0 left).", True),
    ]
    h.sale("Eaton", "ADERI", 11, 200)  # restocked, but inside the deadband (clears at 12)
    assert h.calls()[1][4] == "Restocked to 11, still low."
    h.sale("Eaton", "ADERI", 30, 300)
    assert h.calls() == [
        ("update", "low", "Eaton", "ADERI", None),
        ("reply", "low", "Eaton", "ADERI", "Resolved: 30 in stock."),
    ]
    assert h.engine.open_incidents() == []


def test_high_stock_alerts_too():
    h = Harness()
    h.sale("Eaton", "ADERI", 95, 0)
    h.sale("Eaton", "ADERI", 94, 60)
    h.tick(61)
    assert h.calls() == [("post", "high", "Eaton", "ADERI", None)]


def test_the_most_specific_rule_wins():
    h = Harness()
    h.book.set_rule(C, store="Eaton", thresholds=Thresholds(low=3), user="u", at=0)
    h.book.set_rule(C, model="MIRIRA", thresholds=Thresholds(low=20), user="u", at=0)
    h.book.set_rule(C, store="Eaton", model="MIRIRA", thresholds=Thresholds(low=1), user="u", at=0)
    for store, model in [
        ("Eaton", "ADERI"),
        ("Maine", "ADERI"),
        ("Maine", "MIRIRA"),
        ("Eaton", "MIRIRA"),
    ]:
        h.fire_low(store, model, level=5)
    h.sale("Maine", "MIRIRA", 15, 70)  # low for the model rule (20), not for the default
    h.tick(200)

    posted = {(c[2], c[3]) for c in h.calls() if c[0] == "post"}
    assert posted == {("Maine", "ADERI"), ("Maine", "MIRIRA")}


def test_a_channel_only_hears_about_its_scope():
    h = Harness()
    h.book.watch(C, Scope(stores=frozenset({"Eaton"})), user="u", at=0)
    h.fire_low("Eaton")
    h.fire_low("Maine")
    h.tick(100)
    assert [(c[0], c[2]) for c in h.calls()] == [("post", "Eaton")]


def test_two_channels_with_their_own_thresholds_get_their_own_incidents():
    h = Harness()
    h.book.set_rule("C-MERCH", thresholds=Thresholds(low=3, high=None), user="u", at=0)
    h.fire_low("Eaton", level=5)
    h.sale("Eaton", "ADERI", 2, 120)
    h.sale("Eaton", "ADERI", 1, 180)
    h.tick(300)

    incidents = {i.channel: i for i in h.engine.open_incidents()}
    assert set(incidents) == {C, "C-MERCH"}
    assert incidents["C-MERCH"].threshold == 3


def test_an_alert_resolved_inside_the_window_is_still_told_once_as_resolved():
    h = Harness()
    h.fire_low("Eaton")
    incident = h.incident(Kind.LOW, "Eaton", "ADERI")
    h.sale("Eaton", "ADERI", 50, 60.5)
    h.tick(61)

    assert h.calls() == [("post", "low", "Eaton", "ADERI", None)]
    assert incident.resolved_at == 60.5
    assert incident.id not in h.engine.incidents  # told, resolved: no longer kept in memory


def test_a_flood_becomes_one_digest_that_counts_everything_and_ends_when_calm():
    h = Harness(chain_min_stores=1000)
    for n in range(10):
        h.sale(f"S{n}", "ADERI", 0, n)  # out of stock: posted at once
    assert [c[0] for c in h.calls()] == ["post"] * 10

    h.sale("S10", "ADERI", 0, 20)
    h.sale("S11", "ADERI", 0, 21)
    calls = h.calls()
    assert [(c[0], c[1]) for c in calls] == [("post", "digest")]
    digest = h.incident(Kind.DIGEST)
    assert digest.detail == {"reason": "flood", "folded": 2}
    assert {i.store for i in h.engine.view(digest.id, 21).members} == {"S10", "S11"}

    h.sale("S11", "ADERI", 40, 30)  # a folded one resolves: the digest is refreshed
    h.tick(31)
    assert [(c[0], c[1]) for c in h.calls()] == [("update", "digest")]

    h.tick(20 + 600)  # ten calm minutes: the flood is over
    assert "ended_at" in digest.detail
    h.sale("S10", "ADERI", 40, 700)
    h.tick(701)
    assert not digest.open  # all it folded is resolved
    h.sale("S20", "ADERI", 0, 800)
    assert [(c[0], c[2]) for c in h.calls()][-1] == ("post", "S20")


def test_a_model_short_in_many_stores_is_one_chain_wide_alert():
    h = Harness(chain_min_stores=3)
    for n, store in enumerate(["A", "B", "C", "D", "E", "F"]):
        h.sale(store, "ADERI", 50, n)  # six stores sell it: 25% is under 3, so 3 it is
    for store in ["A", "B", "C"]:
        h.fire_low(store, at=100)
    h.tick(161)

    assert [(c[0], c[1], c[3]) for c in h.calls()] == [("post", "chain", "ADERI")]
    chain = h.incident(Kind.CHAIN, model="ADERI")
    assert chain.detail["stores"] == 3
    assert {m.store for m in h.engine.view(chain.id, 161).members} == {"A", "B", "C"}

    h.fire_low("D", at=200)
    h.tick(300)
    assert [(c[0], c[1]) for c in h.calls()] == [("update", "chain")]

    h.sale("E", "ADERI", 0, 400)  # out of stock is critical: its own message
    assert ("post", "low", "E", "ADERI", None) in h.calls()

    for store in ["A", "B", "C", "D", "E"]:
        h.sale(store, "ADERI", 40, 500)
    h.tick(510)
    assert not chain.open
    assert any(c[1] == "chain" and c[4] and "back in stock" in c[4] for c in h.calls())


def test_a_flapping_key_is_told_once_and_then_quiet_until_it_settles():
    h = Harness()
    t = 0.0
    posts = []
    for _ in range(6):
        h.sale("Eaton", "ADERI", 0, t)
        h.sale("Eaton", "ADERI", 50, t + 60)
        t += 120
        h.tick(t)
        posts += [c for c in h.calls() if c[0] == "post"]

    assert [c[1] for c in posts] == ["low", "low", "low", "flapping"]
    flap = h.incident(Kind.FLAPPING, "Eaton", "ADERI")
    assert flap.detail["alerts"] == 6  # three before it flapped, three folded into the notice
    h.tick(t + FLAP_SETTLE)
    assert not flap.open
    assert any(c[1] == "flapping" and c[4] and "Settled" in c[4] for c in h.calls())


def test_acknowledge_edits_the_message_and_says_who_in_the_thread():
    h = Harness()
    h.sale("Eaton", "ADERI", 0, 0)
    h.calls()
    incident = h.incident(Kind.LOW, "Eaton", "ADERI")

    h.engine.apply(Acknowledge(incident.id, "U1", name="ana"), 10)

    assert h.calls() == [
        ("update", "low", "Eaton", "ADERI", None),
        ("reply", "low", "Eaton", "ADERI", "Acknowledged by ana."),  # named, not pinged
    ]
    assert (incident.acked_by, incident.acked_at) == ("U1", 10)
    with pytest.raises(CommandError, match="already acknowledged by <@U1>"):
        h.engine.apply(Acknowledge(incident.id, "U2"), 11)
    with pytest.raises(CommandError, match="no open alert #999"):
        h.engine.apply(Acknowledge(999, "U1"), 11)


def test_a_snooze_silences_the_thread_until_it_ends_then_reannounces():
    h = Harness()
    h.sale("Eaton", "ADERI", 0, 0)
    h.calls()
    incident = h.incident(Kind.LOW, "Eaton", "ADERI")
    h.engine.apply(Snooze(incident.id, "U1", 3600, name="ana"), 10)
    assert h.calls()[-1][4] == "Snoozed for 1 h by ana."

    h.sale("Eaton", "ADERI", 3, 100)  # eased: the message is edited, the thread stays quiet
    assert h.calls() == [("update", "low", "Eaton", "ADERI", None)]

    h.tick(3610)
    calls = h.engine.take_effects().outgoing
    assert [(c.op, text(c.note), c.broadcast) for c in calls] == [
        (Op.UPDATE, None, False),
        (Op.REPLY, "Snooze over: still low (3 left).", True),
    ]


def test_mute_keeps_new_alerts_for_the_key_out_of_the_channel_until_unmuted():
    h = Harness()
    h.sale("Eaton", "ADERI", 0, 0)
    h.calls()
    first = h.incident(Kind.LOW, "Eaton", "ADERI")
    h.engine.apply(Mute(first.id, "U1", name="ana"), 10)
    assert "Muted by ana" in h.calls()[-1][4]

    h.sale("Eaton", "ADERI", 50, 20)
    h.calls()
    h.sale("Eaton", "ADERI", 0, 30)
    second = h.incident(Kind.LOW, "Eaton", "ADERI")
    assert second.shown is Shown.MUTED
    assert [c for c in h.calls() if c[0] == "post"] == []

    h.engine.apply(Unmute(second.id, "U1"), 40)
    h.sale("Eaton", "ADERI", 50, 50)
    h.sale("Eaton", "ADERI", 0, 60)
    assert ("post", "low", "Eaton", "ADERI", None) in h.calls()


def test_quiet_hours_hold_all_but_critical_alerts_for_one_summary():
    h = Harness(chain_min_stores=1000)
    h.book.set_quiet_hours(C, parse_quiet_hours("00:00-01:00"), user="u", at=0)
    h.fire_low("Eaton", at=0)
    h.fire_low("Maine", at=100)
    h.sale("Auburn", "ADERI", 0, 200)  # critical: at once
    h.tick(300)
    assert [(c[0], c[2]) for c in h.calls()] == [("post", "Auburn")]

    h.tick(3600)  # 01:00 UTC: quiet hours are over
    calls = h.calls()
    assert [(c[0], c[1]) for c in calls] == [("post", "digest")]
    digest = h.incident(Kind.DIGEST)
    assert digest.detail["reason"] == "quiet"
    assert {m.store for m in h.engine.view(digest.id, 3600).members} == {"Eaton", "Maine"}


def test_a_rule_that_stops_watching_a_key_resolves_its_alert():
    h = Harness()
    h.sale("Eaton", "ADERI", 0, 0)
    h.calls()
    h.engine.apply(Watch(C, Scope(stores=frozenset({"Maine"})), "U1"), 10)

    assert h.calls()[-1][4] == "No longer watched here (the rules changed)."
    assert h.engine.open_incidents() == []
    effects = h.engine.take_effects()
    assert effects.outgoing == []


def test_a_rule_change_is_recorded_with_who_and_when():
    h = Harness()
    change = h.engine.apply(SetRule(C, Thresholds(low=4), "U9", store="Eaton"), 77)
    effects = h.engine.take_effects()

    assert effects.changes == [change]
    assert (change.user, change.at, change.action) == ("U9", 77, "set_rule")
    assert change.summary == "low <= 4, high >= 80 at Eaton"
    assert effects.channels == {C}


def test_a_feed_down_for_its_limit_alerts_the_ops_channel_and_recovers():
    h = Harness(ops_channel="C-OPS", feed_down_after=60)
    url = "ws://feed/"
    h.engine.feed_changed(Transition(url, FeedState.LIVE, FeedState.DISCONNECTED, 100, "refused"))
    h.tick(159)
    assert h.calls() == []
    h.tick(160)
    assert h.calls() == [("post", "feed_down", url, None, None)]
    incident = h.incident(Kind.FEED_DOWN, url)
    assert incident.detail == {"state": "disconnected", "reason": "refused"}

    h.engine.feed_changed(Transition(url, FeedState.DISCONNECTED, FeedState.LIVE, 200, "ok"))
    assert h.calls()[-1][4] == "Feed is back: messages are flowing."


def test_too_many_bad_frames_alert_the_ops_channel():
    h = Harness(ops_channel="C-OPS", bad_frames_per_minute=5)
    for n in range(6):
        h.engine.bad_frame("ws://feed/", "not_json", n)
    h.engine.feed_changed(Transition("ws://feed/", FeedState.DISCONNECTED, FeedState.LIVE, 0, ""))
    h.tick(10)
    h.tick(11)
    assert ("post", "bad_frames", "ws://feed/", None, None) in h.calls()
    h.tick(100)
    assert h.calls()[-1][4] == "Resolved: bad frames are back under the limit."


def test_state_survives_a_restart_through_its_persisted_effects():
    h = Harness()
    h.sale("Eaton", "ADERI", 0, 0)
    h.fire_low("Maine", at=0)
    effects = h.engine.take_effects()
    incidents = [replace(i) for i in effects.incidents.values()]
    machines = [(k, m) for k, m in effects.machines.items() if m is not None]

    again = AlertEngine(h.book, EngineSettings())
    again.restore(
        incidents=incidents, machines=machines, mutes=[], notifiers=effects.notifiers.items()
    )
    again.tick(61)
    posted = [o for o in again.take_effects().outgoing if o.op is Op.POST]
    assert [again.incidents[o.incident_id].store for o in posted] == ["Maine"]

    again.sale("Eaton", "ADERI", 40, 100)
    assert [text(o.note) for o in again.take_effects().outgoing if o.note] == [
        "Resolved: 40 in stock."
    ]


def test_a_long_flood_posts_a_fresh_digest_each_interval_with_what_is_new():
    """An edited message notifies no one and does not move: news in a flood must reach a new
    message within the digest interval, stock-outs first, and the older digest points on."""
    h = Harness(chain_min_stores=1000)
    for n in range(11):
        h.sale(f"S{n}", "ADERI", 0, n)  # ten posts, then the flood's digest at t=10
    h.calls()
    first = h.incident(Kind.DIGEST)
    surfaced: dict[str, float] = {}  # store -> when a new message first showed its stock-out
    reported: dict[str, float] = {}
    for minute in range(1, 31):
        at = 10 + 60 * minute
        store = f"T{minute}"
        h.sale(store, "ADERI", 0, at)
        reported[store] = at
        h.tick(at + 0.5)
        for op, kind, *_ in h.calls():
            if (op, kind) != ("post", "digest"):
                continue
            digest = max(
                (i for i in h.engine.incidents.values() if i.kind is Kind.DIGEST),
                key=lambda i: i.id,
            )
            for member in h.engine.view(digest.id, at).members:
                surfaced.setdefault(member.store, at)

    digests = sorted(
        (i for i in h.engine.incidents.values() if i.kind is Kind.DIGEST), key=lambda i: i.id
    )
    assert [d.opened_at for d in digests] == [10, 610.5, 1210.5, 1810.5]
    assert [d.detail.get("next") for d in digests] == [d.id for d in digests[1:]] + [None]
    late = {s: surfaced.get(s, 1e9) - at for s, at in reported.items()}
    assert max(late.values()) <= 600 + 0.5  # each stock-out in a new message within the interval
    assert first.detail["folded"] == 1  # S10; what came after moved to the next digests


def _flooded(h):
    """Ten stock-outs posted, the eleventh opens the flood's digest at t=10."""
    for n in range(11):
        h.sale(f"S{n}", "ADERI", 0, n)
    h.calls()
    return h.incident(Kind.DIGEST)


def _new_digest(h):
    """The digest posted since the last look, if any."""
    posted = [c for c in h.engine.take_effects().outgoing if c.op is Op.POST]
    h.engine.forget_closed()
    digests = [h.engine.incidents[c.incident_id] for c in posted]
    return next((d for d in digests if d.kind is Kind.DIGEST), None)


def _flood_with_a_low_alert(h):
    """Ten stock-outs posted, then a low alert opens the flood: its digest's first post
    shows it, so it is not news for the digests after."""
    for n in range(10):
        h.sale(f"S{n}", "ADERI", 0, n)
    h.fire_low("Low", at=10)
    h.tick(71)
    h.calls()
    return h.incident(Kind.DIGEST), h.incident(Kind.LOW, "Low", "ADERI")


def test_a_low_alert_from_an_older_digest_that_runs_out_is_listed_in_the_next_one():
    h = Harness(chain_min_stores=1000)
    first, low = _flood_with_a_low_alert(h)
    posted = []
    for minute in range(1, 21):  # the flood goes on: a stock-out a minute
        at = 71 + 60 * minute
        h.sale(f"T{minute}", "ADERI", 0, at)
        if minute == 11:
            assert low.parent_id == first.id  # not news at the first roll: it stayed
            h.sale("Low", "ADERI", 0, at + 1)  # runs out, folded in the older digest
        h.tick(at + 2)
        if (digest := _new_digest(h)) is not None:
            posted.append((at + 2, digest))

    after = [(at, d) for at, d in posted if at > 71 + 60 * 11]
    assert after, "no digest posted after the low alert ran out"
    at, digest = after[0]
    assert at - (71 + 60 * 11 + 1) <= 600 + 60
    assert digest.detail["new"]["out"] >= 2  # a new T and the low one that ran out
    assert "Low" in {m.store for m in h.engine.view(digest.id, at).members}


def test_a_low_alert_folded_in_a_flood_that_is_over_gets_its_own_post_when_it_runs_out():
    h = Harness(chain_min_stores=1000)
    first, low = _flood_with_a_low_alert(h)
    h.tick(71 + 600)  # ten calm minutes: the flood is over, nothing new to post
    assert "ended_at" in first.detail
    assert _new_digest(h) is None

    h.sale("Low", "ADERI", 0, 700)
    assert h.calls()[-1][:4] == ("post", "low", "Low", "ADERI")
    assert low.shown is Shown.MESSAGE
    assert low.parent_id is None


def test_news_pending_when_a_flood_ends_goes_out_in_a_last_digest():
    h = Harness(chain_min_stores=1000)
    digest = _flooded(h)
    h.sale("Late", "ADERI", 0, 300)  # news only an edit has shown
    h.tick(301)
    assert _new_digest(h) is None
    h.tick(10 + 600)  # ten calm minutes: the flood ends, its news in a new message

    last = _new_digest(h)
    assert last is not None
    assert digest.detail["next"] == last.id
    assert last.detail["new"] == {"out": 1}
    assert "ended_at" in last.detail
    assert [m.store for m in h.engine.view(last.id, 610).members] == ["Late"]


def test_a_mute_with_an_end_posts_what_it_held_back_when_it_ends():
    h = Harness()
    h.sale("Eaton", "ADERI", 0, 0)
    h.calls()
    first = h.incident(Kind.LOW, "Eaton", "ADERI")
    h.engine.apply(Mute(first.id, "U1", 3600, name="ana"), 10)
    assert h.calls()[-1][4].startswith("Muted by ana: no new alerts for this in this channel until")

    h.sale("Eaton", "ADERI", 50, 20)  # resolved
    h.sale("Eaton", "ADERI", 0, 30)  # out of stock again: held back by the mute
    held = h.incident(Kind.LOW, "Eaton", "ADERI")
    assert held.shown is Shown.MUTED
    assert [c for c in h.calls() if c[0] == "post"] == []

    h.tick(3609)
    assert [c for c in h.calls() if c[0] == "post"] == []
    h.tick(3611)  # the mute is over: the stock-out still open is posted now
    assert ("post", "low", "Eaton", "ADERI", None) in h.calls()
    assert held.muted_by is None


def test_unmuting_posts_the_open_alert_the_mute_held_back():
    h = Harness()
    h.sale("Eaton", "ADERI", 0, 0)
    h.calls()
    first = h.incident(Kind.LOW, "Eaton", "ADERI")
    h.engine.apply(Mute(first.id, "U1"), 10)
    h.sale("Eaton", "ADERI", 50, 20)
    h.sale("Eaton", "ADERI", 0, 30)
    held = h.incident(Kind.LOW, "Eaton", "ADERI")
    h.calls()

    h.engine.apply(Unmute(held.id, "U2", name="bo"), 40)

    assert ("post", "low", "Eaton", "ADERI", None) in h.calls()
    assert held.shown is Shown.MESSAGE


def test_a_shorter_gate_fires_what_was_pending_at_the_next_tick():
    h = Harness(Thresholds(low=10, high=80, gate_readings=3, gate_seconds=60))
    h.sale("Eaton", "ADERI", 9, 0)  # pending: 3 readings asked, 1 in
    h.tick(100)
    assert h.calls() == []
    h.engine.apply(
        SetRule(C, Thresholds(low=10, high=80, gate_readings=1, gate_seconds=60), "U"), 100
    )
    h.tick(101)
    h.tick(103)
    assert ("post", "low", "Eaton", "ADERI", None) in h.calls()
