"""Log throttling: the first occurrence of each kind in a window is told in full, the rest are
counted and told as one summary line when the window ends. A feed sending a thousand bad frames a
second then costs a couple of log lines a minute, and no kind goes unmentioned."""

from __future__ import annotations

from collections import Counter


class LogThrottle:
    def __init__(self, window: float) -> None:
        self.window = window
        self._window_start: float | None = None
        self._seen: set[str] = set()
        self._suppressed: Counter[str] = Counter()

    def admit(self, kind: str, now: float) -> bool:
        """True if this occurrence should be logged in full; otherwise it is counted."""
        if self._window_start is None:
            self._window_start = now
        if kind in self._seen:
            self._suppressed[kind] += 1
            return False
        self._seen.add(kind)
        return True

    @property
    def pending(self) -> bool:
        """Something was counted that a summary has yet to tell."""
        return bool(self._suppressed)

    def summary(self, now: float) -> dict[str, int] | None:
        """At the end of a window, the counts suppressed in it (None if nothing was); resets."""
        if self._window_start is None or now - self._window_start < self.window:
            return None
        suppressed = dict(self._suppressed)
        self._window_start = None
        self._seen.clear()
        self._suppressed.clear()
        return suppressed or None
