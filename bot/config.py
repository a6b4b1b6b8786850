"""Settings, read from the environment and `.env` (pydantic-settings).

Every knob has a default that works on a laptop and a one-line description; `.env.example`
lists them all and a test keeps the two in step.
"""

from __future__ import annotations

import ipaddress
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from bot.config_errors import SettingsError, describe, split_url
from bot.core.secrets import shown_url, url_secrets
from bot.core.transfers.plan import parse_locations
from bot.store.postgres.url import check_url as check_database_url
from bot.store.postgres.url import url_secrets as database_url_secrets

_UNSET_MEANS = {
    "admin_user_ids": "leave it unset if everyone may change alert rules",
    "feed_urls": "leave it unset to read the built-in simulator",
}


class Settings(BaseSettings):
    """Everything the bot can be told. Environment variable names are the field names in
    upper case (FEED_URLS for `feed_urls`)."""

    model_config = SettingsConfigDict(
        env_file=".env",
        env_file_encoding="utf-8",
        env_ignore_empty=True,
        extra="ignore",
        validate_default=True,
    )

    # The feed
    feed_urls: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Comma-separated ws:// or wss:// feed URLs; empty runs the built-in simulator.",
    )
    feed_stale_after_seconds: float = Field(
        60.0, gt=0, description="A feed with no message for this long is marked stale."
    )
    feed_reconnect_max_seconds: float = Field(
        30.0, gt=0, description="Cap on the wait between reconnect attempts (backoff with jitter)."
    )
    feed_ping_interval_seconds: float = Field(
        20.0, gt=0, description="Keepalive ping period; a missed pong for as long drops the link."
    )
    simulator_mode: Literal["random", "realistic"] = Field(
        "realistic",
        description="World of the built-in simulator used when FEED_URLS is empty.",
    )

    # Storage
    database_path: Path = Field(
        Path("data/inventory.db"), description="SQLite database file (created with its folder)."
    )
    database_url: SecretStr | None = Field(
        None,
        description="postgresql://user:password@host:5432/db stores in PostgreSQL; unset: SQLite.",
    )
    event_retention_days: float = Field(
        30.0, gt=0, description="Sale events older than this are deleted from the event log."
    )
    writer_queue_size: int = Field(
        10_000, ge=1, description="Events waiting for the writer; when full, the feed waits."
    )
    writer_batch_size: int = Field(
        5_000, ge=1, description="Most events committed in one SQLite transaction."
    )
    dead_letter_limit: int = Field(
        1_000, ge=1, description="Bad frames kept in the dead-letter table (oldest dropped)."
    )

    # Alerts
    alert_channel: str | None = Field(
        None,
        description="Slack channel ID given a default rule at start, unless its rules were set.",
    )
    default_low: int = Field(
        10, ge=0, le=1_000_000, description="Default rule: alert at this many pairs or fewer."
    )
    default_high: int | None = Field(
        80,
        ge=1,
        le=1_000_000,
        description="Default rule: alert at this many pairs or more (off: never).",
    )
    alert_gate_readings: int = Field(
        2, ge=1, description="Readings a low or high level must last before it alerts."
    )
    alert_gate_seconds: float = Field(
        60.0, ge=0, le=86_400, description="...and seconds it must last (out of stock: at once)."
    )
    alert_group_seconds: float = Field(
        1.0, ge=0, le=600, description="New alerts wait this long to be grouped before posting."
    )
    alert_flood_limit: int = Field(
        10, ge=1, description="More new messages than this in 10 minutes: one digest instead."
    )
    alert_digest_minutes: float = Field(
        10.0,
        gt=0,
        le=1440,
        description="While flooded, what is new is posted in a fresh digest this often.",
    )
    chain_min_stores: int = Field(
        3,
        ge=2,
        description="A model low in this many of a channel's stores is one chain-wide alert.",
    )
    ops_channel: str | None = Field(
        None, description="Slack channel ID for feed health alerts (down, stale, bad frames)."
    )
    outbox_max_age_seconds: float = Field(
        300.0,
        gt=0,
        description="/readyz is 503 while an alert committed this long ago still waits for Slack.",
    )
    bad_frames_alert_per_minute: int = Field(
        60, ge=1, description="More bad frames than this in a minute from one feed alerts ops."
    )

    # Transfers
    transfer_plan_seconds: float = Field(
        30.0, gt=0, description="How often models that sold since are planned again."
    )
    transfer_min_quantity: int = Field(
        2, ge=1, le=10_000, description="Smallest transfer suggested, in pairs."
    )
    transfer_expiry_hours: float = Field(
        72.0, gt=0, description="An accepted transfer not seen arriving by then stops reserving."
    )
    store_locations_file: Path | None = Field(
        None, description="CSV of store,latitude,longitude: nearer stores are asked to give first."
    )

    # Slack
    slack_bot_token: SecretStr | None = Field(
        None, description="Bot token (xoxb-...); unset, alerts are written to the console."
    )
    slack_app_token: SecretStr | None = Field(
        None, description="App-level token (xapp-...) with connections:write, for Socket Mode."
    )
    slack_signing_secret: SecretStr | None = Field(
        None, description="Signing secret that verifies Slack's requests in HTTP mode."
    )
    slack_api_url: str = Field(
        "https://slack.com/api/", description="Base URL of the Slack Web API."
    )
    slack_mode: Literal["socket", "http"] = Field(
        "socket", description="How Slack reaches the bot: socket (Socket Mode) or http."
    )
    slack_timeout_seconds: float = Field(
        10.0, gt=0, le=120, description="Wait this long for Slack to answer a call."
    )
    admin_user_ids: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Slack user IDs allowed to change rules (comma-separated); empty: everyone.",
    )
    home_active_minutes: float = Field(
        10.0,
        gt=0,
        le=1440,
        description="An App Home opened this recently is kept current as what it shows changes.",
    )
    home_refresh_seconds: float = Field(
        5.0,
        ge=1,
        le=3600,
        description="...at most once this often per person (views.publish has a budget).",
    )

    # HTTP server (Slack in HTTP mode, the REST API, health, metrics) and logs
    http_host: str = Field("127.0.0.1", description="Address the HTTP server listens on.")
    http_port: int = Field(3000, ge=0, le=65535, description="Port of the HTTP server.")
    api_token: SecretStr | None = Field(
        None, description="Bearer token every /api request must carry; unset, /api is open."
    )
    api_public: bool = Field(
        False,
        description="Serve /api without API_TOKEN on an HTTP_HOST other than loopback, on "
        "purpose (otherwise the bot refuses to start).",
    )
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field(
        "INFO", description="DEBUG, INFO, WARNING or ERROR."
    )
    log_format: Literal["text", "json"] = Field(
        "text", description="text: one readable line per event; json: one JSON object per line."
    )

    def secrets(self) -> list[str]:
        """The secret values set, for the logs to mask wherever they turn up."""
        found = (self.slack_bot_token, self.slack_app_token, self.slack_signing_secret)
        tokens = [s.get_secret_value() for s in (*found, self.api_token) if s is not None]
        if self.database_url is not None:
            # Short ones too would mask every "pw" in the logs; messages never hold it anyway.
            passwords = database_url_secrets(self.database_url.get_secret_value())
            tokens += [p for p in passwords if len(p) >= 4]
        return tokens + [secret for url in self.feed_urls for secret in url_secrets(url)]

    @field_validator("database_url")
    @classmethod
    def _check_database_url(cls, url: SecretStr | None) -> SecretStr | None:
        if url is not None:
            check_database_url(url.get_secret_value())
        return url

    @field_validator("store_locations_file")
    @classmethod
    def _check_locations(cls, path: Path | None) -> Path | None:
        if path is not None:
            read_locations(path)
        return path

    @field_validator("default_high", mode="before")
    @classmethod
    def _high_off(cls, value: object) -> object:
        return (
            None if isinstance(value, str) and value.strip().lower() in ("off", "none") else value
        )

    @model_validator(mode="after")
    def _high_above_low(self) -> Settings:
        if self.default_high is not None and self.default_high <= self.default_low:
            raise ValueError(
                f"DEFAULT_HIGH ({self.default_high}) must be above DEFAULT_LOW ({self.default_low})"
            )
        return self

    @field_validator("admin_user_ids")
    @classmethod
    def _check_users(cls, users: list[str]) -> list[str]:
        for user in users:
            if not user.isalnum() or not user[:1].isupper():
                raise ValueError(f"{user!r} is not a Slack user ID (they look like U0123ABCD)")
        return users

    @model_validator(mode="after")
    def _slack_fits_its_mode(self) -> Settings:
        if self.slack_bot_token is None:
            return self
        if self.slack_mode == "http" and self.slack_signing_secret is None:
            raise ValueError(
                "SLACK_SIGNING_SECRET: needed when SLACK_MODE=http, to check that requests come "
                "from Slack (the app's Basic Information page shows it)"
            )
        if self.slack_mode == "socket" and self.slack_app_token is None:
            raise ValueError(
                "SLACK_APP_TOKEN: needed in Socket Mode (SLACK_MODE=socket): an app-level token "
                "(xapp-...) with connections:write, or set SLACK_MODE=http"
            )
        return self

    @field_validator("feed_urls", "admin_user_ids", mode="before")
    @classmethod
    def _comma_separated(cls, value: object, info) -> object:
        if not isinstance(value, str):
            return value
        parts = [part.strip() for part in value.split(",") if part.strip()]
        if not parts:  # "," is not unset, which means something: say so rather than guess
            raise ValueError(f"names nothing ({_UNSET_MEANS[info.field_name]})")
        return parts

    @field_validator("feed_urls")
    @classmethod
    def _check_urls(cls, urls: list[str]) -> list[str]:
        # The messages never echo a URL whole: it may hold a password.
        names: set[str] = set()
        for url in urls:
            if "#" in url:  # not shown: what follows '#' may be part of a password
                raise ValueError("a URL has a '#': write it as %23 in a password")
            parts, name = split_url(url), shown_url(url)
            try:
                parts.port  # noqa: B018 - reading it checks it
            except ValueError:
                raise ValueError(f"{name!r} has a bad port") from None
            if parts.scheme not in ("ws", "wss") or not parts.hostname:
                raise ValueError(f"{name!r} is not a ws:// or wss:// URL")
            if parts.username and parts.password is None:  # websockets would refuse it
                raise ValueError(f"{name!r} has a user name but no password: give both")
            if name in names:
                raise ValueError(f"{name!r} is given twice")
            names.add(name)
        return urls

    @field_validator("slack_api_url")
    @classmethod
    def _check_api_url(cls, url: str) -> str:
        parts = split_url(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"{shown_url(url)!r} is not an http:// or https:// URL")
        return url if url.endswith("/") else url + "/"

    @field_validator("api_token")
    @classmethod
    def _check_api_token(cls, token: SecretStr | None) -> SecretStr | None:
        if token is not None and len(token.get_secret_value()) < 16:
            raise ValueError("must be at least 16 characters (try: openssl rand -hex 24)")
        return token

    @field_validator("log_level", "slack_mode", "simulator_mode", "log_format", mode="before")
    @classmethod
    def _case_insensitive(cls, value: object, info) -> object:
        if not isinstance(value, str):
            return value
        return value.upper() if info.field_name == "log_level" else value.lower()

    @field_validator("slack_signing_secret")
    @classmethod
    def _check_signing_secret(cls, secret: SecretStr | None) -> SecretStr | None:
        # Blank, anyone could sign; with spaces around it, no request would ever match.
        value = secret.get_secret_value() if secret is not None else "x"
        if not value.strip() or value != value.strip():
            raise ValueError("is blank or has spaces around it: copy it again from the app's page")
        return secret

    @model_validator(mode="after")
    def _api_not_open_to_the_network_by_accident(self) -> Settings:
        if self.api_token is None and not self.api_public and not is_loopback(self.http_host):
            raise ValueError(
                f"API_TOKEN: needed when HTTP_HOST={self.http_host} is reachable from other "
                "machines: /api serves stock, 30 days of sales, alerts and transfers to whoever "
                "reaches it. Set API_TOKEN, or API_PUBLIC=true if it is meant to be open"
            )
        return self

    @property
    def api_open_to_the_network(self) -> bool:
        """/api answers anyone who reaches a non-loopback address (API_PUBLIC=true)."""
        return self.api_token is None and not is_loopback(self.http_host)

    @field_validator("slack_bot_token")
    @classmethod
    def _check_bot_token(cls, token: SecretStr | None) -> SecretStr | None:
        if token is not None and not token.get_secret_value().startswith("xoxb-"):
            raise ValueError("must be a bot token starting with xoxb-")
        return token

    @field_validator("slack_app_token")
    @classmethod
    def _check_app_token(cls, token: SecretStr | None) -> SecretStr | None:
        if token is not None and not token.get_secret_value().startswith("xapp-"):
            raise ValueError("must be an app-level token starting with xapp-")
        return token


def is_loopback(host: str) -> bool:
    """Whether an HTTP_HOST is reachable from this machine only ("" and 0.0.0.0: everywhere)."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:  # a host name: it may resolve to anything
        return False


def read_locations(path: Path) -> dict[str, tuple[float, float]]:
    """The stores' locations from STORE_LOCATIONS_FILE; ValueError says what is wrong."""
    try:
        with path.open(encoding="utf-8", newline="") as lines:
            return parse_locations(lines)
    except OSError as error:
        raise ValueError(f"cannot read {str(path)!r}: {error.strerror}") from None
    except (ValueError, UnicodeDecodeError) as error:
        raise ValueError(f"{str(path)!r} {error}") from None


def load_settings(**overrides: object) -> Settings:
    """Read settings from the environment and `.env`; raise SettingsError on a bad value."""
    try:
        return Settings(**overrides)
    except ValidationError as error:
        raise SettingsError(describe(error)) from None
