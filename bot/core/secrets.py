"""Where a feed URL's credentials are, to hide them from everything the bot reports."""

from urllib.parse import unquote, unquote_plus, urlsplit, urlunsplit

# Query parameters known to name a feed rather than to unlock it: their values are shown, so
# feeds that differ only in them are told apart. Every other value is masked.
SHOWN_PARAMETERS = frozenset(
    {"shard", "partition", "region", "store", "stores", "format", "version", "v", "stream"}
)
MASK = "***"


def shown_url(url: str) -> str:
    """The URL as logs, metrics, health checks and the events table show it: user:password and
    query values masked, but those of SHOWN_PARAMETERS (`wss://***@host/s?shard=2&token=***`)."""
    parts = urlsplit(url)
    netloc = parts.netloc
    if "@" in netloc:
        netloc = MASK + "@" + netloc.rpartition("@")[2]
    shown = []
    for pair in parts.query.split("&") if parts.query else ():
        key, equals, value = pair.partition("=")
        if not equals:  # a bare value: a key of some kind
            shown.append(MASK)
        else:
            shown.append(f"{key}={value if _named(key) else MASK}")
    query = "&".join(shown)
    return urlunsplit((parts.scheme, netloc, parts.path, query, ""))


def url_secrets(url: str) -> list[str]:
    """The credentials in `url` as written and decoded, for the logs to mask should they appear:
    the password (or a user name given alone) and every query value shown_url masks."""
    parts = urlsplit(url)
    found = [parts.password or parts.username or ""]  # as written in the URL
    for pair in parts.query.split("&"):
        key, equals, value = pair.partition("=")
        if not equals:
            found.append(key)  # a bare value: a key of some kind
        elif not _named(key):
            found.append(value)
    forms = {form for secret in found for form in (secret, unquote(secret), unquote_plus(secret))}
    return sorted(form for form in forms if len(form) >= 4)  # masking "1" would mask all 1s


def _named(key: str) -> bool:
    return unquote_plus(key).lower() in SHOWN_PARAMETERS
