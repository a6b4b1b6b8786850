"""Names (feeds, stores, models) mapped to the ids the event log and levels refer to."""

from __future__ import annotations

from collections.abc import Sequence


class NameIds:
    """Name -> id for one table. A new name gets its id when a batch is prepared, and its row
    goes into that batch's transaction; batches commit in order and a failed one is retried,
    so ids given out are never lost."""

    def __init__(self, table: str, rows: Sequence[tuple[int, str]]) -> None:
        self.table = table
        self.ids = {name: id_ for id_, name in rows}
        self.next_id = max(self.ids.values(), default=0) + 1
        self._new: list[tuple[int, str, float]] = []

    def id_for(self, name: str, at: float) -> int:
        found = self.ids.get(name)
        if found is None:
            found = self.ids[name] = self.next_id
            self.next_id += 1
            self._new.append((found, name, at))
        return found

    def take_new(self) -> list[tuple[int, str, float]]:
        """The names first seen since the last call, as rows to insert."""
        new, self._new = self._new, []
        return new
