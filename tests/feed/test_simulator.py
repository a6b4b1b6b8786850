"""`inventory-bot simulate`: pacing, stdout mode through the real command, and serving."""

import asyncio
import json
import subprocess
import sys
from pathlib import Path

from websockets.asyncio.client import connect

from bot.feed.simulator import SimulatorOptions, schedule, serve_feed, server_url

BOT = str(Path(sys.executable).parent / "inventory-bot")


def test_rate_spaces_messages_evenly():
    dues = [due for due, _ in schedule(SimulatorOptions(mode="realistic", rate=200, count=5))]

    assert dues == [0.005, 0.01, 0.015, 0.02, 0.025]


def test_random_mode_sends_one_to_three_messages_a_second():
    dues = [due for due, _ in schedule(SimulatorOptions(mode="random", seed=2, count=300))]
    per_second = {}
    for due in dues:
        per_second[due] = per_second.get(due, 0) + 1

    assert set(per_second.values()) <= {1, 2, 3}
    assert sorted(per_second) == [float(s) for s in range(len(per_second))]


def test_stdout_mode_prints_the_feed_as_json_lines():
    options = SimulatorOptions(mode="realistic", seed=5, rate=2000, count=200)
    expected = [frame for _, frame in schedule(options)]

    result = subprocess.run(
        [
            BOT,
            "simulate",
            "--stdout",
            "--mode",
            "realistic",
            "--seed",
            "5",
            "--rate",
            "2000",
            "--count",
            "200",
        ],
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )

    lines = result.stdout.splitlines()
    assert lines == expected
    assert all(set(json.loads(line)) == {"store", "model", "inventory"} for line in lines)


def test_bad_simulator_arguments_get_a_usage_error():
    result = subprocess.run(
        [BOT, "simulate", "--rate", "-3"], capture_output=True, text=True, timeout=30, check=False
    )

    assert result.returncode == 2
    assert "'-3' must be a positive number" in result.stderr
    assert "Traceback" not in result.stderr


async def test_each_connection_gets_its_own_stream():
    server = await serve_feed(SimulatorOptions(mode="random", rate=500, count=20), "127.0.0.1", 0)
    try:
        async with connect(server_url(server)) as a, connect(server_url(server)) as b:
            first = [await a.recv() for _ in range(20)]
            second = [await b.recv() for _ in range(20)]
    finally:
        server.close()
        await server.wait_closed()

    assert len(first) == len(second) == 20
    assert first != second  # no seed: two independent worlds


async def test_served_frames_follow_the_schedule():
    options = SimulatorOptions(mode="realistic", seed=9, rate=1000, count=50)
    server = await serve_feed(options, "127.0.0.1", 0)
    try:
        async with connect(server_url(server)) as ws:
            received = [await asyncio.wait_for(ws.recv(), 5) for _ in range(50)]
    finally:
        server.close()
        await server.wait_closed()

    assert received == [frame for _, frame in schedule(options)]
