"""Frame validation: every kind of bad frame is refused with a reason a person can act on."""

import json

import pytest

from bot.core.events import MAX_FRAME_BYTES, BadFrame, Reason, SaleEvent, parse_frame


def parse(data: bytes | str, *, binary: bool = False) -> SaleEvent | BadFrame:
    raw = data.encode() if isinstance(data, str) else data
    return parse_frame(raw, binary=binary, at=1000.0, feed="ws://feed")


def frame(**fields) -> str:
    base = {"store": "ALDO Centre Eaton", "model": "ADERI", "inventory": 10}
    base.update(fields)
    return json.dumps({k: v for k, v in base.items() if v is not ...}, ensure_ascii=False)


# (what it is, payload, binary, reason, words the detail must contain)
BAD_FRAMES = [
    ("not JSON", "hello", False, Reason.NOT_JSON, "expected value"),
    ("truncated JSON", '{"store": "A"', False, Reason.NOT_JSON, "EOF"),
    ("empty frame", "", False, Reason.NOT_JSON, "EOF"),
    ("a JSON array", "[1, 2]", False, Reason.NOT_AN_OBJECT, "an array"),
    ("a JSON string", '"ADERI"', False, Reason.NOT_AN_OBJECT, "a string"),
    ("JSON null", "null", False, Reason.NOT_AN_OBJECT, "null"),
    ("missing store", frame(store=...), False, Reason.MISSING_FIELD, "'store'"),
    ("missing model", frame(model=...), False, Reason.MISSING_FIELD, "'model'"),
    ("missing inventory", frame(inventory=...), False, Reason.MISSING_FIELD, "'inventory'"),
    ("empty store", frame(store=""), False, Reason.EMPTY_FIELD, "'store' is empty"),
    ("blank model", frame(model="   "), False, Reason.EMPTY_FIELD, "'model' is blank"),
    ('inventory "10"', frame(inventory="10"), False, Reason.WRONG_TYPE, "'10' (a string)"),
    ("inventory 10.5", frame(inventory=10.5), False, Reason.WRONG_TYPE, "10.5"),
    ("inventory 10.0", frame(inventory=10.0), False, Reason.WRONG_TYPE, "whole number"),
    ("inventory true", frame(inventory=True), False, Reason.WRONG_TYPE, "true (a boolean)"),
    ("inventory null", frame(inventory=None), False, Reason.WRONG_TYPE, "got null"),
    ("inventory -1", frame(inventory=-1), False, Reason.OUT_OF_RANGE, "got -1"),
    ("inventory 10**30", frame(inventory=10**30), False, Reason.OUT_OF_RANGE, "31-digit"),
    ("store a number", frame(store=42), False, Reason.WRONG_TYPE, "'store' must be a string"),
    ("model an object", frame(model={"a": 1}), False, Reason.WRONG_TYPE, "an object"),
    ("control character", frame(store="ALDO\u0000Eaton"), False, Reason.BAD_TEXT, "control"),
    ("name of 201 characters", frame(model="X" * 201), False, Reason.BAD_TEXT, "over 200"),
    (
        "right-to-left override",
        frame(store="ALDO \u202eEaton"),
        False,
        Reason.INVISIBLE_TEXT,
        "'store' holds an invisible or direction-changing character: U+202E",
    ),
    ("zero-width space", frame(model="ADE\u200bRI"), False, Reason.INVISIBLE_TEXT, "U+200B"),
    (
        "lone surrogate",
        '{"store": "\\ud800", "model": "A", "inventory": 1}',
        False,
        Reason.NOT_JSON,
        "Invalid JSON",
    ),
    (
        "invalid UTF-8",
        b'{"store": "\xff\xfe", "model": "A", "inventory": 1}',
        False,
        Reason.NOT_UTF8,
        "byte 11",
    ),
    ("1 MB frame", frame(store="S" * 1_000_000), False, Reason.FRAME_TOO_LARGE, "1,000,"),
    ("binary frame", frame().encode(), True, Reason.BINARY_FRAME, "binary"),
]


@pytest.mark.parametrize(
    ("payload", "binary", "reason", "words"),
    [pytest.param(p, b, r, w, id=name) for name, p, b, r, w in BAD_FRAMES],
)
def test_bad_frames_are_refused_with_a_reason(payload, binary, reason, words):
    result = parse(payload, binary=binary)

    assert isinstance(result, BadFrame)
    assert result.reason is reason
    assert words in result.detail
    assert result.feed == "ws://feed"
    assert result.at == 1000.0


def test_the_table_covers_at_least_fifteen_kinds():
    assert len(BAD_FRAMES) >= 15
    assert {reason for *_, reason, _ in BAD_FRAMES} == set(Reason)


def test_a_good_frame_becomes_a_sale_event():
    event = parse('{"store": "ALDO Centre Eaton", "model": "ADERI", "inventory": 10}')

    assert event == SaleEvent("ALDO Centre Eaton", "ADERI", 10, 1000.0, "ws://feed")


@pytest.mark.parametrize(
    "name",
    [
        "ALDO Québec Père-Noël",
        "アルド 東京駅",
        "ALDO Zürich ß",
        "אלדו תל אביב",
        "ALDO 👟 Store",
        "ALDO Ste-Catherine",
    ],
)
def test_names_in_any_script_are_kept_exactly(name):
    event = parse(frame(store=name, model=name))

    assert isinstance(event, SaleEvent)
    assert (event.store, event.model) == (name, name)


def test_unknown_fields_are_ignored():
    assert isinstance(parse(frame(colour="red")), SaleEvent)


def test_zero_and_the_maximum_are_valid_levels():
    assert parse(frame(inventory=0)).inventory == 0
    assert parse(frame(inventory=1_000_000)).inventory == 1_000_000


def test_samples_are_short_and_printable():
    huge = parse(frame(store="S" * 1_000_000))
    binary = parse(b"\x00\x01\xff" * 100, binary=True)

    assert huge.size > MAX_FRAME_BYTES
    assert len(huge.sample) == 200
    assert binary.sample.startswith("\\x00\\x01\\xff")
    assert binary.sample.isprintable()
