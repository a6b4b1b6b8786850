"""Text from the feed or from a person never becomes a mention or a link in Slack, in any message
the bot sends: alerts and their edits, thread notes, digests, summaries, command answers and the
App Home. Every mrkdwn text is checked: the only marks (<...>) left are the bot's own."""

from __future__ import annotations

import html
import json
import re
from datetime import time

import orjson
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.core.alerting.actions import Acknowledge, SetPlans, SetQuietHours, SetRule, Watch
from bot.core.alerting.effects import Note
from bot.core.alerting.incidents import Incident, Kind, Shown
from bot.core.alerting.machine import Severity
from bot.core.alerting.view import TransferLine, View
from bot.core.errors import RuleError
from bot.core.quiet import QuietHours
from bot.core.rules import Rule, Scope
from bot.core.thresholds import Thresholds
from bot.slack.home import Home
from bot.slack.payload import render_payload
from bot.slack.render import render
from bot.store.sqlite.reads import SqliteReads
from tests.commands.conftest import C, Shop
from tests.fakes.views import _view_refusal
from tests.helpers import move

HOSTILE = [
    "<!here>",
    "<!channel>",
    "<!everyone>",
    "<@U123>",
    "<#C999|x>",
    "<https://evil.example|click>",
    "&",
    "&amp;",
    "*_~`",
    "> quote",
]
ACTORS = ("UACT", "UBOSS", "U0ANA")  # the only people the bot itself may name with a mark
GROUPS = ("S0BUYERS",)  # ... and the only user group: the owners a rule names
OWN_MARKS = re.compile(
    r"<(?:@(?:" + "|".join(ACTORS) + r")|!subteam\^(?:" + "|".join(GROUPS) + r")"
    r"|#C[A-Z0-9-]+|!date\^\d+\^[^<>|]*\|[^<>]*)>"
)


def mrkdwn_texts(payload: dict) -> list[str]:
    """Every text of a message Slack reads as mrkdwn: the fallback and the mrkdwn objects."""
    found = [payload["text"]] if isinstance(payload.get("text"), str) else []

    def walk(node: object) -> None:
        if isinstance(node, dict):
            if node.get("type") == "mrkdwn":
                found.append(node["text"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(payload.get("blocks") or [])
    return found


def assert_no_foreign_marks(payload: dict) -> None:
    for text in mrkdwn_texts(payload):
        left = OWN_MARKS.sub("", text)
        assert "<" not in left, text
        assert ">" not in left, text


names = st.lists(st.sampled_from(HOSTILE) | st.text(max_size=20), min_size=1, max_size=6).map(
    "".join
) | st.sampled_from(HOSTILE).map(lambda h: h * (3000 // len(h)))  # long, mostly to escape


def _incident(kind: Kind, store: str, model: str, **more) -> Incident:
    severity = Severity.OUT if kind is Kind.LOW else None
    fields = {"shown": Shown.MESSAGE, "acked_by": "UACT", "muted_by": "UBOSS", **more}
    incident = Incident(7, "C1", kind, store, model, severity, 1.7e9, 1.7e9, 0, 10, **fields)
    incident.detail.update(owner="S0BUYERS", second_owner="U0ANA", escalated_at=1.7e9)
    return incident


@settings(max_examples=60, deadline=None)
@given(store=names, model=names, why=names)
def test_every_kind_of_alert_message_escapes_its_names(store, model, why):
    member = _incident(Kind.LOW, store, model)
    for kind in Kind:
        incident = _incident(kind, store, model)
        incident.detail.update(reason=why, reasons={why: 3}, stores=4, folded=2, since=1.7e9)
        transfer = TransferLine("suggested", 3, 5, store, why) if kind is Kind.LOW else None
        pace = "about 2 h to zero at the current pace"  # the bot's own words
        view = View(incident, (member,), 1, (("out", 1),), why, 1.7e9, pace, transfer)
        message = render(view)
        assert_no_foreign_marks({"text": message.text, "blocks": message.blocks})
        resolved = _incident(kind, store, model, resolved_at=1.7e9 + 60)
        message = render(View(resolved, (), 0, (), why, 1.7e9))
        assert_no_foreign_marks({"text": message.text, "blocks": message.blocks})


@settings(max_examples=60, deadline=None)
@given(model=names, who=names)
def test_thread_notes_escape_names_and_people(model, who):
    for template in ("Resolved: {model} is back in stock everywhere.", "Acknowledged by {who}."):
        note = Note(template, (("model", model), ("who", who)))
        payload = {"note": note.template, "fields": dict(note.fields), "broadcast": False}
        assert_no_foreign_marks(render_payload(orjson.loads(orjson.dumps(payload))))


async def test_every_message_the_bot_sends_keeps_hostile_names_inert():
    stores = [f"{h} store {n}" for n, h in enumerate(HOSTILE[:5])]
    model = "<!here> ADERI & <https://evil.example|co>"
    async with Shop(frozenset()) as shop:
        quiet = QuietHours(time(0, 0), time(23, 59), "UTC")
        await shop.apply(SetRule("C-QUIET", Thresholds(low=10, gate_seconds=0), "UACT"))
        await shop.apply(SetQuietHours("C-QUIET", quiet, "UACT"))
        await shop.apply(SetRule(C, Thresholds(low=5), "UACT", store=stores[0]))
        await shop.apply(SetRule("C-SCOPED", Thresholds(low=5), "UACT"))
        owners = {"owner": "S0BUYERS", "second_owner": "U0ANA", "escalate": 60.0}
        await shop.apply(SetRule("C-OWNED", Thresholds(low=10, gate_seconds=0), "UACT", **owners))
        await shop.apply(Watch("C-SCOPED", Scope(stores=frozenset(stores)), "UACT"))
        # Stock-outs (each its own message), a chain-wide shortage, low stock folded in it.
        await shop.sell(*[(store, model, 0) for store in stores[:3]])
        await shop.sell(*[(store, model, 3) for store in stores[3:]])
        await shop.apply(Acknowledge(1, "UACT", name="<!channel> <@U123> ana"))
        suggestion = move(6, source=stores[4], target=stores[0], source_level=40)
        await shop.apply(SetPlans(((model, (suggestion,), 0),)))
        # A flood: more than ten new messages in ten minutes become a digest.
        await shop.sell(*[(stores[0], f"{HOSTILE[n % 10]} #{n}", 0) for n in range(12)])
        await shop.sell(*[(store, model, 60) for store in stores])  # restocked: resolved
        shop.now += 86_400  # the quiet hours end: their summary
        await shop.sell((stores[1], "MIRIRA", 50))

        rows = await shop.rows("SELECT payload FROM outbox ORDER BY id")
        payloads = [render_payload(orjson.loads(payload)) for (payload,) in rows]
        kinds = {kind for (kind,) in await shop.rows("SELECT DISTINCT kind FROM incidents")}
        notes = [p["text"] for p in payloads if "blocks" not in p]
        answers = [
            await shop.say(command, text, user="UACT")
            for command, text in [
                ("stock", ""),
                ("stock", stores[2]),
                ("stock", model),
                ("alerts", ""),
                ("transfers", ""),
                ("thresholds", ""),
                ("thresholds", "show"),
                ("thresholds", "set owner=<!here>"),
                ("thresholds", "set owner=U1<@U123> escalate=1m"),
                ("thresholds", f"set low=2d owner=S0BUYERS store={json.dumps(stores[1])}"),
                ("stock", "<!here> nowhere"),
                ("thresholds", f"set low=2 store={json.dumps(stores[3])}"),
                # As Slack sends what people type: < as &lt;, read back as < by the command.
                ("thresholds", "quiet &lt;!channel&gt;-07:00"),
                ("thresholds", "quiet 22:00-07:00 &lt;!here&gt;"),
                ("thresholds", f'clear store="{html.escape(stores[1], quote=False)}"'),
            ]
        ] + [
            await shop.say(command, "", user="UACT", channel="C-SCOPED")
            for command in ("stock", "transfers", "thresholds")
        ]
        home = await Home(SqliteReads(shop.db), lambda: shop.now).view()

    assert {"low", "chain", "digest"} <= kinds  # each kind of message was sent
    assert any("is back in stock everywhere" in n for n in notes)
    assert any(
        n.startswith("Nobody has acknowledged") and "<!subteam^S0BUYERS>" in n for n in notes
    )
    assert any(n.startswith("Acknowledged by") for n in notes)
    for payload in payloads:
        assert_no_foreign_marks(payload)
    for reply in answers:
        assert_no_foreign_marks({"text": reply.text, "blocks": reply.blocks})
        if reply.announce:
            assert_no_foreign_marks({"text": reply.announce})
    assert_no_foreign_marks({"blocks": home["blocks"]})


@settings(max_examples=60, deadline=None)
@given(owner=names)
def test_an_owner_is_a_checked_id_or_nothing(owner):
    # What reaches a rule as an owner becomes a mention: anything but a Slack ID is refused.
    try:
        Rule("C1", "", "", Thresholds(), "U1", 0.0, owner)
    except RuleError:
        return
    assert re.fullmatch(r"[UWS][A-Z0-9]{2,20}", owner)


async def test_the_app_home_fits_in_slack_whatever_the_names():
    # Names at their longest (200 characters) that escaping makes five times longer: every
    # section of the Home still within Slack's 3,000 characters, and the view within 100
    # blocks, as the strict local Slack checks a views.publish.
    stores = [("&" * 196) + f" {n:03d}" for n in range(8)]
    models = [("<&>" * 64) + f" {n:04d}" for n in range(30)]
    async with Shop(frozenset()) as shop:
        await shop.sell(*[(stores[n % 8], models[n], n % 4) for n in range(30)])
        await shop.apply(SetPlans(((models[0], (move(6, stores[1], stores[0], 40),), 0),)))
        home = await Home(SqliteReads(shop.db), lambda: shop.now).view()

    assert _view_refusal(home, kind="home") is None
    assert_no_foreign_marks({"blocks": home["blocks"]})
