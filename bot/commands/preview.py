"""`/thresholds preview low=5 ...`: what a proposed rule would have said over the last day,
beside what the current rules said, by replaying the stored sales through two fresh engines.
Nothing is saved.

A day can be a million sales, seconds of work: it must never hold up the feed or Slack's
acknowledgements. The sales are read a chunk at a time and replayed in a worker thread, one
preview at a time for the whole bot and one per channel (a second one is told to wait)."""

from __future__ import annotations

from bot.commands.parse import Usage
from bot.commands.replies import Reply, answer
from bot.commands.request import Context, Request
from bot.core.alerting.engine import AlertEngine
from bot.core.replay import Counting, Tally
from bot.core.rules import Channel, Rule, RuleBook
from bot.core.thresholds import Thresholds
from bot.core.velocity import PaceBook
from bot.mrkdwn import escape

PREVIEW_HOURS = 24
PREVIEW_MAX_SALES = 1_000_000
SETTLE = 30.0  # seconds ticked on after the last sale, so grouping windows close


async def preview(
    ctx: Context, request: Request, store: str, model: str, proposed: Thresholds
) -> Reply:
    previews = ctx.previews
    if request.channel in previews.running:
        raise Usage("A preview for this channel is running already: its answer comes soon.")
    previews.running.add(request.channel)
    try:
        return await _preview(ctx, request, store, model, proposed)
    finally:
        previews.running.discard(request.channel)


async def _preview(
    ctx: Context, request: Request, store: str, model: str, proposed: Thresholds
) -> Reply:
    lines = await replayed(
        ctx, request.channel, Rule(request.channel, store, model, proposed, request.user, 0)
    )
    lines.append("Nothing was saved. `/thresholds set ...` with the same values saves it.")
    return answer("Preview", lines)


async def replayed(ctx: Context, channel_id: str, rule: Rule) -> list[str]:
    """What the channel's rules, with `rule` in, would have put in Slack over the last day,
    beside what its rules did: a line each. The replay runs in the previews' worker thread."""
    channel = await ctx.reads.channel_config(channel_id)
    scope = channel.scope
    changed = Channel(channel.id, scope, channel.quiet, dict(channel.rules))
    changed.rules[(rule.store, rule.model)] = rule
    replays = [_counting(ctx, channel), _counting(ctx, changed)]
    chunks, more = await ctx.reads.sales_since(
        ctx.clock() - PREVIEW_HOURS * 3600,
        stores={rule.store} if rule.store else scope.stores,
        models={rule.model} if rule.model else scope.models,
        limit=PREVIEW_MAX_SALES,
    )
    async for chunk in chunks:
        await ctx.previews.work(_feed, replays, chunk)
    now_count, new_count = await ctx.previews.work(_finish, replays)
    limited = f" (the latest {PREVIEW_MAX_SALES:,})" if more else ""
    replayed = f"{now_count.sales:,} sales"
    return [
        f"Replaying the last {PREVIEW_HOURS} h of stored sales{limited}: {replayed}.",
        f"*With {escape(rule.describe())}:* {_tally_line(new_count)}",
        f"*With the current rules:* {_tally_line(now_count)}",
    ]


def _counting(ctx: Context, channel: Channel) -> Counting:
    # Paces of its own, learnt from the replayed sales: rules in days of cover need them.
    engine = AlertEngine(RuleBook({channel.id: channel}), ctx.engine_settings, paces=PaceBook())
    return Counting(engine, tick=1.0, settle=SETTLE)


def _feed(replays: list[Counting], chunk: list) -> None:
    for replay in replays:
        replay.feed(chunk)


def _finish(replays: list[Counting]) -> tuple[Tally, Tally]:
    now_count, new_count = (replay.finish() for replay in replays)
    return now_count, new_count


def _tally_line(t: Tally) -> str:
    kinds = ", ".join(f"{n} {name}" for name, n in sorted(t.incidents.items())) or "none"
    return (
        f"{t.messages} new messages, {t.edits} edits, {sum(t.incidents.values())} alerts ({kinds})"
    )
