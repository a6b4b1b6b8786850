"""Where a feed URL's credentials are, to hide them from everything the bot reports."""

from urllib.parse import parse_qsl, urlsplit, urlunsplit


def shown_url(url: str) -> str:
    """The URL as logs, metrics, health checks and the events table show it: without the
    user:password or the query string, where a feed's credentials would be."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    netloc = "***@" if "@" in parts.netloc else ""
    netloc += f"[{host}]" if ":" in host else host
    port = parts.netloc.rpartition("@")[2].rpartition("]")[2].partition(":")[2]
    if port:
        netloc += f":{port}"
    return urlunsplit((parts.scheme, netloc, parts.path, "***" if parts.query else "", ""))


def url_secrets(url: str) -> list[str]:
    """The password and query values in `url`, for the logs to mask should they appear."""
    parts = urlsplit(url)
    found = [parts.password or "", *(value for _, value in parse_qsl(parts.query))]
    return [secret for secret in found if len(secret) >= 4]  # masking "1" would mask all 1s
