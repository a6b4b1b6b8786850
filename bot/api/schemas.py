"""What the REST API answers, as pydantic models: they shape each response and give the
OpenAPI document its schemas, so the two cannot drift apart."""

from __future__ import annotations

from datetime import datetime
from typing import Generic, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field

T = TypeVar("T")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Page(_Strict, Generic[T]):
    """One page of a list. Pass `next` as the `after` (or `before`) parameter for the next
    page; null means this was the last."""

    items: list[T]
    next: str | None = Field(description="Cursor of the next page, or null at the end.")


class StockItem(_Strict):
    store: str
    model: str
    inventory: int = Field(description="Pairs left after the last sale reported.")
    last_sale_at: datetime
    sales: int = Field(description="Sales received for this store and model.")
    per_hour: float | None = Field(
        description="Pairs sold per hour in stock at the current pace; null until known."
    )
    hours_to_zero: float | None = Field(
        description="Hours until none is left at that pace; null if unknown or nothing sells."
    )


class NameItem(_Strict):
    name: str
    first_seen_at: datetime


class AlertItem(_Strict):
    id: int
    channel: str
    kind: str = Field(description="low, high, chain, flapping, feed_down or bad_frames.")
    severity: str | None = Field(description="out, low or high for stock alerts.")
    store: str | None
    model: str | None
    level: int | None
    threshold: int | None
    opened_at: datetime
    fired_at: datetime
    acknowledged_by: str | None
    snoozed_until: datetime | None
    muted_by: str | None


class TransferItem(_Strict):
    id: str = Field(description="S12 for a suggestion, T3 for an accepted transfer.")
    state: Literal["suggested", "accepted", "received", "expired", "cancelled", "dismissed"]
    model: str
    source: str
    target: str
    quantity: int
    why: str
    at: datetime = Field(description="When it was planned, or accepted (or dismissed).")
    by: str | None = Field(description="Who accepted or dismissed it.")
    closed_at: datetime | None


class EventItem(_Strict):
    id: int
    at: datetime
    feed: str
    store: str
    model: str
    inventory: int


class RuleItem(_Strict):
    store: str | None = Field(description="The store it is narrowed to; null: every store.")
    model: str | None = Field(description="The model it is narrowed to; null: every model.")
    low: int | None = Field(
        description="Alert at this many pairs or fewer (with low_days: until a pace is known)."
    )
    high: int | None = Field(description="Alert at this many pairs or more (likewise).")
    low_days: float | None = Field(
        description="Alert when the stock would last this many days or less at its pace."
    )
    high_days: float | None = Field(description="...or this many days or more.")
    gate_readings: int = Field(description="Readings a level must last before it alerts.")
    gate_seconds: float = Field(description="...and seconds.")
    owner: str | None = Field(description="Slack user (U..., W...) or user group (S...) ID.")
    second_owner: str | None = Field(description="Called too when an alert escalates.")
    escalate_seconds: float | None = Field(
        description="The owners are called again if nobody acknowledges an alert this soon."
    )
    updated_by: str
    updated_at: datetime


class QuietHoursItem(_Strict):
    start: str = Field(description="HH:MM, local time.")
    end: str
    timezone: str = Field(description="An IANA time zone name.")


class MuteItem(_Strict):
    kind: str
    store: str | None
    model: str | None
    by: str
    at: datetime
    until: datetime | None = Field(description="null: until someone unmutes it.")


class ChannelRules(_Strict):
    channel: str
    stores: list[str] | None = Field(description="The stores watched; null: every store.")
    models: list[str] | None = Field(description="The models watched; null: every model.")
    quiet_hours: QuietHoursItem | None
    rules: list[RuleItem]
    mutes: list[MuteItem]


class ErrorBody(_Strict):
    error: str = Field(description="bad_parameter, unknown_parameter, unauthorized, not_found...")
    parameter: str | None = Field(description="The query parameter at fault, if one is.")
    detail: str


# Named pages: the OpenAPI document refers to each by this name.
class StockPage(Page[StockItem]):
    pass


class NamePage(Page[NameItem]):
    pass


class AlertPage(Page[AlertItem]):
    pass


class TransferPage(Page[TransferItem]):
    pass


class EventPage(Page[EventItem]):
    pass


class RulesPage(Page[ChannelRules]):
    pass
