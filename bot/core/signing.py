"""Slack's request signatures, checked before anything parses a request, and replays refused.

Slack signs each request it sends: `X-Slack-Signature` is `v0=` and the hex HMAC-SHA256, keyed
by the app's signing secret, of `v0:{X-Slack-Request-Timestamp}:{raw body}`; a request whose
timestamp is more than five minutes from now is refused, so a captured request cannot be sent
again later (docs.slack.dev, "Verifying requests from Slack"). Within those five minutes it
still could: ReplayGuard remembers what was accepted for as long, and refuses it a second time.
"""

from __future__ import annotations

import hashlib
import hmac
from collections import OrderedDict

MAX_AGE_SECONDS = 300  # Slack's five minutes, either way
_MAX_TIMESTAMP_DIGITS = 12  # epoch seconds have 10 digits until the year 2286


def refusal(secret: bytes, timestamp: str, signature: str, body: bytes, now: float) -> str | None:
    """Why Slack did not sign `body` within the last five minutes, as a short code for logs;
    None when it did. A header that is missing is "". The comparison takes the same time
    however much of the signature matches."""
    problem = stamp_refusal(timestamp, now)
    if problem is not None:
        return problem
    if not signature:
        return "no_signature"
    signed = b"v0:%s:%s" % (timestamp.encode(), body)
    expected = b"v0=" + hmac.new(secret, signed, hashlib.sha256).hexdigest().encode()
    given = signature.encode("utf-8", "replace")
    return None if hmac.compare_digest(expected, given) else "bad_signature"


def stamp_refusal(timestamp: str, now: float) -> str | None:
    """Why a request's timestamp header alone refuses it (checked before reading the body)."""
    if not timestamp:
        return "no_timestamp"
    if not (timestamp.isascii() and timestamp.isdigit()) or len(timestamp) > _MAX_TIMESTAMP_DIGITS:
        return "bad_timestamp"
    if abs(now - int(timestamp)) > MAX_AGE_SECONDS:
        return "stale_timestamp"
    return None


class ReplayGuard:
    """The signatures accepted in the last five minutes, at most `limit` of them.

    A signature is remembered until its timestamp is too old to pass the check anyway, so the
    memory is what Slack sends in ten minutes at most. Past `limit` the oldest are forgotten
    early (a replay of those would pass): only requests with a good signature are remembered,
    so only Slack's own traffic fills it, and the limit is far above what Slack sends one app.
    """

    def __init__(self, *, limit: int = 20_000, max_age: float = MAX_AGE_SECONDS) -> None:
        self.limit = limit
        self.max_age = max_age
        self.forgotten_early = 0
        self._seen: OrderedDict[str, float] = OrderedDict()  # signature -> when it expires

    def __len__(self) -> int:
        return len(self._seen)

    def first_time(self, signature: str, timestamp: int, now: float) -> bool:
        """True the first time a (good) signature is seen; False for a replay."""
        self._forget_expired(now)
        if signature in self._seen:
            return False
        if len(self._seen) >= self.limit:
            self._seen.popitem(last=False)
            self.forgotten_early += 1
        self._seen[signature] = timestamp + self.max_age
        return True

    def _forget_expired(self, now: float) -> None:
        # Oldest first by arrival; timestamps are within five minutes of arrival, so an entry
        # may outlive its expiry behind a younger one by at most that: harmless, and bounded.
        seen = self._seen
        while seen:
            signature, expires = next(iter(seen.items()))
            if expires >= now:
                return
            del seen[signature]
