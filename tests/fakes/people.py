"""People, user groups and who is in which channel, for the local Slack (tests/fakes/slack.py),
as Slack's method pages describe them (docs.slack.dev usergroups.list, users.list,
users.conversations):

- usergroups.list needs `usergroups:read`; a workspace on the free plan answers
  `plan_upgrade_required` (set `groups=None`). Not paged. Disabled groups only with
  `include_disabled`.
- users.list needs `users:read`; users.conversations needs `channels:read` for public channels
  and `groups:read` for private ones, and lists a private channel only if the bot is in it too.
  Both are cursor-paged: `limit` (at most 1000; 0 or none: Slack's default), an opaque
  `next_cursor` in `response_metadata` ("" on the last page), `invalid_cursor` for a cursor
  Slack did not give, `invalid_limit` for a limit that is not a number.
- users.conversations of an unknown user: `user_not_found`.
"""

from __future__ import annotations

import base64
import binascii

DEFAULT_PAGE = 100
SCOPES = {"public_channel": "channels:read", "private_channel": "groups:read"}


class People:
    """A mixin of FakeSlack: people, user groups and channel membership."""

    def _init_people(
        self,
        groups: list[dict] | None,
        people: list[dict],
        members: dict[str, set[str]] | None,
    ) -> None:
        self.groups = groups  # None: a workspace without user groups (free plan)
        self.people = people
        self.members = members  # channel -> its people; None: everyone is in every channel

    def _usergroups_list(self, args: dict) -> dict:
        refused = self._needs("usergroups:read")
        if refused:
            return refused
        if self.groups is None:
            return {"ok": False, "error": "plan_upgrade_required"}
        wanted = args.get("include_disabled") in (True, "true", "1", 1)
        found = [g for g in self.groups if wanted or not g.get("date_delete")]
        return {"ok": True, "usergroups": found}

    def _users_list(self, args: dict) -> dict:
        return self._needs("users:read") or _paged(self.people, args, "members")

    def _users_conversations(self, args: dict) -> dict:
        types = set((args.get("types") or "public_channel").split(","))
        for kind, scope in (
            ("public_channel", "channels:read"),
            ("private_channel", "groups:read"),
        ):
            refused = kind in types and self._needs(scope)
            if refused:
                return refused
        user = args.get("user")
        known = {p["id"] for p in self.people}
        if user is not None and user not in known:
            return {"ok": False, "error": "user_not_found"}
        listed = []
        for channel in sorted(self.channels):
            private = channel in self.private
            if ("private_channel" if private else "public_channel") not in types:
                continue
            if private and channel in self.not_member:
                continue  # Slack lists a private channel only to those in it
            if (
                user is not None
                and self.members is not None
                and user not in self.members.get(channel, set())
            ):
                continue
            listed.append({"id": channel, "name": channel.lower(), "is_private": private})
        return _paged(listed, args, "channels")


def _paged(items: list, args: dict, key: str) -> dict:
    try:
        limit = int(args.get("limit") or DEFAULT_PAGE)
    except ValueError:
        return {"ok": False, "error": "invalid_limit"}
    limit = min(1000, limit if limit > 0 else DEFAULT_PAGE)
    start = 0
    if args.get("cursor"):
        try:
            kind, _, at = base64.b64decode(args["cursor"], validate=True).decode().partition(":")
            start = int(at)
        except (ValueError, binascii.Error):
            return {"ok": False, "error": "invalid_cursor"}
        if kind != "offset" or not 0 <= start <= len(items):
            return {"ok": False, "error": "invalid_cursor"}
    page, rest = items[start : start + limit], items[start + limit :]
    cursor = base64.b64encode(f"offset:{start + limit}".encode()).decode() if rest else ""
    return {"ok": True, key: page, "response_metadata": {"next_cursor": cursor}}
