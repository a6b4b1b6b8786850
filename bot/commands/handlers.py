"""The slash commands: /stock, /transfers, /thresholds and /alerts.

`Commands.handle` takes what someone typed and returns a Reply; it never raises. Reads come from
a read-only connection to the stored state; changes go to the writer as commands and are
answered once committed.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import aiosqlite

from bot.commands.parse import (
    Usage,
    count,
    duration,
    incident_id,
    level,
    numbered,
    options,
    words,
)
from bot.commands.replies import Reply, ago, answer, problem, sentence
from bot.core.alerts import Severity
from bot.core.engine import SNOOZE_CHOICES, AlertEngine, CommandError, EngineSettings
from bot.core.incidents import Incident, Kind
from bot.core.names import Found, NameIndex
from bot.core.names import Kind as NameKind
from bot.core.replay import tally
from bot.core.rules import (
    ANY,
    Channel,
    QuietHours,
    Rule,
    RuleBook,
    RuleError,
    Scope,
    Thresholds,
    parse_quiet_hours,
)
from bot.core.transfer_book import Transfer
from bot.core.velocity import describe_pace
from bot.slack.render import escape
from bot.store import queries
from bot.store.schema import LOW_LISTED

log = logging.getLogger(__name__)

ROWS = 20  # rows a /stock answer lists
PREVIEW_HOURS = 24
PREVIEW_MAX_SALES = 1_000_000
ICONS = {
    Severity.OUT: ":red_circle:",
    Severity.LOW: ":large_orange_circle:",
    Severity.HIGH: ":large_blue_circle:",
}

Mutate = Callable[[Callable[[AlertEngine, float], object]], Awaitable[object]]


@dataclass(frozen=True)
class Request:
    """A command as someone typed it, where and who."""

    command: str  # "stock", "transfers", "thresholds" or "alerts" (with or without the slash)
    text: str
    channel: str
    user: str


class Commands:
    """Answers commands; see the module docstring."""

    def __init__(
        self,
        db: aiosqlite.Connection,
        mutate: Mutate,
        *,
        admins: frozenset[str] = frozenset(),
        engine_settings: EngineSettings | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._db = db
        self._mutate = mutate
        self._admins = admins
        self._engine_settings = engine_settings or EngineSettings()
        self._clock = clock
        self._names: NameIndex | None = None
        # Called with (command, seconds taken, refused) after each answer: the metrics.
        self.answered: list[Callable[[str, float, bool], None]] = []
        self._names_version: tuple[int, int] | None = None
        self._handlers = {
            "stock": self._stock,
            "transfers": self._transfers,
            "thresholds": self._thresholds,
            "alerts": self._alerts,
        }

    async def handle(self, request: Request) -> Reply:
        """The reply to `request`, whatever was typed; never raises."""
        started = time.perf_counter()
        reply = await self._answer(request)
        for listener in self.answered:
            listener(request.command.lstrip("/"), time.perf_counter() - started, reply.error)
        return reply

    async def _answer(self, request: Request) -> Reply:
        handler = self._handlers.get(request.command.lstrip("/"))
        if handler is None:
            return problem(f"I don't know the command `{request.command[:30]}`.")
        try:
            return await handler(request, words(request.text))
        except Usage as error:
            return problem(str(error))
        except (CommandError, RuleError) as error:
            return problem(sentence(str(error)))
        except Exception:
            log.exception("command failed", extra={"command": request.command})
            return problem("Something went wrong on my side; it is in the bot's log.")

    # -- /stock ---------------------------------------------------------------------------

    async def _stock(self, request: Request, tokens: list[str]) -> Reply:
        if tokens[:1] == ["help"]:
            return _help("stock")
        now = self._clock()
        alerting = {
            (i.store, i.model): i
            for i in await queries.open_incidents(self._db, request.channel)
            if i.kind in (Kind.LOW, Kind.HIGH)
        }
        share = {"command": "stock", "text": request.text}
        if not tokens:
            channel = await queries.channel_config(self._db, request.channel)
            scope = channel.scope
            rows = await queries.lowest_levels(
                self._db, stores=scope.stores, models=scope.models, limit=ROWS
            )
            title = "Lowest stock in this channel's scope"
            if scope.stores is None and scope.models is None:
                title = f"Lowest stock in the chain (at most {LOW_LISTED} pairs)"
            lines = [_stock_line(r, alerting.get((r.store, r.model)), now, both=True) for r in rows]
            if not lines:
                lines = ["Nothing is low. `/stock <store or model>` shows any store or model."]
            footer = f"Watching {scope.describe()} · lowest first · `/stock <store or model>`"
            return answer(title, lines, footer=footer, share=share)
        found = await self._find(" ".join(tokens))
        name = found.named.name
        if found.named.kind is NameKind.STORE:
            rows = await queries.lowest_levels(self._db, store=name, limit=ROWS)
            total = await queries.count_levels(self._db, store=name)
            title = f"Stock at {escape(name)}"
        else:
            rows = await queries.lowest_levels(self._db, model=name, limit=ROWS)
            total = await queries.count_levels(self._db, model=name)
            title = f"Stock of {escape(name)}"
        lines = [
            _stock_line(
                r,
                alerting.get((r.store, r.model)),
                now,
                both=False,
                store=found.named.kind is NameKind.MODEL,
            )
            for r in rows
        ]
        more = f" · {total - len(rows)} more" if total > len(rows) else ""
        return answer(
            title, lines, footer=f"Lowest first · {len(rows)} of {total}{more}", share=share
        )

    # -- /transfers -----------------------------------------------------------------------

    async def _transfers(self, request: Request, tokens: list[str]) -> Reply:
        action = tokens[0].lower() if tokens else ""
        if action == "help":
            return _help("transfers")
        if action in ("accept", "dismiss", "cancel"):
            return await self._change_transfer(request, action, tokens[1:])
        now = self._clock()
        share = {"command": "transfers", "text": request.text}
        if tokens:
            found = await self._find(" ".join(tokens))
            name = found.named.name
            kind = "store" if found.named.kind is NameKind.STORE else "model"
            where: dict = {kind: name}
            title = f"Transfers {'to and from' if kind == 'store' else 'of'} {escape(name)}"
        else:
            scope = (await queries.channel_config(self._db, request.channel)).scope
            where = {"stores": scope.stores, "models": scope.models}
            title = "Transfer suggestions"
            if scope.stores is not None or scope.models is not None:
                title += " in this channel's scope"
        suggested, total = await queries.suggestions(self._db, **where, limit=ROWS)
        underway = await queries.open_transfers(self._db, **where, limit=ROWS)
        lines = [f"`S{s.id}` {escape(s.suggestion.why)}" for s in suggested]
        if total > len(suggested):
            shown = len(suggested)
            lines.append(
                f"… and {queries.more(total, shown)} more; name a store or model to narrow."
            )
        if not suggested:
            lines.append(
                "No transfer would help now: no store is short where another has stock to spare."
            )
        if underway:
            lines.append("*Accepted, on their way*")
            lines += [_transfer_line(t, now) for t in underway]
        return answer(
            title,
            lines,
            footer="Worst shortage first · `/transfers accept S12` · `/transfers dismiss S12` · "
            "`/transfers cancel T3`",
            share=share,
            buttons=[("transfer_accept", f"Accept S{s.id}", str(s.id)) for s in suggested],
        )

    async def _change_transfer(self, request: Request, action: str, tokens: list[str]) -> Reply:
        letter, what = ("T", "transfer") if action == "cancel" else ("S", "suggestion")
        if len(tokens) != 1:
            raise Usage(f"Which {what}? `/transfers {action} {letter}12` (its number is listed).")
        number = numbered(tokens[0], letter, what)
        user = request.user
        if action == "accept":
            t = await self._mutate(lambda e, at: e.accept_transfer(number, user, at))
            return Reply(
                text=f":white_check_mark: Accepted as transfer T{t.id}: {escape(t.why)}. Its "
                "pairs are reserved; it is marked received when the stock arrives.",
                announce=f":truck: <@{user}> accepted transfer T{t.id}: {escape(t.why)}.",
            )
        if action == "dismiss":
            t = await self._mutate(lambda e, at: e.dismiss_transfer(number, user, at))
            return Reply(
                text=f":white_check_mark: Dismissed S{number}: it will not be suggested again "
                "for a day."
            )
        t = await self._mutate(lambda e, at: e.cancel_transfer(number, user, at))
        return Reply(
            text=f":white_check_mark: Cancelled transfer T{t.id}: its pairs are free again.",
            announce=f":truck: <@{user}> cancelled transfer T{t.id}: {escape(t.why)}.",
        )

    # -- /thresholds ----------------------------------------------------------------------

    async def _thresholds(self, request: Request, tokens: list[str]) -> Reply:
        action = tokens[0].lower() if tokens else "show"
        rest = tokens[1:]
        if action == "help":
            return _help("thresholds")
        if action == "show":
            if rest:
                raise Usage("`/thresholds` shows this channel's rules; it takes no more words.")
            return await self._show_rules(request.channel)
        if action == "preview":
            return await self._preview(request, rest)
        if action not in ("set", "clear", "watch", "quiet"):
            raise Usage(
                f"I don't know `/thresholds {_quoted(action)}`. Try `set`, `clear`, `watch`, "
                "`quiet`, `preview`, or `/thresholds help`."
            )
        if self._admins and request.user not in self._admins:
            who = ", ".join(f"<@{a}>" for a in sorted(self._admins))
            raise Usage(f"Only {who} can change this channel's rules. Nothing was changed.")
        if action == "set":
            store, model, thresholds = await self._rule_request(request.channel, rest)
            change = await self._mutate(
                lambda e, at: e.set_rule(
                    request.channel,
                    store=store,
                    model=model,
                    thresholds=thresholds,
                    user=request.user,
                    now=at,
                )
            )
        elif action == "clear":
            plain, named = options(rest, ("store", "model"))
            if plain:
                raise Usage(
                    f"`/thresholds clear` takes store= and model=, not `{_quoted(plain[0])}`."
                )
            store, model = await self._scope_names(named)
            change = await self._mutate(
                lambda e, at: e.clear_rule(
                    request.channel, store=store, model=model, user=request.user, now=at
                )
            )
        elif action == "watch":
            scope = await self._watch_request(rest)
            change = await self._mutate(
                lambda e, at: e.watch(request.channel, scope, user=request.user, now=at)
            )
        else:
            quiet = _quiet_request(rest)
            change = await self._mutate(
                lambda e, at: e.set_quiet_hours(request.channel, quiet, user=request.user, now=at)
            )
        summary = escape(change.summary)
        return Reply(
            text=f":white_check_mark: Saved: {summary}.",
            announce=f":gear: <@{request.user}> changed this channel's alert rules: {summary}.",
        )

    async def _show_rules(self, channel_id: str) -> Reply:
        channel = await queries.channel_config(self._db, channel_id)
        now = self._clock()
        lines = [
            f"Watching: {escape(channel.scope.describe())}",
            f"Quiet hours: {channel.quiet.describe() if channel.quiet else 'none'}",
        ]
        rules = sorted(
            channel.rules.values(), key=lambda r: (bool(r.store), bool(r.model), r.store, r.model)
        )
        for r in rules:
            by = f"set by {_who(r.updated_by)} {ago(r.updated_at, now)}"
            lines.append(f"• {escape(r.describe())}{_gate(r.thresholds)} · {by}")
        if not rules:
            lines.append(
                "No rules: this channel gets no stock alerts. "
                "`/thresholds set low=10 high=80` starts."
            )
        changes = await queries.config_changes(self._db, channel_id)
        if changes:
            lines.append("*Latest changes*")
            lines += [
                f"{ago(at, now)}: {_who(user)} {escape(summary)}"
                for at, user, _, summary in changes
            ]
        return answer(
            "Alert rules in this channel", lines, footer="`/thresholds help` for how to change them"
        )

    async def _rule_request(
        self, channel_id: str, tokens: list[str]
    ) -> tuple[str, str, Thresholds]:
        plain, named = options(tokens, ("low", "high", "store", "model", "gate", "wait"))
        if plain:
            raise Usage(
                f"I don't understand `{_quoted(plain[0])}`: use name=value, like low=5 high=80."
            )
        if not {"low", "high", "gate", "wait"} & named.keys():
            raise Usage(
                "Say what to set: low=, high=, gate= (readings) or wait= (time), "
                "like low=5 high=80."
            )
        store, model = await self._scope_names(named)
        channel = await queries.channel_config(self._db, channel_id)
        # Unsaid values come from the rule for exactly this store and model, else from the rule
        # that applies there now, else from the defaults.
        base = channel.rules.get((store, model))
        if base is None:
            applies = channel.rule_for(store or "\0", model or "\0") if (store or model) else None
            base = applies or channel.rules.get((ANY, ANY))
        t = base.thresholds if base is not None else Thresholds()
        thresholds = Thresholds(
            low=level("low", named["low"]) if "low" in named else t.low,
            high=level("high", named["high"]) if "high" in named else t.high,
            gate_readings=count("gate", named["gate"], 1, 100)
            if "gate" in named
            else t.gate_readings,
            gate_seconds=duration("wait", named["wait"], most=86_400)
            if "wait" in named
            else t.gate_seconds,
        )
        return store, model, thresholds

    async def _watch_request(self, tokens: list[str]) -> Scope:
        if [t.lower() for t in tokens] == ["all"]:
            return Scope()
        plain, named = options(tokens, ("stores", "models"))
        if plain or not named:
            raise Usage(
                "`/thresholds watch all`, or watch stores= and/or models=, names "
                'separated by commas: stores="maine, auburn" models=aderi.'
            )
        stores = models = None
        if "stores" in named:
            stores = frozenset(
                [await self._name(n, NameKind.STORE) for n in _listed(named["stores"])]
            )
        if "models" in named:
            models = frozenset(
                [await self._name(n, NameKind.MODEL) for n in _listed(named["models"])]
            )
        return Scope(stores, models)

    async def _preview(self, request: Request, tokens: list[str]) -> Reply:
        store, model, thresholds = await self._rule_request(request.channel, tokens)
        channel = await queries.channel_config(self._db, request.channel)
        scope = channel.scope
        stores = {store} if store else scope.stores
        models = {model} if model else scope.models
        since = self._clock() - PREVIEW_HOURS * 3600
        sales, more = await queries.sales_since(
            self._db, since, stores=stores, models=models, limit=PREVIEW_MAX_SALES
        )
        proposed = Channel(channel.id, scope, channel.quiet, dict(channel.rules))
        proposed.rules[(store, model)] = Rule(channel.id, store, model, thresholds, request.user, 0)
        current_engine = AlertEngine(RuleBook({channel.id: channel}), self._engine_settings)
        proposed_engine = AlertEngine(RuleBook({channel.id: proposed}), self._engine_settings)
        settle = 30.0
        now_count = tally(current_engine, sales, tick=1.0, settle=settle)
        new_count = tally(proposed_engine, sales, tick=1.0, settle=settle)
        what = proposed.rules[(store, model)].describe()
        limited = f" (the latest {PREVIEW_MAX_SALES:,})" if more else ""
        lines = [
            f"Replaying the last {PREVIEW_HOURS} h of stored sales{limited}: {len(sales):,} sales.",
            f"*With {escape(what)}:* {_tally_line(new_count)}",
            f"*With the current rules:* {_tally_line(now_count)}",
            "Nothing was saved. `/thresholds set ...` with the same values saves it.",
        ]
        return answer("Preview", lines)

    # -- /alerts --------------------------------------------------------------------------

    async def _alerts(self, request: Request, tokens: list[str]) -> Reply:
        action = tokens[0].lower() if tokens else "list"
        if action == "help":
            return _help("alerts")
        if action == "list":
            if tokens[1:]:
                raise Usage("`/alerts` lists this channel's open alerts; it takes no more words.")
            return await self._list_alerts(request)
        if action not in ("ack", "acknowledge", "snooze", "mute", "unmute"):
            raise Usage(
                f"I don't know `/alerts {_quoted(action)}`. Try `ack`, `snooze`, `mute`, "
                "`unmute`, or `/alerts help`."
            )
        if len(tokens) < 2:
            raise Usage(f"Which alert? `/alerts {action} 12` (the number is on the alert).")
        number = incident_id(tokens[1])
        found = await queries.incident(self._db, number)
        if found is None or found.channel != request.channel:
            raise Usage(f"There is no alert #{number} in this channel.")
        user = request.user
        if action in ("ack", "acknowledge"):
            if len(tokens) > 2:
                raise Usage("`/alerts ack 12` takes no more words.")
            await self._mutate(lambda e, at: e.acknowledge(number, user, at))
            done = f"acknowledged #{number}"
        elif action == "snooze":
            if len(tokens) > 3:
                raise Usage("`/alerts snooze 12 4h` takes no more words.")
            seconds = (
                duration("snooze", tokens[2], most=7 * 86_400)
                if len(tokens) > 2
                else SNOOZE_CHOICES[0]
            )
            if seconds < 60:
                raise Usage("A snooze lasts a minute at least.")
            await self._mutate(lambda e, at: e.snooze(number, user, seconds, at))
            done = f"snoozed #{number} for {_hours(seconds)}"
        elif len(tokens) > 2:
            raise Usage(f"`/alerts {action} 12` takes no more words.")
        elif action == "mute":
            await self._mutate(lambda e, at: e.mute(number, user, at))
            done = f"muted what #{number} is about, in this channel"
        else:
            await self._mutate(lambda e, at: e.unmute(number, user, at))
            done = f"unmuted what #{number} is about"
        return Reply(text=f":white_check_mark: Done: {done}. Its message shows it.")

    async def _list_alerts(self, request: Request) -> Reply:
        now = self._clock()
        incidents = await queries.open_incidents(self._db, request.channel)
        lines = [_alert_line(i, now) for i in incidents[:40]]
        if len(incidents) > 40:
            lines.append(f"… and {len(incidents) - 40} more.")
        if not lines:
            lines = ["No open alerts in this channel."]
        footer = "`/alerts ack 12` · `/alerts snooze 12 4h` · `/alerts mute 12` · `/alerts help`"
        return answer(
            f"Open alerts in this channel ({len(incidents)})",
            lines,
            footer=footer,
            share={"command": "alerts", "text": ""},
        )

    # -- names ----------------------------------------------------------------------------

    async def _index(self) -> NameIndex:
        version = await queries.names_version(self._db)
        if self._names is None or version != self._names_version:
            stores, models = await queries.name_lists(self._db)
            self._names, self._names_version = NameIndex(stores, models), version
        return self._names

    async def _find(self, query: str, kind: NameKind | None = None) -> Found:
        index = await self._index()
        if not len(index):
            raise Usage("No sales have come in yet, so I know no stores or models.")
        found = index.find(query, kind=kind)
        if isinstance(found, Found):
            return found
        what = kind.value if kind else "store or model"
        if not found.choices:
            raise Usage(f"I know no {what} called `{_quoted(query)}`.")
        choices = ", ".join(f"`{escape(c.name)}`" for c in found.choices)
        if found.ambiguous:
            raise Usage(f"`{_quoted(query)}` could be {choices}. Which one?")
        raise Usage(f"I know no {what} called `{_quoted(query)}`. Closest: {choices}.")

    async def _name(self, query: str, kind: NameKind) -> str:
        return (await self._find(query, kind)).named.name

    async def _scope_names(self, named: dict[str, str]) -> tuple[str, str]:
        store = await self._name(named["store"], NameKind.STORE) if "store" in named else ANY
        model = await self._name(named["model"], NameKind.MODEL) if "model" in named else ANY
        return store, model


def _stock_line(
    row: queries.Level, incident: Incident | None, now: float, *, both: bool, store: bool = True
) -> str:
    name = f"{row.model} at {row.store}" if both else (row.store if store else row.model)
    pace = describe_pace(row.inventory, row.rate(now).risk)
    line = f"`{row.inventory:>5}` {escape(name)} · {pace} · last sale {ago(row.last_sale_at, now)}"
    if incident is not None and incident.severity is not None:
        label = {"out": "out of stock", "low": "low", "high": "overstock"}[incident.severity.value]
        line += f" · {ICONS[incident.severity]} {label} `#{incident.id}`"
    return line


def _transfer_line(t: Transfer, now: float) -> str:
    state = "left the source" if t.sent else "not seen leaving yet"
    return (
        f"`T{t.id}` {t.quantity} {escape(t.model)} from {escape(t.source)} to "
        f"{escape(t.target)} · accepted by <@{t.by}> {ago(t.at, now)} · {state}"
    )


def _alert_line(i: Incident, now: float) -> str:
    icon = ICONS.get(i.severity, ":warning:") if i.severity else ":warning:"
    if i.kind in (Kind.LOW, Kind.HIGH):
        what = {
            "out": "out of stock",
            "low": f"low, {i.level} left",
            "high": f"overstock, {i.level}",
        }[i.severity.value]
        name = f"{i.model} at {i.store}"
    elif i.kind is Kind.CHAIN:
        what, name = f"short in {i.detail.get('stores', '?')} stores", i.model or ""
    elif i.kind is Kind.FLAPPING:
        what, name = "flapping", f"{i.model} at {i.store}"
    else:
        what, name = i.kind.value.replace("_", " "), i.store or ""
    notes = []
    if i.acked_by:
        notes.append(f"acknowledged by <@{i.acked_by}>")
    if i.snoozed_until and i.snoozed_until > now:
        notes.append(f"snoozed until <!date^{int(i.snoozed_until)}^{{time}}|later>")
    if i.muted_by:
        notes.append("muted")
    extra = f" · {', '.join(notes)}" if notes else ""
    return f"{icon} `#{i.id}` {escape(name)}: {what} · since {ago(i.fired_at, now)}{extra}"


def _tally_line(t) -> str:
    kinds = ", ".join(f"{n} {name}" for name, n in sorted(t.incidents.items())) or "none"
    return (
        f"{t.messages} new messages, {t.edits} edits, {sum(t.incidents.values())} alerts ({kinds})"
    )


def _gate(t: Thresholds) -> str:
    return f" · after {t.gate_readings} readings and {t.gate_seconds:g} s"


def _who(user: str) -> str:
    return "the settings" if user == "settings" else f"<@{user}>"


def _hours(seconds: float) -> str:
    return f"{seconds / 3600:g} h" if seconds >= 3600 else f"{seconds / 60:g} min"


def _quoted(text: str) -> str:
    text = text if len(text) <= 40 else text[:40] + "…"
    return escape(text.replace("`", "'"))


def _listed(value: str) -> list[str]:
    names = [n.strip() for n in value.split(",") if n.strip()]
    if not names or len(names) > 200:
        raise Usage("Give one or more names, separated by commas.")
    return names


def _quiet_request(tokens: list[str]) -> QuietHours | None:
    if [t.lower() for t in tokens] == ["off"]:
        return None
    if not 1 <= len(tokens) <= 2:
        raise Usage(
            "`/thresholds quiet 22:00-07:00 America/Toronto` (the zone is optional, UTC "
            "if not given), or `/thresholds quiet off`."
        )
    try:
        return parse_quiet_hours(tokens[0], tokens[1] if len(tokens) > 1 else "UTC")
    except RuleError as error:
        raise Usage(sentence(str(error))) from None


HELP = {
    "stock": [
        "`/stock` the lowest stock in this channel's scope, lowest first",
        "`/stock maine` one store (or one model: `/stock aderi`), lowest first",
        "Names match without case, by a start of a word, or close spelling.",
    ],
    "transfers": [
        "`/transfers` suggested moves between stores, worst shortage first, and the transfers "
        "accepted and on their way; `/transfers maine` for one store or model",
        "`/transfers accept S12` takes a suggestion on: its pairs are reserved until the stock "
        "is seen arriving. `/transfers dismiss S12` turns one down for a day; "
        "`/transfers cancel T3` takes an accepted transfer back.",
        "A suggestion keeps the giving store above its low threshold and moves stock towards "
        "equal days of cover at the current sales pace (equal levels while the pace is not "
        "known).",
    ],
    "thresholds": [
        "`/thresholds` this channel's rules and their latest changes",
        "`/thresholds set low=5 high=80` the channel's default; add `store=` and/or `model=` "
        "for a narrower rule (the most specific applies). `low=off`/`high=off` turn a side off; "
        "`gate=3` readings and `wait=2m` before alerting.",
        "`/thresholds clear store=maine` removes a rule",
        '`/thresholds watch all`, or `watch stores="maine, auburn" models=aderi`',
        "`/thresholds quiet 22:00-07:00 America/Toronto` or `quiet off`: only out of stock "
        "alerts in those hours, the rest in one summary after",
        "`/thresholds preview low=5 ...` what the rule would have said over the last 24 h",
        'Names with spaces go in quotes: store="ALDO Maine Mall".',
    ],
    "alerts": [
        "`/alerts` this channel's open alerts",
        "`/alerts ack 12`, `/alerts snooze 12 4h`, `/alerts mute 12`, `/alerts unmute 12`",
    ],
}


def _help(command: str) -> Reply:
    return answer(f"/{command}", HELP[command])
