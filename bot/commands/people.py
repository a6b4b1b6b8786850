"""Who may own a rule: the workspace's people and user groups, as the Slack side finds them. The
commands know them only through `People`; without Slack (the terminal demo) there is none, and
owners are named by their Slack ID."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from bot.commands.parse import Usage
from bot.mrkdwn import OWNER_ID, quoted

OFF = ("off", "none", "-")


@dataclass(frozen=True, slots=True)
class Owner:
    """A person (`U...`, `W...`) or a user group (`S...`) that may own a rule."""

    id: str
    handle: str  # what people type after @: "buyers", "ana"
    name: str  # what they are called: "Buyers", "Ana Lopes"

    @property
    def group(self) -> bool:
        return self.id.startswith("S")


class People(Protocol):
    async def find(self, text: str) -> Owner | None:
        """The person or user group `text` names: its ID, or its handle with or without @."""

    async def search(self, text: str, *, limit: int) -> list[Owner]:
        """People and user groups whose handle or name has a word starting with `text`,
        groups first."""

    def known(self, owner_id: str) -> Owner | None:
        """The owner with this ID if already known, without asking Slack (which may be slow
        where an answer is due within Slack's 3 seconds)."""


async def owner_id(people: People | None, value: str) -> str | None:
    """The ID of the owner `value` names (`@buyers`, `S0123ABCD`), None for `off`; Usage if
    there is no such person or group."""
    value = value.strip()
    if value.lower() in OFF:
        return None
    if people is None:
        if OWNER_ID.fullmatch(value):
            return value
        raise Usage(
            f"Name an owner by their Slack ID (U0123ABCD, or S0123ABCD for a user group), "
            f"not `{quoted(value)}`."
        )
    found = await people.find(value)
    if found is None:
        raise Usage(f"I know no person or user group called `{quoted(value)}`.")
    return found.id
