"""Rendering: every kind of incident becomes valid Block Kit with a readable fallback."""

import json
from dataclasses import replace

from bot.core.alerting.incidents import Incident, Kind, Shown
from bot.core.alerting.machine import Severity
from bot.core.alerting.view import TransferLine, View
from bot.slack.buttons import INCIDENT_BUTTONS as ACTIONS
from bot.slack.buttons import TRANSFER_BUTTONS as TRANSFER_ACTIONS
from bot.slack.render import render

NOW = 1_790_000_000.0


def incident(**fields) -> Incident:
    base = {
        "id": 42,
        "channel": "C1",
        "kind": Kind.LOW,
        "store": "ALDO Maine Mall",
        "model": "ADERI",
        "severity": Severity.LOW,
        "opened_at": NOW - 120,
        "fired_at": NOW - 60,
        "level": 4,
        "threshold": 10,
        "shown": Shown.MESSAGE,
    }
    base.update(fields)
    return Incident(**base)


def view(i: Incident, members=(), rule=None, open_members=None) -> View:
    counts = {}
    for m in members:
        counts[m.severity.value] = counts.get(m.severity.value, 0) + 1
    total = len(members) if open_members is None else open_members
    return View(i, tuple(members)[:15], total, tuple(sorted(counts.items())), rule, NOW)


def blocks_text(message) -> str:
    return json.dumps(message.blocks, ensure_ascii=False)


def actions_of(message) -> list[str]:
    return [e["action_id"] for b in message.blocks if b["type"] == "actions" for e in b["elements"]]


def test_a_low_stock_message_says_what_where_how_many_and_offers_the_buttons():
    message = render(view(incident(), rule="low <= 10, high >= 80 (channel default)"))

    assert message.text.startswith("Low stock: ADERI at ALDO Maine Mall. 4 left (alert at 10")
    header = message.blocks[0]
    assert header["type"] == "header"
    assert header["text"]["text"] == ":large_orange_circle: Low stock: ADERI at ALDO Maine Mall"
    assert actions_of(message) == list(ACTIONS)
    actions = next(b for b in message.blocks if b["type"] == "actions")
    assert actions["block_id"] == "incident:42"
    assert {e["value"] for e in actions["elements"]} == {"42"}
    assert "rule: low &lt;= 10, high &gt;= 80 (channel default)" in blocks_text(message)


def test_a_low_stock_message_says_how_long_stock_lasts_and_offers_the_best_transfer():
    move = TransferLine("suggested", 7, 6, "ALDO Auburn Mall", "Move 6 ADERI from A <b> to B")
    base = view(incident())
    message = render(replace(base, pace="about 2 h to zero at the current pace", transfer=move))

    text = blocks_text(message)
    assert ":hourglass_flowing_sand: about 2 h to zero at the current pace" in text
    assert ":truck: Suggested: Move 6 ADERI from A &lt;b&gt; to B" in text
    assert "about 2 h to zero at the current pace" in message.text
    assert actions_of(message) == [*TRANSFER_ACTIONS, *ACTIONS]
    transfer = next(b for b in message.blocks if b.get("block_id") == "transfer:7")
    assert {e["value"] for e in transfer["elements"]} == {"7"}

    accepted = replace(move, kind="accepted", id=3, by="U7")
    message = render(replace(base, transfer=accepted))
    assert ":truck: Transfer T3 accepted by <@U7>: 6 pairs from ALDO Auburn Mall on their way" in (
        blocks_text(message)
    )
    assert actions_of(message) == list(ACTIONS)  # nothing left to accept


def test_out_of_stock_and_overstock_have_their_own_headline():
    out = render(view(incident(severity=Severity.OUT, level=0)))
    high = render(view(incident(kind=Kind.HIGH, severity=Severity.HIGH, level=95, threshold=80)))

    assert out.text.startswith("Out of stock: ADERI at ALDO Maine Mall. 0 left")
    assert high.text.startswith(
        "Overstock: ADERI at ALDO Maine Mall. 95 left (alert at 80 or more)"
    )


def test_a_resolved_incident_has_no_buttons_and_says_how_long_it_lasted():
    message = render(view(incident(resolved_at=NOW, level=30)))

    assert message.text.startswith("Resolved: ADERI at ALDO Maine Mall. 30 in stock now")
    assert "lasted 60 s" in message.text
    assert actions_of(message) == []


def test_who_acknowledged_snoozed_or_muted_is_shown_and_acknowledge_is_gone():
    i = incident(
        acked_by="U1", acked_at=NOW - 5, snoozed_by="U2", snoozed_until=NOW + 3600, muted_by="U3"
    )
    message = render(view(i))

    body = blocks_text(message)
    assert "Acknowledged by <@U1>" in body
    assert "Snoozed by <@U2> until <!date^" in body
    assert "Muted by <@U3>" in body
    assert "incident_ack" not in actions_of(message)


def test_names_from_the_feed_cannot_ping_or_link():
    evil = "<!channel> & <https://evil.example|click>"
    i = incident(
        store=evil, kind=Kind.CHAIN, severity=Severity.LOW, model="ADERI", detail={"stores": 1}
    )
    member = incident(store=evil)
    message = render(view(i, members=[member]))

    blob = message.text + json.dumps(message.blocks)
    assert "<!channel>" not in blob
    assert "<https://evil" not in blob
    assert "&lt;!channel&gt; &amp;" in blob


def test_a_chain_wide_shortage_lists_its_stores():
    members = [incident(id=n, store=f"Store {n}", level=n) for n in range(20)]
    chain = incident(kind=Kind.CHAIN, store=None, detail={"stores": 20})
    message = render(view(chain, members=members))

    assert message.blocks[0]["text"]["text"] == ":large_orange_circle: ADERI is short in 20 stores"
    assert "• Store 0: *0* left" in blocks_text(message)
    assert "… and 5 more stores" in message.text


def test_a_digest_counts_what_it_folds_and_lists_the_worst():
    members = [
        incident(id=n, severity=Severity.OUT, level=0) if n < 3 else incident(id=n, level=5)
        for n in range(20)
    ]
    digest = incident(
        kind=Kind.DIGEST,
        store=None,
        model=None,
        severity=None,
        detail={"reason": "flood", "folded": 25},
    )
    message = render(view(digest, members=members))

    assert message.text.startswith("Alert flood: 25 alerts folded into this message.")
    assert "20 still open (3 out of stock, 17 low), 5 resolved since." in message.text
    assert "… and 5 more: /alerts lists them all." in message.text
    assert actions_of(message) == []


def test_other_kinds_render_too():
    for i in [
        incident(kind=Kind.FLAPPING, severity=None, detail={"side": "low", "alerts": 4}),
        incident(
            kind=Kind.FEED_DOWN,
            store="ws://feed/",
            model=None,
            severity=None,
            detail={"state": "stale", "reason": "no message for 60 s"},
        ),
        incident(
            kind=Kind.BAD_FRAMES,
            store="ws://feed/",
            model=None,
            severity=None,
            level=99,
            threshold=60,
            detail={"reasons": {"not_json": 99}},
        ),
        incident(
            kind=Kind.DIGEST,
            store=None,
            model=None,
            severity=None,
            detail={"reason": "quiet", "folded": 2},
        ),
    ]:
        message = render(view(i))
        assert message.text
        assert message.blocks[0]["type"] == "header"


def test_a_very_long_name_is_cut_to_slacks_header_limit():
    message = render(view(incident(store="S" * 200, model="M" * 200)))
    assert len(message.blocks[0]["text"]["text"]) == 150
