"""Per-frame cost of validating a feed frame, names made canonical included.

    .venv/bin/python bench/frames.py     # a few seconds

The baseline, in the same run, is the validation alone (the JSON schema check and the sale
event built from it), which is what parse_frame did before names were made canonical. Each
figure is the best of 7 runs of 100,000 calls.
"""

from __future__ import annotations

import json
import timeit

from bot.core import events
from bot.core.events import SaleEvent, parse_frame

FRAMES = {
    "plain ASCII": {"store": "ALDO Centre Eaton", "model": "ADERI", "inventory": 10},
    "accented": {"store": "ALDO Québec Père-Noël", "model": "ADERI", "inventory": 10},
    "Japanese": {"store": "アルド 東京駅", "model": "ADERI", "inventory": 10},
    "extra spaces": {"store": " ALDO  Maine ", "model": "ADERI", "inventory": 10},
}
CALLS = 100_000


def validation_alone(data: bytes) -> SaleEvent:
    frame = events._validate(data)
    return SaleEvent(frame["store"], frame["model"], frame["inventory"], 1.0, "ws://x")


def best(call) -> float:
    return min(timeit.repeat(call, number=CALLS, repeat=7)) / CALLS * 1e6


def main() -> None:
    print(f"{'frame':14} {'baseline us':>12} {'parse_frame us':>15} {'added us':>9}")
    for name, frame in FRAMES.items():
        data = json.dumps(frame, ensure_ascii=False).encode()
        base = best(lambda d=data: validation_alone(d))
        full = best(lambda d=data: parse_frame(d, binary=False, at=1.0, feed="ws://x"))
        print(f"{name:14} {base:12.3f} {full:15.3f} {full - base:9.3f}")


if __name__ == "__main__":
    main()
