"""Where messages go: Slack's Web API, or the console when no token is set.

Each transport posts, edits and replies, and can look for a message it may already have posted
(by the outbox id carried in the message's metadata). Failures are sorted, by the one table in
bot/slack/errors.py, into what the sender does next: wait (RateLimited), try again (Retry),
give up on the row (Rejected), or stop calling the channel or the workspace (ChannelRefused,
AuthRefused).
"""

from __future__ import annotations

import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Protocol, TextIO

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.slack.errors import MAY_HAVE_HAPPENED, Verdict, verdict

METADATA_EVENT = "inventory_bot_message"
EDIT_TEXT_BYTES = 4_000  # chat.update refuses a longer text (msg_too_long)
HISTORY_PAGE = 200  # messages a page when looking for an earlier post

Pace = Callable[[str], Awaitable[None]]  # waits until a call of that Slack method may go


@dataclass(frozen=True, slots=True)
class Posted:
    channel_id: str
    ts: str


class RateLimited(Exception):
    """Slack rate-limits `method` for the workspace; `retry_after` None when it did not say."""

    def __init__(self, method: str, retry_after: float | None, reason: str = "ratelimited"):
        super().__init__(f"{method} {reason}; retry after {retry_after} s")
        self.method = method
        self.retry_after = retry_after


class Retry(Exception):
    """A failure worth retrying. `uncertain`: the call may have taken effect. `unknown`: an
    error code no table knows, retried only a few times."""

    def __init__(self, reason: str, *, uncertain: bool, unknown: bool = False) -> None:
        super().__init__(reason)
        self.uncertain = uncertain
        self.unknown = unknown


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
    """Slack's Web API through slack_sdk's AsyncWebClient (base URL from SLACK_API_URL).

    Every call waits for `pace` first (the sender's budgets), look-ups and joins included. A
    public channel that answers not_in_channel (history needs membership; a post needs it
    without chat:write.public) is joined once with conversations.join, and the call made again.
    """

    def __init__(self, client: AsyncWebClient, *, pace: Pace | None = None) -> None:
        # The SDK's own retry handlers resend after a dropped connection, which can post a
        # message twice; the sender retries itself, after looking for the message.
        client.retry_handlers = []
        self.client = client
        self.pace = pace
        self._joined: set[str] = set()

    async def post(self, channel: str, payload: dict, outbox_id: int) -> Posted:
        response = await self._as_member(
            channel,
            lambda: self._call(
                "chat.postMessage",
                self.client.chat_postMessage,
                channel=channel,
                text=payload["text"],
                blocks=payload.get("blocks"),
                metadata=_metadata(outbox_id),
                unfurl_links=False,
                unfurl_media=False,
            ),
        )
        return _posted(response)

    async def reply(self, channel_id: str, thread_ts: str, payload: dict, outbox_id: int) -> Posted:
        response = await self._as_member(
            channel_id,
            lambda: self._call(
                "chat.postMessage",
                self.client.chat_postMessage,
                channel=channel_id,
                thread_ts=thread_ts,
                text=payload["text"],
                reply_broadcast=bool(payload.get("broadcast")),
                metadata=_metadata(outbox_id),
            ),
        )
        return _posted(response)

    async def update(self, channel_id: str, ts: str, payload: dict) -> None:
        await self._call(
            "chat.update",
            self.client.chat_update,
            channel=channel_id,
            ts=ts,
            text=_fit(payload["text"], EDIT_TEXT_BYTES),
            blocks=payload.get("blocks") or [],
        )

    async def find(
        self, channel: str, outbox_id: int, *, since: float, thread_ts: str | None
    ) -> Posted | None:
        """The message carrying `outbox_id` posted since `since` (give or take a minute of
        clock difference), following the cursor back to that bound."""
        method, read = "conversations.history", self.client.conversations_history
        args = {
            "channel": channel,
            "oldest": f"{since - 60:.6f}",
            "limit": HISTORY_PAGE,
            "include_all_metadata": True,
        }
        if thread_ts is not None:
            method, read = "conversations.replies", self.client.conversations_replies
            args["ts"] = thread_ts
        cursor = None
        while True:
            page = {**args, "cursor": cursor} if cursor else args
            response = await self._as_member(
                channel, lambda page=page: self._call(method, read, **page)
            )
            for message in response.get("messages", []):
                meta = message.get("metadata") or {}
                if (
                    meta.get("event_type") == METADATA_EVENT
                    and meta.get("event_payload", {}).get("outbox_id") == outbox_id
                ):
                    return Posted(channel, message["ts"])
            cursor = (response.get("response_metadata") or {}).get("next_cursor")
            if not response.get("has_more") or not cursor:
                return None

    async def _as_member(self, channel: str, call: Callable[[], Awaitable]):
        """Make the call; if Slack answers not_in_channel, join the channel and make it again."""
        try:
            return await call()
        except ChannelRefused as refused:
            if str(refused) != "not_in_channel" or channel in self._joined:
                raise
            try:
                await self._call(
                    "conversations.join", self.client.conversations_join, channel=channel
                )
            except (AuthRefused, Rejected):
                raise refused from None  # e.g. no channels:join: only an invitation helps
            self._joined.add(channel)
            return await call()

    async def _call(self, name: str, method, **kwargs):
        if self.pace is not None:
            await self.pace(name)
        try:
            return await method(**kwargs)
        except SlackApiError as error:
            raise _sorted(name, error) from None
        except aiohttp.ClientConnectorError as error:
            raise Retry(f"cannot connect: {error}", uncertain=False) from None
        except (TimeoutError, aiohttp.ClientError) as error:
            # The request may have reached Slack before the answer was lost.
            raise Retry(f"{type(error).__name__}: {error}", uncertain=True) from None


def _sorted(method: str, error: SlackApiError) -> Exception:
    """Slack's answer as what the sender does next (bot/slack/errors.py)."""
    status = error.response.status_code
    data = error.response.data
    code = data.get("error", "") if isinstance(data, dict) else ""
    found = verdict(code)
    if status == 429 or found is Verdict.WAIT:
        return RateLimited(method, _seconds(error.response.headers.get("Retry-After")), code)
    uncertain = status >= 500 or code in MAY_HAVE_HAPPENED
    if found is Verdict.RETRY:
        return Retry(code, uncertain=uncertain)
    if found is Verdict.CHANNEL:
        return ChannelRefused(code)
    if found is Verdict.TOKEN:
        return AuthRefused(code)
    if found is Verdict.DROP:
        return Rejected(code)
    if status >= 500:
        return Retry(f"HTTP {status} {code}".strip(), uncertain=True)
    return Retry(code or f"HTTP {status}", uncertain=False, unknown=True)


def _posted(response) -> Posted:
    channel, ts = response.get("channel"), response.get("ts")
    if not isinstance(channel, str) or not isinstance(ts, str):
        # Slack said ok but not where: the message may well be there; look before posting.
        raise Retry("Slack's answer to a post names no message", uncertain=True)
    return Posted(channel, ts)


def _seconds(value: str | None) -> float | None:
    try:
        return max(0.0, float(int(value))) if value is not None else None
    except ValueError:
        return None


def _fit(text: str, most: int) -> str:
    """`text` cut to at most `most` bytes of UTF-8, whole characters, marked with an ellipsis."""
    data = text.encode()
    if len(data) <= most:
        return text
    return data[: most - 3].decode(errors="ignore") + "…"


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
