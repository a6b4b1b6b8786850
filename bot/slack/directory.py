"""What the bot asks Slack about people: who may own a rule (user groups through usergroups.list,
people through users.list, both Tier 2, kept for TTL seconds), and which channels a person is
in (users.conversations, Tier 3, per person, kept for TTL seconds). A failure leaves the last
answer standing (or none) and is logged once a kind: owners and the App Home are conveniences,
never a reason for a command or a view to fail."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.commands.people import Owner
from bot.core.names import normalize
from bot.core.throttle import LogThrottle
from bot.mrkdwn import OWNER_ID

TTL = 600.0
PAGE = 200  # Slack's advice for cursor-paged lists
MAX_PAGES = 50  # 10,000 people or channels: a bound on a workspace's worth of calls

log = logging.getLogger(__name__)


class _Asking:
    """What asks Slack and keeps the answers for `ttl` seconds."""

    def __init__(
        self, client: AsyncWebClient, *, ttl: float = TTL, clock: Callable[[], float] = time.time
    ) -> None:
        self._client = client
        self._ttl = ttl
        self._clock = clock
        self._throttle = LogThrottle(TTL)

    def _failed(self, what: str, method: str, error: SlackApiError) -> None:
        data = error.response.data
        code = data.get("error", "") if isinstance(data, dict) else ""
        if self._throttle.admit(method, self._clock()):
            log.warning(what, extra={"method": method, "error": code})


class SlackPeople(_Asking):
    """The workspace's people and user groups, for owners (bot.commands.people.People)."""

    def __init__(self, client: AsyncWebClient, **options) -> None:
        super().__init__(client, **options)
        self._owners: list[Owner] = []
        self._loaded_at: float | None = None
        self._lock = asyncio.Lock()

    async def find(self, text: str) -> Owner | None:
        text = text.strip()
        wanted = text if OWNER_ID.fullmatch(text) else None
        handle = normalize(text.removeprefix("@"))
        for owner in await self._all():
            if owner.id == wanted or normalize(owner.handle) == handle:
                return owner
        return None

    def known(self, owner_id: str) -> Owner | None:
        return next((o for o in self._owners if o.id == owner_id), None)

    async def search(self, text: str, *, limit: int) -> list[Owner]:
        query = normalize(text.removeprefix("@"))
        found = [
            owner
            for owner in await self._all()
            if not query
            or any(
                word.startswith(query) or f" {query}" in f" {word}"
                for word in (normalize(owner.handle), normalize(owner.name))
            )
        ]
        return found[:limit]

    async def _all(self) -> list[Owner]:
        async with self._lock:
            now = self._clock()
            if self._loaded_at is None or now - self._loaded_at >= self._ttl:
                groups, people = await self._groups(), await self._people()
                if groups is not None or people is not None or self._loaded_at is None:
                    self._owners = (groups or []) + (people or [])
                self._loaded_at = now
        return self._owners

    async def _groups(self) -> list[Owner] | None:
        try:
            answer = await self._client.usergroups_list(include_disabled=False)
        except SlackApiError as error:
            self._failed("cannot list owners from Slack", "usergroups.list", error)
            return None
        return [
            Owner(g["id"], g.get("handle", ""), g.get("name", ""))
            for g in answer.get("usergroups", [])
            if OWNER_ID.fullmatch(g.get("id", "")) and not g.get("date_delete")
        ]

    async def _people(self) -> list[Owner] | None:
        found: list[Owner] = []
        try:
            async for page in _pages(self._client.users_list, "members"):
                found += [
                    Owner(u["id"], u.get("name", ""), _shown_name(u))
                    for u in page
                    if OWNER_ID.fullmatch(u.get("id", ""))
                    and not (u.get("deleted") or u.get("is_bot"))
                    and u.get("id") != "USLACKBOT"
                ]
        except SlackApiError as error:
            self._failed("cannot list owners from Slack", "users.list", error)
            return None
        return found


class Memberships(_Asking):
    """The channels each person is in (public ones, and private ones the bot is in too)."""

    def __init__(self, client: AsyncWebClient, **options) -> None:
        super().__init__(client, **options)
        self._known: dict[str, tuple[float, frozenset[str]]] = {}

    async def channels(self, user: str) -> frozenset[str]:
        found = self._known.get(user)
        now = self._clock()
        if found is not None and now - found[0] < self._ttl:
            return found[1]
        channels: set[str] = set()
        try:
            async for page in _pages(
                self._client.users_conversations,
                "channels",
                user=user,
                types="public_channel,private_channel",
                exclude_archived=True,
            ):
                channels.update(c["id"] for c in page if isinstance(c.get("id"), str))
        except SlackApiError as error:
            self._failed("cannot list a person's channels", "users.conversations", error)
            return found[1] if found else frozenset()
        known = frozenset(channels)
        self._known[user] = (now, known)
        return known


async def _pages(method, key: str, **args):
    """The lists of a cursor-paged Slack method, a page at a time, MAX_PAGES at most."""
    cursor = None
    for _ in range(MAX_PAGES):
        answer = await method(limit=PAGE, **args, **({"cursor": cursor} if cursor else {}))
        yield answer.get(key, [])
        cursor = (answer.get("response_metadata") or {}).get("next_cursor")
        if not cursor:
            return


def _shown_name(user: dict) -> str:
    profile = user.get("profile") or {}
    return profile.get("display_name") or profile.get("real_name") or user.get("name", "")
