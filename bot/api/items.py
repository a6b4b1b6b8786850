"""The API's items from the store's rows: one function per kind of item (bot/api/schemas.py)."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.api.schemas import (
    AlertItem,
    ChannelRules,
    MuteItem,
    QuietHoursItem,
    RuleItem,
    StockItem,
    TransferItem,
)
from bot.core.alerting.incidents import Incident
from bot.core.rules import Channel
from bot.core.transfers.book import Suggested, Transfer
from bot.core.velocity import hours_to_zero
from bot.store.rows import Level, MuteRow


def time_of(at: float | None) -> datetime | None:
    return None if at is None else datetime.fromtimestamp(at, UTC)


def stock_item(level: Level, now: float) -> StockItem:
    per_hour = level.rate(now).risk
    return StockItem(
        store=level.store,
        model=level.model,
        inventory=level.inventory,
        last_sale_at=time_of(level.last_sale_at),
        sales=level.sale_count,
        per_hour=per_hour,
        hours_to_zero=hours_to_zero(level.inventory, per_hour),
    )


def alert_item(i: Incident) -> AlertItem:
    return AlertItem(
        id=i.id,
        channel=i.channel,
        kind=i.kind.value,
        severity=i.severity.value if i.severity else None,
        store=i.store,
        model=i.model,
        level=i.level,
        threshold=i.threshold,
        opened_at=time_of(i.opened_at),
        fired_at=time_of(i.fired_at),
        acknowledged_by=i.acked_by,
        snoozed_until=time_of(i.snoozed_until),
        muted_by=i.muted_by,
    )


def suggested_item(found: Suggested) -> TransferItem:
    s = found.suggestion
    return TransferItem(
        id=f"S{found.id}",
        state="suggested",
        model=s.model,
        source=s.source,
        target=s.target,
        quantity=s.quantity,
        why=s.why,
        at=time_of(found.planned_at),
        by=None,
        closed_at=None,
    )


def transfer_item(t: Transfer) -> TransferItem:
    return TransferItem(
        id=f"T{t.id}",
        state=t.status.value,
        model=t.model,
        source=t.source,
        target=t.target,
        quantity=t.quantity,
        why=t.why,
        at=time_of(t.at),
        by=t.by,
        closed_at=time_of(t.closed_at),
    )


def channel_rules(channel: Channel, mutes: list[MuteRow]) -> ChannelRules:
    scope, quiet = channel.scope, channel.quiet
    return ChannelRules(
        channel=channel.id,
        stores=sorted(scope.stores) if scope.stores is not None else None,
        models=sorted(scope.models) if scope.models is not None else None,
        quiet_hours=QuietHoursItem(
            start=f"{quiet.start:%H:%M}", end=f"{quiet.end:%H:%M}", timezone=quiet.timezone
        )
        if quiet is not None
        else None,
        rules=[
            RuleItem(
                store=r.store or None,
                model=r.model or None,
                low=r.thresholds.low,
                high=r.thresholds.high,
                low_days=r.thresholds.low_days,
                high_days=r.thresholds.high_days,
                gate_readings=r.thresholds.gate_readings,
                gate_seconds=r.thresholds.gate_seconds,
                owner=r.owner,
                second_owner=r.second_owner,
                escalate_seconds=r.escalate,
                updated_by=r.updated_by,
                updated_at=time_of(r.updated_at),
            )
            for r in sorted(channel.rules.values(), key=lambda r: (r.store, r.model))
        ],
        mutes=[
            MuteItem(
                kind=m.kind,
                store=m.store or None,
                model=m.model or None,
                by=m.by,
                at=time_of(m.at),
                until=time_of(m.until),
            )
            for m in mutes
        ],
    )
