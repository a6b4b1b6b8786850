"""Store and model names at ingest: one spelling per name (NFC, trimmed, single spaces), and
names hiding invisible or direction-changing characters refused with their own reason."""

import json
import sys
import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.core.events import BadFrame, Reason, SaleEvent, canonical_name, parse_frame


def parse(store: str, model: str = "ADERI") -> SaleEvent | BadFrame:
    data = json.dumps({"store": store, "model": model, "inventory": 3}, ensure_ascii=False)
    return parse_frame(data.encode(), binary=False, at=1.0, feed="ws://feed")


@pytest.mark.parametrize(
    ("sent", "stored"),
    [
        ("Cafe\u0301 Eaton", "Café Eaton"),  # NFD: e + combining acute
        ("Café Eaton", "Café Eaton"),
        ("ALDO  Maine", "ALDO Maine"),
        (" ALDO Maine", "ALDO Maine"),
        ("ALDO Maine  ", "ALDO Maine"),
        ("ALDO\u00a0Maine", "ALDO Maine"),  # no-break space
        ("ALDO \u3000 Maine", "ALDO Maine"),  # ideographic space
        ("Ha\u0308agen Zu\u0308rich", "Häagen Zürich"),
    ],
)
def test_names_that_look_the_same_are_stored_the_same(sent, stored):
    event = parse(sent, model=sent)

    assert isinstance(event, SaleEvent)
    assert (event.store, event.model) == (stored, stored)


HIDDEN = {
    **{chr(c): "zero-width" for c in range(0x200B, 0x2010)},
    **{chr(c): "bidi embedding or override" for c in range(0x202A, 0x202F)},
    **{chr(c): "bidi isolate" for c in range(0x2066, 0x206A)},
    "\ufeff": "byte order mark",
    "\u2028": "line separator",
    "\u2029": "paragraph separator",
    "\u00ad": "soft hyphen",
    "\u061c": "Arabic letter mark",
    "\u2060": "word joiner",
    "\u180e": "Mongolian vowel separator",
    "\u3164": "Hangul filler (a letter that shows blank)",
    "\u034f": "combining grapheme joiner",
    "\ufe0f": "variation selector",
    "\U000e0041": "tag letter A",
    "\x85": "next line (a C1 control)",
}


@pytest.mark.parametrize("char", HIDDEN, ids=[f"U+{ord(c):04X} {w}" for c, w in HIDDEN.items()])
def test_invisible_and_direction_changing_characters_are_refused(char):
    for store, model in ((f"ALDO{char}Maine", "ADERI"), ("ALDO Maine", f"{char}ADERI")):
        refused = parse(store, model)

        assert isinstance(refused, BadFrame)
        assert refused.reason is Reason.INVISIBLE_TEXT
        assert f"U+{ord(char):04X}" in refused.detail
        field = "store" if char in store else "model"
        assert refused.detail.startswith(f"'{field}' holds an invisible")
        assert refused.sample.isprintable()  # the log shows an escape, not the character
        assert f"{ord(char):04x}" in refused.sample


def test_every_control_format_and_separator_character_is_refused():
    # Held against this Python's Unicode database, so a newer one adding such a character
    # shows up here.
    missed = [
        f"U+{code:04X}"
        for code in range(sys.maxunicode + 1)
        if unicodedata.category(chr(code)) in ("Cc", "Cf", "Zl", "Zp")
        and not (0xD800 <= code <= 0xDFFF)
        and isinstance(canonical_name(f"A{chr(code)}B"), str)
    ]
    assert missed == []


def test_a_name_that_grows_past_the_limit_when_composed_is_refused():
    # U+FB2C (a Hebrew presentation form) is excluded from composition: NFC spells it in 3.
    refused = parse("\ufb2c" * 100)

    assert isinstance(refused, BadFrame)
    assert (refused.reason, refused.detail) == (Reason.BAD_TEXT, "'store' is over 200 characters")


names = st.text(
    alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), min_size=1, max_size=40
)
spaces = st.sampled_from([" ", "  ", "\u00a0", "\u3000", " \u2009 "])


@given(names)
def test_canonical_names_are_canonical_and_canonical_name_is_idempotent(name):
    canonical = canonical_name(name)
    if not isinstance(canonical, str):
        return
    assert canonical_name(canonical) == canonical
    assert unicodedata.is_normalized("NFC", canonical)
    assert canonical == canonical.strip()
    assert "  " not in canonical
    left = {unicodedata.category(c) for c in canonical if c != " "}
    assert not left & {"Cc", "Cf", "Zl", "Zp", "Zs"}  # no control, format or other space


@given(st.lists(st.text(alphabet="AaÉéeoö\u0301\u0308 -", min_size=1), min_size=1), spaces)
def test_spellings_equal_once_canonical_are_one_store(words, space):
    plain = " ".join(words)
    spelled = space + space.join(unicodedata.normalize("NFD", w) for w in words) + space
    first, second = parse(plain), parse(spelled)
    if isinstance(first, BadFrame):  # blank, or too long: refused both ways, alike
        assert isinstance(second, BadFrame)
        assert (first.reason, first.detail) == (second.reason, second.detail)
        return
    assert isinstance(second, SaleEvent)
    assert first.store == second.store == canonical_name(plain)
