"""Where messages go: Slack's Web API, or the console when no token is set.

Each transport posts, edits and replies, and can look for a message it may already have posted
(by the outbox id carried in the message's metadata). Failures are sorted into what the sender
does next: wait (RateLimited), try again (Retry), give up on the row (Rejected), or stop calling
the channel or the workspace (ChannelRefused, AuthRefused).
"""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass
from typing import Protocol, TextIO

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

METADATA_EVENT = "inventory_bot_message"

# Errors about the channel itself: retrying soon cannot help.
CHANNEL_ERRORS = {
    "channel_not_found",
    "not_in_channel",
    "is_archived",
    "channel_is_archived",
    "restricted_action",
    "restricted_action_read_only_channel",
    "team_access_not_granted",
}
# Errors about the token or the app: every channel is affected.
AUTH_ERRORS = {
    "invalid_auth",
    "not_authed",
    "account_inactive",
    "token_revoked",
    "token_expired",
    "no_permission",
    "org_login_required",
    "ekm_access_denied",
    "missing_scope",
    "not_allowed_token_type",
}
SERVER_ERRORS = {"internal_error", "fatal_error", "service_unavailable", "request_timeout"}


@dataclass(frozen=True, slots=True)
class Posted:
    channel_id: str
    ts: str


class RateLimited(Exception):
    def __init__(self, retry_after: float) -> None:
        super().__init__(f"rate limited; retry after {retry_after} s")
        self.retry_after = retry_after


class Retry(Exception):
    """A failure worth retrying. `uncertain`: the call may have taken effect."""

    def __init__(self, reason: str, *, uncertain: bool) -> None:
        super().__init__(reason)
        self.uncertain = uncertain


class Rejected(Exception):
    """Slack will never accept this call as it is (bad blocks, message gone...)."""


class ChannelRefused(Exception):
    """Slack refuses the channel (bot not in it, channel gone or archived)."""


class AuthRefused(Exception):
    """Slack refuses the token or the app."""


class Transport(Protocol):
    async def post(self, channel: str, payload: dict, outbox_id: int) -> Posted: ...

    async def reply(
        self, channel_id: str, thread_ts: str, payload: dict, outbox_id: int
    ) -> Posted: ...

    async def update(self, channel_id: str, ts: str, payload: dict) -> None: ...

    async def find(
        self, channel: str, outbox_id: int, *, since: float, thread_ts: str | None
    ) -> Posted | None: ...


class SlackTransport:
    """Slack's Web API through slack_sdk's AsyncWebClient (base URL from SLACK_API_URL)."""

    def __init__(self, client: AsyncWebClient) -> None:
        # The SDK's own retry handlers resend after a dropped connection, which can post a
        # message twice; the sender retries itself, after looking for the message.
        client.retry_handlers = []
        self.client = client

    async def post(self, channel: str, payload: dict, outbox_id: int) -> Posted:
        response = await self._call(
            self.client.chat_postMessage,
            channel=channel,
            text=payload["text"],
            blocks=payload.get("blocks"),
            metadata=_metadata(outbox_id),
            unfurl_links=False,
            unfurl_media=False,
        )
        return Posted(response["channel"], response["ts"])

    async def reply(self, channel_id: str, thread_ts: str, payload: dict, outbox_id: int) -> Posted:
        response = await self._call(
            self.client.chat_postMessage,
            channel=channel_id,
            thread_ts=thread_ts,
            text=payload["text"],
            reply_broadcast=bool(payload.get("broadcast")),
            metadata=_metadata(outbox_id),
        )
        return Posted(response["channel"], response["ts"])

    async def update(self, channel_id: str, ts: str, payload: dict) -> None:
        await self._call(
            self.client.chat_update,
            channel=channel_id,
            ts=ts,
            text=payload["text"],
            blocks=payload.get("blocks") or [],
        )

    async def find(
        self, channel: str, outbox_id: int, *, since: float, thread_ts: str | None
    ) -> Posted | None:
        args = {
            "channel": channel,
            "oldest": f"{since - 60:.6f}",
            "limit": 200,
            "include_all_metadata": True,
        }
        if thread_ts is None:
            response = await self._call(self.client.conversations_history, **args)
        else:
            response = await self._call(self.client.conversations_replies, ts=thread_ts, **args)
        for message in response.get("messages", []):
            meta = message.get("metadata") or {}
            if (
                meta.get("event_type") == METADATA_EVENT
                and meta.get("event_payload", {}).get("outbox_id") == outbox_id
            ):
                return Posted(channel, message["ts"])
        return None

    async def _call(self, method, **kwargs):
        try:
            return await method(**kwargs)
        except SlackApiError as error:
            status = error.response.status_code
            code = error.response.get("error", "") if isinstance(error.response.data, dict) else ""
            if status == 429:
                retry_after = error.response.headers.get("Retry-After", "1")
                raise RateLimited(float(retry_after)) from None
            if status >= 500 or code in SERVER_ERRORS:
                raise Retry(f"HTTP {status} {code}".strip(), uncertain=True) from None
            if code in CHANNEL_ERRORS:
                raise ChannelRefused(code) from None
            if code in AUTH_ERRORS:
                raise AuthRefused(code) from None
            if code == "ratelimited":
                raise RateLimited(1.0) from None
            raise Rejected(code or f"HTTP {status}") from None
        except aiohttp.ClientConnectorError as error:
            raise Retry(f"cannot connect: {error}", uncertain=False) from None
        except (TimeoutError, aiohttp.ClientError) as error:
            # The request may have reached Slack before the answer was lost.
            raise Retry(f"{type(error).__name__}: {error}", uncertain=True) from None


class ConsoleTransport:
    """What would be posted, printed: the bot's embedded default while no token is set."""

    def __init__(self, out: TextIO = sys.stdout) -> None:
        self.out = out

    async def post(self, channel: str, payload: dict, outbox_id: int) -> Posted:
        self._print(channel, payload["text"])
        return Posted(channel, f"{time.time():.6f}")

    async def reply(self, channel_id: str, thread_ts: str, payload: dict, outbox_id: int) -> Posted:
        self._print(channel_id, f"  ↳ {payload['text']}")
        return Posted(channel_id, f"{time.time():.6f}")

    async def update(self, channel_id: str, ts: str, payload: dict) -> None:
        self._print(channel_id, f"(edited) {payload['text']}")

    async def find(
        self, channel: str, outbox_id: int, *, since: float, thread_ts: str | None
    ) -> Posted | None:
        return None  # a console line cannot be looked up: printing twice is harmless

    def _print(self, channel: str, text: str) -> None:
        stamp = time.strftime("%H:%M:%S")
        self.out.write(f"{stamp} [{channel}] {text}\n")
        self.out.flush()


def _metadata(outbox_id: int) -> dict:
    return {"event_type": METADATA_EVENT, "event_payload": {"outbox_id": outbox_id}}
