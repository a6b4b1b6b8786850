"""Query parameters of the REST API, declared once: the same declaration parses a request
(a bad or unknown parameter is a 400 that names it and says why) and describes the parameter
in the OpenAPI document."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from bot.core.events import MAX_INVENTORY, MAX_NAME_CHARS

MAX_PAGE = 1_000
_CURSOR = re.compile(r"\d{1,12}(\.\d{1,12})?")


class ApiError(Exception):
    """A request the API refuses: HTTP `status`, a short `error` code, and why."""

    def __init__(self, status: int, error: str, detail: str, parameter: str | None = None) -> None:
        super().__init__(detail)
        self.status, self.error, self.detail, self.parameter = status, error, detail, parameter

    def body(self) -> dict:
        return {"error": self.error, "parameter": self.parameter, "detail": self.detail}


@dataclass(frozen=True, slots=True)
class Param:
    """One query parameter. `kind`: name, integer, time (ISO 8601), choice, cursor."""

    name: str
    kind: str
    description: str
    minimum: int | None = None
    maximum: int | None = None
    choices: tuple[str, ...] = ()
    default: object = None

    def schema(self) -> dict:
        """The parameter's schema in the OpenAPI document."""
        if self.kind == "name":
            schema = {"type": "string", "minLength": 1, "maxLength": MAX_NAME_CHARS}
        elif self.kind == "integer":
            schema = {"type": "integer", "minimum": self.minimum, "maximum": self.maximum}
        elif self.kind == "time":
            schema = {"type": "string", "format": "date-time"}
        elif self.kind == "choice":
            schema = {"type": "string", "enum": list(self.choices)}
        else:  # cursor: what `next` said
            schema = {"type": "string", "pattern": f"^{_CURSOR.pattern}$"}
        if self.default is not None:
            schema["default"] = self.default
        return schema

    def parse(self, text: str) -> object:
        if self.kind == "name":
            if not text.strip() or len(text) > MAX_NAME_CHARS:
                self._bad(f"must be a name of 1 to {MAX_NAME_CHARS} characters")
            return text
        if self.kind == "integer":
            if not re.fullmatch(r"-?\d{1,9}", text.strip()):
                self._bad(f"must be a whole number, got {_shown(text)}")
            value = int(text)
            if not self.minimum <= value <= self.maximum:
                self._bad(f"must be from {self.minimum:,} to {self.maximum:,}, got {value:,}")
            return value
        if self.kind == "time":
            try:
                moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
            except ValueError:
                self._bad(f"must be an ISO 8601 time like 2026-11-22T09:30:00Z, got {_shown(text)}")
            if moment.tzinfo is None:
                moment = moment.replace(tzinfo=UTC)
            return moment.timestamp()
        if self.kind == "choice":
            if text not in self.choices:
                self._bad(f"must be one of {', '.join(self.choices)}, got {_shown(text)}")
            return text
        if not _CURSOR.fullmatch(text):
            self._bad(f"must be the `next` value of a previous page, got {_shown(text)}")
        return text

    def _bad(self, detail: str) -> None:
        raise ApiError(400, "bad_parameter", f"{self.name} {detail}", self.name)


def parse_query(query: Mapping[str, str], params: Sequence[Param], keys: Sequence[str]) -> dict:
    """The request's parameters by name (defaults filled in). `keys` are the names as sent,
    repeats included: a parameter given twice, or one this endpoint does not take, is a 400."""
    known = {p.name: p for p in params}
    seen: set[str] = set()
    for key in keys:
        if key not in known:
            takes = ", ".join(known) or "no parameters"
            raise ApiError(
                400, "unknown_parameter", f"{key} is not a parameter here ({takes})", key
            )
        if key in seen:
            raise ApiError(400, "bad_parameter", f"{key} is given more than once", key)
        seen.add(key)
    return {p.name: p.parse(query[p.name]) if p.name in query else p.default for p in params}


def _shown(text: str) -> str:
    return repr(text if len(text) <= 40 else text[:40] + "…")


STORE = Param("store", "name", "Only this store (its exact name).")
MODEL = Param("model", "name", "Only this model (its exact name).")
LIMIT = Param("limit", "integer", "Items per page.", minimum=1, maximum=MAX_PAGE, default=100)
AFTER = Param("after", "cursor", "The `next` value of the previous page.")
BELOW = Param(
    "below", "integer", "Only levels below this many pairs.", minimum=0, maximum=MAX_INVENTORY + 1
)
ABOVE = Param(
    "above", "integer", "Only levels above this many pairs.", minimum=-1, maximum=MAX_INVENTORY
)
