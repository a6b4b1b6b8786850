"""Where a feed URL's credentials are, to hide them from everything the bot reports."""

import re
from urllib.parse import parse_qsl, unquote_plus, urlsplit, urlunsplit

# Query parameters whose values are credentials; others (shard=2, format=json) name the feed.
_SECRET_KEY = re.compile(r"token|key|sig|auth|pass|secret|cred|session|code", re.IGNORECASE)
MASK = "***"


def shown_url(url: str) -> str:
    """The URL as logs, metrics, health checks and the events table show it: user:password and
    secret-looking query values masked (`wss://***@host/path?shard=2&token=***`)."""
    parts = urlsplit(url)
    netloc = parts.netloc
    if "@" in netloc:
        netloc = MASK + "@" + netloc.rpartition("@")[2]
    query = "&".join(
        f"{key}={MASK if _SECRET_KEY.search(key) else value}"
        for key, value in parse_qsl(parts.query, keep_blank_values=True)
    )
    return urlunsplit((parts.scheme, netloc, parts.path, query, ""))


def url_secrets(url: str) -> list[str]:
    """The credentials in `url` as written and decoded, for the logs to mask should they appear:
    the password (or a user name given alone, as API keys are), secret-looking query values."""
    parts = urlsplit(url)
    found = [parts.password or parts.username or ""]  # as written in the URL
    for pair in parts.query.split("&"):
        key, _, value = pair.partition("=")
        if _SECRET_KEY.search(unquote_plus(key)):
            found.append(value)
    forms = {form for secret in found for form in (secret, unquote_plus(secret))}
    return sorted(form for form in forms if len(form) >= 4)  # masking "1" would mask all 1s
