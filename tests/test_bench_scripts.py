"""The benchmarks behind the README's figures still run: the quick form of each that needs no
PostgreSQL server and takes seconds, to its end. Their figures are not checked here (a timed
test on a shared machine says nothing); a script that no longer runs is (bench/preview.py once
stopped at an INSERT after the rules table grew, and nobody saw until a full run)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parent.parent / "bench"


@pytest.mark.parametrize(
    ("script", "says"),
    [
        (["preview.py", "--quick"], "| bot |"),
        (["transfers.py", "--quick"], "planner's real first round"),
        (["frames.py"], "extra spaces"),
    ],
    ids=["preview", "transfers", "frames"],
)
def test_a_benchmark_runs_to_its_figures(script, says):
    done = subprocess.run(
        [sys.executable, *script],
        cwd=BENCH,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert says in done.stdout
