"""`/stock [store or model]`: levels, lowest first, with pace, last sale and alert state."""

from __future__ import annotations

from bot.commands.help import help_reply
from bot.commands.replies import Reply, answer
from bot.commands.request import Context, Request
from bot.commands.rows import stock_line
from bot.core.alerting.incidents import Kind
from bot.core.names import Kind as NameKind
from bot.mrkdwn import escape
from bot.store.rows import LOW_LISTED

ROWS = 20  # rows an answer lists


async def stock(ctx: Context, request: Request, tokens: list[str]) -> Reply:
    if tokens[:1] == ["help"]:
        return help_reply("stock")
    now = ctx.clock()
    alerting = {
        (i.store, i.model): i
        for i in await ctx.reads.open_incidents(request.channel)
        if i.kind in (Kind.LOW, Kind.HIGH)
    }
    share = {"command": "stock", "text": request.text}
    if not tokens:
        channel = await ctx.reads.channel_config(request.channel)
        scope = channel.scope
        rows = await ctx.reads.lowest_levels(stores=scope.stores, models=scope.models, limit=ROWS)
        title = "Lowest stock in this channel's scope"
        if scope.stores is None and scope.models is None:
            title = f"Lowest stock in the chain (at most {LOW_LISTED} pairs)"
        lines = [stock_line(r, alerting.get((r.store, r.model)), now, both=True) for r in rows]
        if not lines:
            lines = ["Nothing is low. `/stock [store or model]` shows any store or model."]
        footer = f"Watching {escape(scope.describe())} · lowest first · `/stock [store or model]`"
        return answer(title, lines, footer=footer, share=share)
    found = await ctx.names.find(" ".join(tokens))
    name = found.named.name
    if found.named.kind is NameKind.STORE:
        rows = await ctx.reads.lowest_levels(store=name, limit=ROWS)
        total = await ctx.reads.count_levels(store=name)
        title = f"Stock at {escape(name)}"
    else:
        rows = await ctx.reads.lowest_levels(model=name, limit=ROWS)
        total = await ctx.reads.count_levels(model=name)
        title = f"Stock of {escape(name)}"
    by_model = found.named.kind is NameKind.MODEL
    lines = [
        stock_line(r, alerting.get((r.store, r.model)), now, both=False, store=by_model)
        for r in rows
    ]
    more = f" · {total - len(rows)} more" if total > len(rows) else ""
    return answer(title, lines, footer=f"Lowest first · {len(rows)} of {total}{more}", share=share)
