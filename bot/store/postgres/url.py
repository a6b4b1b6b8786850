"""DATABASE_URL: which URLs select PostgreSQL, what a usable one looks like, and how it is shown
(password masked) in messages and logs. No driver is imported here: the settings use it."""

from __future__ import annotations

from urllib.parse import SplitResult, parse_qsl, unquote, unquote_plus, urlsplit

from bot.core.secrets import MASK

SCHEMES = ("postgresql", "postgres")
# Query parameters that hold a secret (libpq's names, which asyncpg reads too).
SECRET_PARAMETERS = frozenset({"password", "sslpassword"})
EXAMPLE = "postgresql://user:password@host:5432/database"


def is_postgres_url(url: str) -> bool:
    """Whether `url` asks for PostgreSQL (postgresql:// or postgres://)."""
    scheme, sep, _ = url.partition("://")
    return bool(sep) and scheme.lower() in SCHEMES


def check_url(url: str) -> None:
    """Raise ValueError saying what is wrong with `url`, in words that never hold its password:
    the value is echoed only once it parses as ours, and then with the password masked."""
    if "://" not in url:
        raise ValueError(f"is not a URL: write {EXAMPLE}")
    scheme = url.partition("://")[0]
    if scheme.lower() not in SCHEMES:
        raise ValueError(f"must start with postgresql:// or postgres:// (not {scheme[:20]!r}://)")
    if "#" in url:  # not shown: what follows '#' may be part of a password
        raise ValueError("has a '#': write it as %23 in a password")
    parts = _split(url)
    if parts is None:
        raise ValueError(
            "has an '@' after the host: percent-encode '/', '?' and '@' in the user name, "
            "the password and parameters (%2F, %3F, %40)"
        )
    query = dict(parse_qsl(parts.query))
    hosts = parts.netloc.rpartition("@")[2]
    if not hosts.strip(",") and "host" not in query:
        raise ValueError(f"{shown_url(url)!r} names no server: write {EXAMPLE}")
    if "," not in hosts:  # several hosts: asyncpg checks each one's port itself
        try:
            parts.port  # noqa: B018 - reading it checks it
        except ValueError:
            raise ValueError(f"{shown_url(url)!r} has a bad port") from None
    if not parts.path.strip("/") and not ({"dbname", "database"} & query.keys()):
        raise ValueError(f"{shown_url(url)!r} names no database: add /DATABASE at the end")


def shown_url(url: str) -> str:
    """`url` with its password masked, user, hosts, database and parameters kept:
    postgresql://bot:***@db:5432/inventory?sslmode=require"""
    scheme = url.partition("://")[0]
    parts = _split(url)
    if parts is None:  # where the password ends is unclear: show nothing of it
        return f"{scheme}://{MASK}"
    userinfo, _, hosts = parts.netloc.rpartition("@")
    netloc = f"{userinfo.partition(':')[0]}:{MASK}@{hosts}" if ":" in userinfo else parts.netloc
    pairs = []
    for pair in parts.query.split("&") if parts.query else ():
        key, equals, _ = pair.partition("=")
        secret = equals and unquote_plus(key).lower() in SECRET_PARAMETERS
        pairs.append(f"{key}={MASK}" if secret else pair)
    query = "?" + "&".join(pairs) if pairs else ""
    return f"{scheme}://{netloc}{parts.path}{query}"


def url_secrets(url: str) -> list[str]:
    """The passwords in `url` as written and decoded, for masking wherever they turn up. Generous
    with a URL that does not parse cleanly: everything before its last '@' may be a password."""
    found = []
    rest = url.partition("://")[2]
    parts = _split(url)
    userinfo = parts.netloc.rpartition("@")[0] if parts is not None else rest.rpartition("@")[0]
    if ":" in userinfo:
        found.append(userinfo.partition(":")[2])
    elif parts is None and userinfo:
        found.append(userinfo)
    query = parts.query if parts is not None else rest.partition("?")[2]
    for pair in query.split("&") if query else ():
        key, equals, value = pair.partition("=")
        if equals and unquote_plus(key).lower() in SECRET_PARAMETERS:
            found.append(value)
    forms = {form for secret in found for form in (secret, unquote(secret), unquote_plus(secret))}
    return sorted(form for form in forms if form)


def _split(url: str) -> SplitResult | None:
    """`url` split, or None when an '@' stands outside user:password@host: an unencoded '/'
    or '?' in the password would make a driver read part of it as the host or the database."""
    parts = urlsplit(url)
    return None if "@" in url.partition("://")[2][len(parts.netloc) :] else parts
