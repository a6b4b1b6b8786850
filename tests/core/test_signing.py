"""Slack's signature scheme, checked with a clock passed in, and the replay memory."""

import pytest
from slack_sdk.signature import SignatureVerifier

from bot.core.signing import ReplayGuard, refusal

SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
NOW = 1_700_000_000
BODY = b"token=x&command=%2Fstock&text=maine"


def signed(body: bytes = BODY, at: int = NOW, secret: str = SECRET) -> tuple[str, str]:
    """(timestamp, signature) as Slack makes them (the SDK's own signer)."""
    stamp = str(at)
    return stamp, SignatureVerifier(secret).generate_signature(timestamp=stamp, body=body)


def check(stamp: str, signature: str, body: bytes = BODY, now: float = NOW) -> str | None:
    return refusal(SECRET.encode(), stamp, signature, body, now)


def test_a_request_slack_signed_within_five_minutes_passes():
    for at in (NOW, NOW - 300, NOW + 300):
        assert check(*signed(at=at)) is None


@pytest.mark.parametrize(
    ("stamp", "signature", "body", "why"),
    [
        (*signed(), BODY + b"x", "bad_signature"),
        (*signed(secret="another-secret"), BODY, "bad_signature"),
        (str(NOW), "v0=" + "0" * 64, BODY, "bad_signature"),
        (str(NOW), "v0=é", BODY, "bad_signature"),
        (*signed(at=NOW - 301), BODY, "stale_timestamp"),
        (*signed(at=NOW + 301), BODY, "stale_timestamp"),
        ("", signed()[1], BODY, "no_timestamp"),
        (str(NOW), "", BODY, "no_signature"),
        ("abc", signed()[1], BODY, "bad_timestamp"),
        ("1.7e9", signed()[1], BODY, "bad_timestamp"),
        ("-1700000000", signed()[1], BODY, "bad_timestamp"),
        (" 1700000000", signed()[1], BODY, "bad_timestamp"),
        ("١٧٠٠٠٠٠٠٠٠", signed()[1], BODY, "bad_timestamp"),  # Arabic-Indic digits
        ("9" * 40, signed()[1], BODY, "bad_timestamp"),
    ],
)
def test_anything_else_is_refused_with_why(stamp, signature, body, why):
    assert check(stamp, signature, body) == why


def test_a_signature_is_accepted_once_within_its_five_minutes():
    guard = ReplayGuard()
    _, signature = signed()

    assert guard.first_time(signature, NOW, NOW) is True
    assert guard.first_time(signature, NOW, NOW + 299) is False
    assert guard.first_time(signed(at=NOW + 1)[1], NOW + 1, NOW + 1) is True


def test_what_is_too_old_to_pass_anyway_is_forgotten():
    guard = ReplayGuard()
    for i in range(100):
        guard.first_time(signed(at=NOW + i)[1], NOW + i, NOW + i)
    assert len(guard) == 100

    guard.first_time(signed(at=NOW + 400)[1], NOW + 400, NOW + 400)

    assert len(guard) == 1 + sum(1 for i in range(100) if NOW + i + 300 >= NOW + 400)


def test_memory_is_bounded_and_the_oldest_go_first():
    guard = ReplayGuard(limit=10)
    signatures = [signed(at=NOW + i)[1] for i in range(25)]
    for i, signature in enumerate(signatures):
        assert guard.first_time(signature, NOW + i, NOW + i)

    assert len(guard) == 10
    assert guard.forgotten_early == 15
    assert guard.first_time(signatures[-1], NOW + 24, NOW + 25) is False
