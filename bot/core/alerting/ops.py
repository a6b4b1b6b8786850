"""Feed health in the ops channel: a feed down or stale for its limit is an alert there, and so
is a feed sending more bad frames in a minute than allowed; each resolves when it is over."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

from bot.core.alerting import wording
from bot.core.alerting.effects import Note
from bot.core.alerting.incidents import Kind
from bot.core.alerting.ledger import Ledger
from bot.core.alerting.notifiers import Notifiers
from bot.core.feed_health import FeedState
from bot.core.feed_health import Transition as FeedTransition


@dataclass(slots=True)
class _Feed:
    state: FeedState = FeedState.DISCONNECTED
    since: float = 0.0
    detail: str = "not connected yet"
    bad: deque = field(default_factory=deque)  # times of recent bad frames
    reasons: dict = field(default_factory=dict)


class FeedAlerts:
    """What the ops channel hears of each feed."""

    def __init__(
        self,
        ledger: Ledger,
        notifiers: Notifiers,
        *,
        channel: str | None,
        down_after: float,
        bad_frames_per_minute: int,
    ) -> None:
        self._ledger = ledger
        self._notifiers = notifiers
        self._channel = channel
        self._down_after = down_after
        self._bad_limit = bad_frames_per_minute
        self._feeds: dict[str, _Feed] = {}
        self._open: dict[tuple[str, Kind], int] = {}  # (feed, kind) -> its open incident

    def bad_frame(self, feed: str, reason: str, now: float) -> None:
        """A feed sent a frame that was refused."""
        status = self._feeds.setdefault(feed, _Feed(since=now))
        status.bad.append(now)
        status.reasons[reason] = status.reasons.get(reason, 0) + 1

    def changed(self, transition: FeedTransition) -> None:
        """A feed connected, went stale or dropped."""
        status = self._feeds.setdefault(transition.url, _Feed())
        status.state, status.since, status.detail = (
            transition.after,
            transition.at,
            transition.detail,
        )
        if transition.after is FeedState.LIVE:
            self._resolve(transition.url, Kind.FEED_DOWN, transition.at, wording.FEED_BACK)

    def tick(self, now: float) -> None:
        ops = self._channel
        for url, status in self._feeds.items():
            bad = status.bad
            while bad and bad[0] < now - 60:
                bad.popleft()
            if not bad:
                status.reasons.clear()
            if ops is None:
                continue
            # Stale already means silent for the limit; disconnected must last as long.
            down = status.state is FeedState.STALE or (
                status.state is FeedState.DISCONNECTED and now - status.since >= self._down_after
            )
            if down and (url, Kind.FEED_DOWN) not in self._open:
                incident = self._open_alert(ops, url, Kind.FEED_DOWN, status.since, now)
                incident.detail.update(state=status.state.value, reason=status.detail)
                self._notifiers.announce(incident, now)
            if len(bad) > self._bad_limit and (url, Kind.BAD_FRAMES) not in self._open:
                incident = self._open_alert(ops, url, Kind.BAD_FRAMES, bad[0], now)
                incident.level, incident.threshold = len(bad), self._bad_limit
                incident.detail["reasons"] = dict(status.reasons)
                self._notifiers.announce(incident, now)
            elif len(bad) <= self._bad_limit:
                self._resolve(url, Kind.BAD_FRAMES, now, wording.BAD_FRAMES_OVER)

    def _open_alert(self, ops: str, url: str, kind: Kind, since: float, now: float):
        incident = self._ledger.open(ops, kind, url, None, None, opened_at=since, now=now)
        self._open[(url, kind)] = incident.id
        return incident

    def _resolve(self, url: str, kind: Kind, now: float, note: Note) -> None:
        incident_id = self._open.pop((url, kind), None)
        if incident_id is not None:
            self._notifiers.resolve(self._ledger.incidents[incident_id], now, note)
