"""Serving a simulated feed: over WebSocket (one independent world per connection, as websocketd
runs one generator process per connection) or as JSON lines on stdout, for websocketd to wrap."""

from __future__ import annotations

import asyncio
import itertools
import logging
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TextIO

from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.exceptions import ConnectionClosed

from bot.feed.worlds import make_world

log = logging.getLogger(__name__)

MAX_BURST = 1_000  # frames written between two looks at the clock when running behind


@dataclass(frozen=True)
class SimulatorOptions:
    """What `inventory-bot simulate` was asked for."""

    mode: str = "random"
    seed: int | None = None
    stores: int = 10
    models: int = 20
    flash_sale: float = 1.0  # demand multiplier (realistic mode)
    rate: float | None = None  # messages a second, overriding the world's own pace
    count: int | None = None  # stop after this many messages


def schedule(options: SimulatorOptions) -> Iterator[tuple[float, str]]:
    """(seconds after the start at which to send, frame) for each message, in order."""
    world = make_world(
        options.mode,
        seed=options.seed,
        stores=options.stores,
        models=options.models,
        flash_sale=options.flash_sale,
    )
    due = 0.0
    step = 1.0 / options.rate if options.rate else None
    for delay, sale in itertools.islice(world.sales(), options.count):
        due += step if step is not None else delay
        yield due, sale.to_json()


def write_lines(options: SimulatorOptions, out: TextIO = sys.stdout) -> None:
    """Print the feed as JSON lines, in real time, flushing every burst (websocketd needs it)."""
    start = time.monotonic()
    pending: list[str] = []
    try:
        for due, frame in schedule(options):
            wait = start + due - time.monotonic()
            if wait > 0 or len(pending) >= MAX_BURST:
                if pending:
                    out.write("\n".join(pending) + "\n")
                    out.flush()
                    pending.clear()
                if wait > 0:
                    time.sleep(wait)
            pending.append(frame)
        if pending:
            out.write("\n".join(pending) + "\n")
            out.flush()
    except BrokenPipeError:
        # The reader went away (websocketd's client disconnected): a normal end.
        pass


async def _stream(ws: ServerConnection, options: SimulatorOptions) -> None:
    loop = asyncio.get_running_loop()
    start = loop.time()
    try:
        for due, frame in schedule(options):
            wait = start + due - loop.time()
            if wait > 0:
                await asyncio.sleep(wait)
            await ws.send(frame)
    except ConnectionClosed:
        return


async def serve_feed(options: SimulatorOptions, host: str, port: int) -> Server:
    """Start serving the feed; each connection gets its own world. Port 0 picks a free one."""

    async def handler(ws: ServerConnection) -> None:
        await _stream(ws, options)

    return await serve(handler, host, port, compression=None)


def server_url(server: Server) -> str:
    """The ws:// URL a started server listens on."""
    host, port = next(iter(server.sockets)).getsockname()[:2]
    return f"ws://{host}:{port}/"
