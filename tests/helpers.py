"""Test helpers: waiting on conditions, and a scripted WebSocket feed server."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import errno
import hashlib
import inspect
import os
import signal
import socket
import sqlite3
import subprocess
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest
from websockets.asyncio.server import ServerConnection, serve

from bot.core.transfers.plan import Suggestion

BOT = str(Path(sys.executable).parent / "inventory-bot")


def free_port() -> int:
    """A TCP port free right now on 127.0.0.1."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def eventually(
    check: Callable[[], object], *, within: float = 10.0, what: str = ""
) -> object:
    """Wait until `check()` (sync or async) returns something truthy; fail after `within` s.

    For conditions that live outside this process (a subprocess, a file) and so cannot notify:
    it looks every 20 ms, which is the wait on the condition itself, not a guess at a duration.
    """
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while True:
        result = check()
        if inspect.isawaitable(result):
            result = await result
        if result:
            return result
        if loop.time() > deadline:
            raise AssertionError(f"timed out after {within} s waiting for {what or check}")
        await asyncio.sleep(0.02)


@dataclass(frozen=True)
class RawText:
    """Bytes to send as a text frame as they are, valid UTF-8 or not."""

    data: bytes


class ScriptedFeed:
    """A WebSocket server that sends connection number i the frames of scripts[i] (str as text,
    bytes as binary, RawText as a text frame of raw bytes), then holds the connection open until
    the test ends or `close_all()`. Connections beyond the scripts get nothing."""

    def __init__(self, scripts: Sequence[Sequence[str | bytes | RawText]]) -> None:
        self.scripts = list(scripts)
        self.connections: list[ServerConnection] = []
        self.connected = asyncio.Condition()
        self._server = None

    async def __aenter__(self) -> ScriptedFeed:
        self._server = await serve(self._handle, "127.0.0.1", 0, max_size=None, compression=None)
        host, port = next(iter(self._server.sockets)).getsockname()[:2]
        self.url = f"ws://{host}:{port}/"
        return self

    async def __aexit__(self, *exc: object) -> None:
        self._server.close()
        await self._server.wait_closed()

    async def wait_for_connections(self, count: int) -> None:
        async with self.connected:
            await self.connected.wait_for(lambda: len(self.connections) >= count)

    async def close_all(self) -> None:
        for ws in self.connections:
            await ws.close()

    async def _handle(self, ws: ServerConnection) -> None:
        index = len(self.connections)
        self.connections.append(ws)
        async with self.connected:
            self.connected.notify_all()
        for frame in self.scripts[index] if index < len(self.scripts) else []:
            if isinstance(frame, RawText):
                await ws.send(frame.data, text=True)
            else:
                await ws.send(frame)
        await ws.wait_closed()


class HandshakeOnly:
    """A WebSocket server that completes the opening handshake and then says nothing and
    answers nothing, pings included: a proxy whose upstream is gone, as the client sees it.
    It is a real TCP server speaking just enough HTTP; `handshakes` counts connections."""

    _GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"  # RFC 6455, section 1.3

    def __init__(self, port: int) -> None:
        self.port = port
        self.handshakes = 0
        self._server: asyncio.Server | None = None
        self._open: set[asyncio.StreamWriter] = set()

    async def __aenter__(self) -> HandshakeOnly:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", self.port)
        return self

    async def __aexit__(self, *exc: object) -> None:
        self._server.close()
        for writer in self._open:
            writer.close()
        await self._server.wait_closed()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._open.add(writer)
        request = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1")
        key = next(
            line.split(":", 1)[1].strip()
            for line in request.split("\r\n")
            if line.lower().startswith("sec-websocket-key:")
        )
        accept = base64.b64encode(hashlib.sha1((key + self._GUID).encode()).digest()).decode()
        writer.write(
            b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
            b"Connection: Upgrade\r\nSec-WebSocket-Accept: " + accept.encode() + b"\r\n\r\n"
        )
        await writer.drain()
        self.handshakes += 1
        try:
            while await reader.read(4096):  # pings and the close frame go unanswered
                pass
        except ConnectionError:
            pass
        finally:
            self._open.discard(writer)
            writer.close()


class BotProcess:
    """`inventory-bot run` as its own process, with its log in a file of the test's folder."""

    def __init__(self, folder: Path, **env: str) -> None:
        self.log = folder / f"bot-{len(list(folder.glob('bot-*.log')))}.log"
        self.database = folder / "inventory.db"
        environment = {
            "PATH": os.environ["PATH"],
            "DATABASE_PATH": str(self.database),
            "FEED_RECONNECT_MAX_SECONDS": "1",
            "HTTP_PORT": "0",
            "LOG_LEVEL": "INFO",
            **env,
        }
        with self.log.open("w") as log:
            self.process = subprocess.Popen(
                [BOT, "run"], env=environment, cwd=folder, stdout=log, stderr=subprocess.STDOUT
            )

    def stored(self) -> list[tuple[str, str, int]]:
        if not self.database.exists():
            return []
        with sqlite3.connect(f"file:{self.database}?mode=ro", uri=True) as db:
            try:
                return db.execute(
                    "SELECT s.name, m.name, e.inventory FROM events e "
                    "JOIN stores s ON s.id = e.store_id JOIN models m ON m.id = e.model_id "
                    "ORDER BY e.id"
                ).fetchall()
            except sqlite3.OperationalError:  # not migrated yet
                return []

    def count(self) -> int:
        return len(self.stored())

    async def wait_for_events(self, count: int, within: float = 30) -> None:
        await eventually(lambda: self.count() >= count, within=within, what=f"{count} events")

    def terminate(self) -> int:
        self.process.send_signal(signal.SIGTERM)
        return self.process.wait(30)

    def kill(self) -> None:
        self.process.kill()
        self.process.wait(10)

    def output(self) -> str:
        return self.log.read_text()


def move(quantity=6, source="Maine", target="Auburn", source_level=40, target_level=3):
    """A transfer suggestion of ADERI as the planner makes them."""
    return Suggestion(
        "ADERI",
        source,
        target,
        quantity,
        f"Move {quantity} ADERI from {source} to {target}",
        2.0,
        True,
        45.0,
        30.0,
        2.0,
        12.0,
        source_level,
        target_level,
    )


@contextlib.contextmanager
def small_filesystem(folder):
    """A 4 MB tmpfs mounted at `folder` (root only); skipped where it cannot be made."""
    folder.mkdir()
    if os.geteuid() != 0:
        pytest.skip("mounting a small tmpfs to fill needs root")
    made = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(folder)],
        capture_output=True,
        text=True,
        check=False,
    )
    if made.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs here: {made.stderr.strip()}")
    try:
        yield folder
    finally:
        subprocess.run(["umount", "-l", str(folder)], check=False)


def fill(folder) -> os.PathLike:
    """Write a file until the filesystem is full; return it."""
    filler = folder / "filler"
    with filler.open("wb") as out, pytest.raises(OSError, match="No space left") as full:  # noqa: PT012
        chunk = b"\0" * 65536
        while True:
            out.write(chunk)
            out.flush()
    assert full.value.errno == errno.ENOSPC
    return filler
