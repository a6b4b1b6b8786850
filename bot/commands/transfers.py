"""`/transfers [store or model]`: suggested moves, worst shortage first, and the transfers on
their way; `/transfers accept S12`, `dismiss S12`, `cancel T3`. The Accept and Dismiss buttons
call `change` as the typed words do."""

from __future__ import annotations

from bot.commands.help import help_reply
from bot.commands.parse import Usage, numbered
from bot.commands.replies import Reply, answer
from bot.commands.request import Context, Request
from bot.commands.rows import transfer_line
from bot.core.alerting.actions import AcceptTransfer, CancelTransfer, DismissTransfer
from bot.core.names import Kind as NameKind
from bot.core.transfers.book import Transfer
from bot.mrkdwn import escape
from bot.store.rows import more

ROWS = 20
CHANGES = ("accept", "dismiss", "cancel")


async def transfers(ctx: Context, request: Request, tokens: list[str]) -> Reply:
    action = tokens[0].lower() if tokens else ""
    if action == "help":
        return help_reply("transfers")
    if action in CHANGES:
        letter, what = ("T", "transfer") if action == "cancel" else ("S", "suggestion")
        if len(tokens) != 2:
            raise Usage(f"Which {what}? `/transfers {action} {letter}12` (its number is listed).")
        number = numbered(tokens[1], letter, what)
        return await change(ctx, action, number, request.user, request.user_name)
    now = ctx.clock()
    share = {"command": "transfers", "text": request.text}
    if tokens:
        found = await ctx.names.find(" ".join(tokens))
        name = found.named.name
        kind = "store" if found.named.kind is NameKind.STORE else "model"
        where: dict = {kind: name}
        title = f"Transfers {'to and from' if kind == 'store' else 'of'} {escape(name)}"
    else:
        scope = (await ctx.reads.channel_config(request.channel)).scope
        where = {"stores": scope.stores, "models": scope.models}
        title = "Transfer suggestions"
        if scope.stores is not None or scope.models is not None:
            title += " in this channel's scope"
    suggested, total = await ctx.reads.suggestions(**where, limit=ROWS)
    underway = await ctx.reads.open_transfers(**where, limit=ROWS)
    lines = [f"`S{s.id}` {escape(s.suggestion.why)}" for s in suggested]
    if total > len(suggested):
        shown = len(suggested)
        lines.append(f"… and {more(total, shown)} more; name a store or model to narrow.")
    waiting = ctx.unplanned(where.get("model"))
    if waiting:
        # Never "nothing would help" about what was not planned yet.
        lines.append(f":hourglass_flowing_sand: {waiting}")
    elif not suggested:
        lines.append(
            "No transfer would help now: no store is short where another has stock to spare."
        )
    if underway:
        lines.append("*Accepted, on their way*")
        lines += [transfer_line(t, now) for t in underway]
    return answer(
        title,
        lines,
        footer="Worst shortage first · `/transfers accept S12` · `/transfers dismiss S12` · "
        "`/transfers cancel T3`",
        share=share,
        buttons=[("transfer_accept", f"Accept S{s.id}", str(s.id)) for s in suggested],
    )


async def change(ctx: Context, action: str, number: int, user: str, name: str = "") -> Reply:
    """Accept or dismiss suggestion `number`, or cancel transfer `number`; `name` is how alert
    threads name the person."""
    if action == "accept":
        t = await ctx.apply(AcceptTransfer(number, user, name))
        assert isinstance(t, Transfer)
        return Reply(
            text=f":white_check_mark: Accepted as transfer T{t.id}: {escape(t.why)}. Its "
            "pairs are reserved; it is marked received when the stock arrives.",
            announce=f":truck: <@{user}> accepted transfer T{t.id}: {escape(t.why)}.",
        )
    if action == "dismiss":
        await ctx.apply(DismissTransfer(number, user))
        return Reply(
            text=f":white_check_mark: Dismissed S{number}: it will not be suggested again "
            "for a day."
        )
    t = await ctx.apply(CancelTransfer(number, user, name))
    assert isinstance(t, Transfer)
    return Reply(
        text=f":white_check_mark: Cancelled transfer T{t.id}: its pairs are free again.",
        announce=f":truck: <@{user}> cancelled transfer T{t.id}: {escape(t.why)}.",
    )
