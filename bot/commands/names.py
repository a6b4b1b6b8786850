"""The store or model a person meant, from the names stored (bot/core/names.py does the
matching); an unknown or ambiguous name is a Usage error that lists the closest choices."""

from __future__ import annotations

from bot.commands.parse import Usage
from bot.core.names import Found, Kind, NameIndex
from bot.core.rules import ANY
from bot.mrkdwn import escape, quoted
from bot.store.reads import Reads


class Names:
    """Finds names in what the feed has reported, rebuilding the index when a name is new."""

    def __init__(self, reads: Reads) -> None:
        self._reads = reads
        self._index: NameIndex | None = None
        self._version: tuple[int, int] | None = None

    async def find(self, query: str, kind: Kind | None = None) -> Found:
        """The store or model (or only `kind`) that `query` names."""
        index = await self._current()
        if not len(index):
            raise Usage("No sales have come in yet, so I know no stores or models.")
        found = index.find(query, kind=kind)
        if isinstance(found, Found):
            return found
        what = kind.value if kind else "store or model"
        if not found.choices:
            raise Usage(f"I know no {what} called `{quoted(query)}`.")
        choices = ", ".join(f"`{escape(c.name)}`" for c in found.choices)
        if found.ambiguous:
            raise Usage(f"`{quoted(query)}` could be {choices}. Which one?")
        raise Usage(f"I know no {what} called `{quoted(query)}`. Closest: {choices}.")

    async def name(self, query: str, kind: Kind) -> str:
        return (await self.find(query, kind)).named.name

    async def search(self, query: str, kind: Kind, *, limit: int) -> list[str]:
        """Stored names of `kind` that `query` may mean, best first (see NameIndex.search)."""
        return (await self._current()).search(query, kind, limit=limit)

    async def store_and_model(self, named: dict[str, str]) -> tuple[str, str]:
        """The store= and model= options as stored names (ANY where not given)."""
        store = await self.name(named["store"], Kind.STORE) if "store" in named else ANY
        model = await self.name(named["model"], Kind.MODEL) if "model" in named else ANY
        return store, model

    async def _current(self) -> NameIndex:
        version = await self._reads.names_version()
        if self._index is None or version != self._version:
            stores, models = await self._reads.name_lists()
            self._index, self._version = NameIndex(stores, models), version
        return self._index
