"""`/thresholds preview low=5 ...`: what a proposed rule would have said over the last day,
beside what the current rules said, by replaying the stored sales through two fresh engines.
Nothing is saved."""

from __future__ import annotations

from bot.commands.replies import Reply, answer
from bot.commands.request import Context, Request
from bot.core.alerting.engine import AlertEngine
from bot.core.replay import Tally, tally
from bot.core.rules import Channel, Rule, RuleBook, Thresholds
from bot.mrkdwn import escape

PREVIEW_HOURS = 24
PREVIEW_MAX_SALES = 1_000_000
SETTLE = 30.0  # seconds ticked on after the last sale, so grouping windows close


async def preview(
    ctx: Context, request: Request, store: str, model: str, proposed: Thresholds
) -> Reply:
    channel = await ctx.reads.channel_config(request.channel)
    scope = channel.scope
    stores = {store} if store else scope.stores
    models = {model} if model else scope.models
    since = ctx.clock() - PREVIEW_HOURS * 3600
    sales, more = await ctx.reads.sales_since(
        since, stores=stores, models=models, limit=PREVIEW_MAX_SALES
    )
    changed = Channel(channel.id, scope, channel.quiet, dict(channel.rules))
    rule = Rule(channel.id, store, model, proposed, request.user, 0)
    changed.rules[(store, model)] = rule
    now_count = _replay(ctx, channel, sales)
    new_count = _replay(ctx, changed, sales)
    limited = f" (the latest {PREVIEW_MAX_SALES:,})" if more else ""
    lines = [
        f"Replaying the last {PREVIEW_HOURS} h of stored sales{limited}: {len(sales):,} sales.",
        f"*With {escape(rule.describe())}:* {_tally_line(new_count)}",
        f"*With the current rules:* {_tally_line(now_count)}",
        "Nothing was saved. `/thresholds set ...` with the same values saves it.",
    ]
    return answer("Preview", lines)


def _replay(ctx: Context, channel: Channel, sales: list) -> Tally:
    engine = AlertEngine(RuleBook({channel.id: channel}), ctx.engine_settings)
    return tally(engine, sales, tick=1.0, settle=SETTLE)


def _tally_line(t: Tally) -> str:
    kinds = ", ".join(f"{n} {name}" for name, n in sorted(t.incidents.items())) or "none"
    return (
        f"{t.messages} new messages, {t.edits} edits, {sum(t.incidents.values())} alerts ({kinds})"
    )
