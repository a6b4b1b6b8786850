"""The bot's parts as the settings make them: the alert engine's settings, a channel's default
rule, the Slack client."""

from __future__ import annotations

from slack_sdk.web.async_client import AsyncWebClient

from bot.config import Settings
from bot.core.alerting.engine import EngineSettings
from bot.core.alerting.notify import NotifySettings
from bot.core.thresholds import Thresholds
from bot.core.transfers.book import TransferSettings


def engine_settings(s: Settings) -> EngineSettings:
    """The alert engine's settings, from the bot's."""
    return EngineSettings(
        notify=NotifySettings(
            group_wait=s.alert_group_seconds,
            flood_limit=s.alert_flood_limit,
            digest_every=s.alert_digest_minutes * 60,
        ),
        chain_min_stores=s.chain_min_stores,
        ops_channel=s.ops_channel,
        feed_down_after=s.feed_stale_after_seconds,
        bad_frames_per_minute=s.bad_frames_alert_per_minute,
        transfers=TransferSettings(expire_after=s.transfer_expiry_hours * 3600),
    )


def default_thresholds(s: Settings) -> Thresholds:
    return Thresholds(s.default_low, s.default_high, s.alert_gate_readings, s.alert_gate_seconds)


def slack_client(s: Settings) -> AsyncWebClient:
    """The Web API client every Slack call uses (base URL from SLACK_API_URL)."""
    token = s.slack_bot_token.get_secret_value() if s.slack_bot_token else None
    return AsyncWebClient(token=token, base_url=s.slack_api_url, timeout=s.slack_timeout_seconds)
