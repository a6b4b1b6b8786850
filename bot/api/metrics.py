"""/metrics in Prometheus' text format (prometheus-client).

Most figures are read from the bot's own counters when Prometheus scrapes (through the
callables of `Readings`), so the feed's hot path pays nothing for them; only what has no
counter of its own (batch sizes, command latency) is observed as it happens. Each bot has its
own registry.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from bot.core.alerting.incidents import Incident
from bot.core.events import SaleEvent
from bot.core.feed_health import FeedHealth, FeedState
from bot.core.transfers.book import TransferBook
from bot.store.writer import WriterStats

PREFIX = "inventory"


@dataclass(frozen=True)
class Readings:
    """What /metrics reads from the running bot, each called when Prometheus scrapes."""

    writer: Callable[[], tuple[WriterStats, int] | None]  # stats and queue depth
    feeds: Callable[[], Sequence[tuple[str, FeedHealth]]]  # (shown name, health)
    open_incidents: Callable[[], Iterable[Incident]]
    slack_calls: Callable[[], Counter[tuple[str, str]]]  # (op, outcome) -> calls
    outbox_pending: Callable[[], int]
    outbox_oldest_at: Callable[[], float | None]
    transfers: Callable[[], TransferBook | None]
    planner_round_seconds: Callable[[], float]
    slack_methods: Callable[[], Counter[str]] = Counter  # Slack method -> calls made
    # Per Slack method: (calls in the budget's window, the budget, seconds paused by a 429).
    budgets: Callable[[float], dict[str, tuple[int, int, float]]] = lambda _now: {}
    refused_channels: Callable[[], int] = lambda: 0
    storage_failures: Callable[[], int] = lambda: 0  # the sender's, retried
    restarts: Callable[[], Counter[str]] = Counter  # tasks started again, by task
    # (1 if this process leads, its term, seconds a standby's copy is behind the log)
    role: Callable[[float], tuple[float, float, float]] = lambda _now: (1.0, 0.0, 0.0)


class Metrics:
    """The registry, the observed histograms, and a collector reading the running bot."""

    def __init__(self, readings: Readings, clock: Callable[[], float] = time.time) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.batch_size = Histogram(
            f"{PREFIX}_writer_batch_events",
            "Sales committed per writer transaction.",
            buckets=(1, 10, 50, 100, 500, 1_000, 2_000, 5_000, 10_000),
            registry=self.registry,
        )
        self.command_seconds = Histogram(
            f"{PREFIX}_command_seconds",
            "Time to answer a slash command, by command.",
            ["command", "outcome"],
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5),
            registry=self.registry,
        )
        self.registry.register(_BotCollector(readings, clock))

    def committed(self, events: Sequence[SaleEvent], _at: float) -> None:
        """The writer's commit hook."""
        if events:
            self.batch_size.observe(len(events))

    def answered(self, command: str, seconds: float, refused: bool) -> None:
        """The commands' hook."""
        outcome = "refused" if refused else "answered"
        self.command_seconds.labels(command, outcome).observe(seconds)

    async def serve(self, _request: web.Request) -> web.Response:
        response = web.Response(body=generate_latest(self.registry))
        response.headers["Content-Type"] = CONTENT_TYPE_LATEST
        return response

    def mount(self, app: web.Application) -> None:
        app.router.add_get("/metrics", self.serve, allow_head=False)


class _BotCollector(Collector):
    def __init__(self, readings: Readings, clock: Callable[[], float]) -> None:
        self._readings = readings
        self._clock = clock

    def collect(self) -> Iterator[Metric]:
        readings, now = self._readings, self._clock()
        yield from self._writer(readings)
        yield from self._feeds(readings, now)
        yield from self._alerts(readings, now)
        yield from self._slack(readings, now)
        yield from self._transfers(readings)
        yield from _upkeep(readings, now)

    def _writer(self, readings: Readings) -> Iterator[Metric]:
        stats, depth = readings.writer() or (None, 0)
        yield _counter("events", "Sales committed to the database.", stats.events if stats else 0)
        bad = CounterMetricFamily(
            f"{PREFIX}_bad_frames", "Frames refused, by reason.", labels=["reason"]
        )
        for reason, count in sorted((stats.bad_by_reason if stats else Counter()).items()):
            bad.add_metric([reason], count)
        yield bad
        yield _counter(
            "writer_batches", "Writer transactions committed.", stats.batches if stats else 0
        )
        yield _gauge(
            "writer_queue_depth",
            "Items waiting for the writer (the feed waits when it is full).",
            depth,
        )

    def _feeds(self, readings: Readings, now: float) -> Iterator[Metric]:
        up = GaugeMetricFamily(
            f"{PREFIX}_feed_up", "1 while the feed is connected and fresh.", labels=["feed"]
        )
        connects = CounterMetricFamily(
            f"{PREFIX}_feed_connects", "Connections made to the feed.", labels=["feed"]
        )
        reconnects = CounterMetricFamily(
            f"{PREFIX}_feed_reconnects", "Connections after the first.", labels=["feed"]
        )
        messages = CounterMetricFamily(
            f"{PREFIX}_feed_messages", "Frames received from the feed.", labels=["feed"]
        )
        silence = GaugeMetricFamily(
            f"{PREFIX}_feed_silence_seconds",
            "Seconds since the feed's last frame.",
            labels=["feed"],
        )
        for name, health in readings.feeds():
            up.add_metric([name], 1.0 if health.state is FeedState.LIVE else 0.0)
            connects.add_metric([name], health.connects)
            reconnects.add_metric([name], max(0, health.connects - 1))
            messages.add_metric([name], health.messages)
            last = health.last_message_at or health.since
            silence.add_metric([name], max(0.0, now - last))
        yield from (up, connects, reconnects, messages, silence)

    def _alerts(self, readings: Readings, now: float) -> Iterator[Metric]:
        family = GaugeMetricFamily(
            f"{PREFIX}_alerts_open",
            "Open alerts, by kind, severity and how they are handled.",
            labels=["kind", "severity", "state"],
        )
        counts: Counter[tuple[str, str, str]] = Counter()
        for i in readings.open_incidents():
            state = (
                "muted"
                if i.muted_by
                else "snoozed"
                if i.snoozed(now)
                else "acknowledged"
                if i.acked_by
                else "firing"
            )
            severity = i.severity.value if i.severity else ""
            counts[(i.kind.value, severity, state)] += 1
        for labels, count in sorted(counts.items()):
            family.add_metric(list(labels), count)
        yield family

    def _slack(self, readings: Readings, now: float) -> Iterator[Metric]:
        calls = CounterMetricFamily(
            f"{PREFIX}_slack_calls",
            "Slack calls made by the sender: op is post, update or reply; outcome sent, "
            "rate_limited, retried, failed or refused.",
            labels=["op", "outcome"],
        )
        counts = readings.slack_calls()
        for (op, outcome), count in sorted(counts.items()):
            calls.add_metric([op, outcome], count)
        yield calls
        limited = sum(n for (_, outcome), n in counts.items() if outcome == "rate_limited")
        yield _counter("slack_rate_limited", "Slack calls answered 429 (rate limited).", limited)
        yield _gauge(
            "outbox_pending", "Slack calls committed, not yet made.", readings.outbox_pending()
        )
        oldest = readings.outbox_oldest_at()
        yield _gauge(
            "outbox_oldest_age_seconds",
            "Age of the oldest Slack call not yet made (0 when none waits).",
            max(0.0, now - oldest) if oldest is not None else 0.0,
        )

    def _transfers(self, readings: Readings) -> Iterator[Metric]:
        transfers = readings.transfers()
        yield _gauge(
            "transfer_suggestions",
            "Transfer suggestions current now.",
            len(transfers.suggestions) if transfers else 0,
        )
        yield _gauge(
            "transfers_open",
            "Accepted transfers not yet seen arriving.",
            sum(t.open for t in transfers.transfers.values()) if transfers else 0,
        )
        yield _gauge(
            "planner_round_seconds",
            "How long the planner's last round took.",
            readings.planner_round_seconds(),
        )


def _upkeep(readings: Readings, now: float) -> Iterator[Metric]:
    """Slack's budgets as the sender spends them, and what went wrong and was retried."""
    budgets = readings.budgets(now)
    C, G = CounterMetricFamily, GaugeMetricFamily
    yield _labelled(
        C,
        "slack_api_calls",
        "Slack Web API calls, by method.",
        "method",
        dict(readings.slack_methods()),
    )
    yield _labelled(
        G,
        "slack_budget_used",
        "Calls in the current window of the workspace's budget, by method.",
        "method",
        {m: b[0] for m, b in budgets.items()},
    )
    yield _labelled(
        G,
        "slack_budget_limit",
        "The workspace's budget of calls per window, by method.",
        "method",
        {m: b[1] for m, b in budgets.items()},
    )
    yield _labelled(
        G,
        "slack_method_paused_seconds",
        "Seconds a 429 still pauses a method for every channel.",
        "method",
        {m: b[2] for m, b in budgets.items() if b[2] > 0},
    )
    yield _gauge(
        "slack_channels_refused",
        "Channels Slack refuses now (alerts wait).",
        readings.refused_channels(),
    )
    yield _counter(
        "sender_storage_failures",
        "Database errors the sender met and retried.",
        readings.storage_failures(),
    )
    leading, term, lag = readings.role(now)
    yield _gauge("leader", "1 while this process leads (with several bots), else 0.", leading)
    yield _gauge("leader_term", "The leadership term this process last took (0: none).", term)
    yield _gauge(
        "standby_lag_seconds",
        "Seconds a standby's copy of the paces has been behind the leader's log.",
        lag,
    )
    yield _labelled(
        C,
        "task_restarts",
        "Long-lived tasks that ended unexpectedly and were started again, by task.",
        "task",
        dict(readings.restarts()),
    )


def _labelled(kind: type, name: str, documentation: str, label: str, values: dict) -> Metric:
    family = kind(f"{PREFIX}_{name}", documentation, labels=[label])
    for key, value in sorted(values.items()):
        family.add_metric([key], value)
    return family


def _counter(name: str, documentation: str, value: float) -> CounterMetricFamily:
    return CounterMetricFamily(f"{PREFIX}_{name}", documentation, value=value)


def _gauge(name: str, documentation: str, value: float) -> GaugeMetricFamily:
    return GaugeMetricFamily(f"{PREFIX}_{name}", documentation, value=value)
