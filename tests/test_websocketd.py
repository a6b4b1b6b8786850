"""The bot as the field runs it: `inventory-bot run` reading a real websocketd that wraps
`inventory-bot simulate --stdout`. Every test here reads what was sent from the script's own
copy of its output (tee), and what was stored from the SQLite file."""

from __future__ import annotations

import json
import re
import socket
import sqlite3
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from tests.conftest import websocketd_path
from tests.helpers import BotProcess, eventually, free_port

BOT = str(Path(sys.executable).parent / "inventory-bot")


class Websocketd:
    """websocketd wrapping a script, as the field runs the feed."""

    def __init__(self, port: int, script: Path) -> None:
        self.port = port
        self.process = subprocess.Popen(
            [
                websocketd_path(),
                f"--port={port}",
                "--address=127.0.0.1",
                "--loglevel=error",
                str(script),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

    async def ready(self) -> None:
        def listening() -> bool:
            with socket.socket() as s:
                return s.connect_ex(("127.0.0.1", self.port)) == 0

        await eventually(listening, within=10, what="websocketd to listen")

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/"

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            self.process.wait(10)


def sent_runs(folder: Path) -> list[list[tuple[str, str, int]]]:
    """What the simulator sent, one list per connection, oldest first."""
    files = sorted(folder.glob("sent-*.jsonl"), key=lambda p: p.stat().st_mtime_ns)
    runs = []
    for path in files:
        frames = [json.loads(line) for line in path.read_text().splitlines() if line]
        runs.append([(f["store"], f["model"], f["inventory"]) for f in frames])
    return runs


@pytest.fixture
def field(tmp_path):
    """Starts websocketd servers and bots; stops whatever is left at the end."""
    servers: list[Websocketd] = []
    bots: list[BotProcess] = []

    class Field:
        folder = tmp_path

        def websocketd(self, simulate_args: str, port: int | None = None) -> Websocketd:
            """websocketd serving the simulator; each connection's lines are teed to a file."""
            # websocketd passes only PATH to the script: everything is spelled out. `exec sleep`
            # keeps the connection open after the last line, like a feed that has gone quiet.
            return self.websocketd_script(
                "#!/bin/sh\n"
                f'"{BOT}" simulate --stdout {simulate_args} | tee "{tmp_path}/sent-$$.jsonl"\n'
                "exec sleep 3600\n",
                port,
            )

        def websocketd_script(self, text: str, port: int | None = None) -> Websocketd:
            script = tmp_path / f"feed-{len(servers)}.sh"
            script.write_text(text)
            script.chmod(0o755)
            server = Websocketd(port or free_port(), script)
            servers.append(server)
            return server

        def bot(self, **env: str) -> BotProcess:
            bot = BotProcess(tmp_path, **env)
            bots.append(bot)
            return bot

    yield Field()
    for bot in bots:
        if bot.process.poll() is None:
            bot.kill()
    for server in servers:
        server.stop()


def levels_of(frames: list[tuple[str, str, int]]) -> dict[tuple[str, str], tuple[int, int]]:
    """(last level, number of sales) per key, as the feed told it."""
    counts = Counter((s, m) for s, m, _ in frames)
    last = {(s, m): level for s, m, level in frames}
    return {key: (last[key], counts[key]) for key in last}


def stored_levels(database: Path) -> dict[tuple[str, str], tuple[int, int]]:
    with sqlite3.connect(database) as db:
        rows = db.execute(
            "SELECT s.name, m.name, l.inventory, l.sale_count FROM levels l "
            "JOIN stores s ON s.id = l.store_id JOIN models m ON m.id = l.model_id"
        ).fetchall()
    return {(s, m): (level, count) for s, m, level, count in rows}


async def test_every_message_websocketd_sends_is_stored_and_levels_equal_the_last_sent(field):
    server = field.websocketd("--mode realistic --seed 11 --rate 3000 --count 3000")
    await server.ready()
    bot = field.bot(FEED_URLS=server.url)

    await bot.wait_for_events(3000)
    assert bot.terminate() == 0

    (sent,) = sent_runs(field.folder)
    assert len(sent) == 3000
    assert bot.stored() == sent
    assert stored_levels(bot.database) == levels_of(sent)


async def test_the_bot_reconnects_when_websocketd_goes_away_and_comes_back(field):
    port = free_port()
    first = field.websocketd("--mode realistic --seed 1 --rate 2000 --count 500", port)
    await first.ready()
    bot = field.bot(FEED_URLS=first.url)
    await bot.wait_for_events(500)

    first.stop()
    second = field.websocketd("--mode random --seed 2 --rate 2000 --count 400", port)
    await second.ready()
    await bot.wait_for_events(900)
    assert bot.terminate() == 0

    runs = sent_runs(field.folder)
    assert [len(run) for run in runs] == [500, 400]
    assert bot.stored() == runs[0] + runs[1]
    output = bot.output()
    assert output.count("feed live") == 2
    assert "feed disconnected" in output


async def test_sigterm_mid_stream_writes_everything_read_and_exits_0(field):
    server = field.websocketd("--mode realistic --seed 3 --rate 5000")
    await server.ready()
    bot = field.bot(FEED_URLS=server.url, WRITER_BATCH_SIZE="50")
    await bot.wait_for_events(2000)

    assert bot.terminate() == 0

    (sent,) = sent_runs(field.folder)
    stored = bot.stored()
    assert stored == sent[: len(stored)]
    flushed = re.search(r"writer flushed received=(\d+) events=(\d+) bad_frames=0", bot.output())
    assert flushed, bot.output()
    assert int(flushed.group(1)) == int(flushed.group(2)) == len(stored)


async def test_kill_9_mid_stream_keeps_every_committed_event(field):
    server = field.websocketd("--mode realistic --rate 5000")
    await server.ready()
    bot = field.bot(FEED_URLS=server.url)
    await bot.wait_for_events(2000)
    seen_before_kill = bot.count()
    bot.kill()

    with sqlite3.connect(bot.database) as db:
        assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    after_crash = bot.stored()
    assert len(after_crash) >= seen_before_kill
    (first_run,) = sent_runs(field.folder)
    assert after_crash == first_run[: len(after_crash)]
    assert stored_levels(bot.database) == levels_of(after_crash)

    restarted = field.bot(FEED_URLS=server.url)
    await restarted.wait_for_events(len(after_crash) + 1000)
    assert restarted.terminate() == 0

    _, second_run = sent_runs(field.folder)
    stored = restarted.stored()
    assert stored[: len(after_crash)] == after_crash
    resumed = stored[len(after_crash) :]
    assert resumed == second_run[: len(resumed)]
    assert stored_levels(bot.database) == levels_of(stored)


async def test_a_bad_line_from_the_script_is_dead_lettered_and_the_stream_goes_on(field):
    # A generator that prints junk between sales, including bytes that are not UTF-8: the
    # connection must survive it, so the rest of this process's stream still arrives.
    server = field.websocketd_script(
        "#!/bin/sh\n"
        'echo \'{"store":"ALDO Centre Eaton","model":"ADERI","inventory":3}\'\n'
        "printf 'oops \\377\\376\\n'\n"
        "echo 'not json'\n"
        'echo \'{"store":"ALDO Centre Eaton","model":"ADERI","inventory":2}\'\n'
        "exec sleep 3600\n"
    )
    await server.ready()
    bot = field.bot(FEED_URLS=server.url)
    await bot.wait_for_events(2)
    assert bot.terminate() == 0

    assert bot.stored() == [("ALDO Centre Eaton", "ADERI", 3), ("ALDO Centre Eaton", "ADERI", 2)]
    with sqlite3.connect(bot.database) as db:
        reasons = dict(db.execute("SELECT reason, count FROM bad_frame_counts").fetchall())
        connects = bot.output().count("feed live")
    assert reasons == {"not_utf8": 1, "not_json": 1}
    assert connects == 1
