"""A store feed for the tests of two bots: a real WebSocket server that sends each frame once,
to the bot that connected last (an exclusive consumer: an older connection, a frozen bot's,
gets nothing more), and keeps what it has to send while none is connected, as a feed behind a
broker would. Like the field's feed it has no acknowledgement: a frame written to a bot that
dies before reading it is gone."""

from __future__ import annotations

import asyncio
import json
import time
from collections import deque

from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.exceptions import ConnectionClosed


class BufferingFeed:
    """`async with BufferingFeed() as feed`, point the bots at `feed.url`, `put()` sales."""

    def __init__(self) -> None:
        self.pending: deque[dict] = deque()  # not written to any bot yet
        self.written: list[list[dict]] = []  # per connection, in order
        self.connected_at: list[float] = []  # wall-clock time of each connection
        self._more = asyncio.Condition()
        self._server: Server | None = None
        self._newest: ServerConnection | None = None
        self._closing = False

    async def __aenter__(self) -> BufferingFeed:
        self._server = await serve(self._serve, "127.0.0.1", 0)
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._server is not None
        async with self._more:
            self._closing = True
            self._more.notify_all()
        self._server.close()
        await self._server.wait_closed()

    @property
    def url(self) -> str:
        assert self._server is not None
        port = next(iter(self._server.sockets)).getsockname()[1]
        return f"ws://127.0.0.1:{port}/"

    async def put(self, *sales: dict) -> None:
        """Sales to send, in order, to the bot connected now or to the next one."""
        async with self._more:
            self.pending.extend(sales)
            self._more.notify_all()

    async def _serve(self, connection: ServerConnection) -> None:
        mine: list[dict] = []
        self.written.append(mine)
        self.connected_at.append(time.time())
        async with self._more:
            self._newest = connection
            self._more.notify_all()

        def mine_to_send() -> bool:
            return self._closing or (self._newest is connection and bool(self.pending))

        try:
            while True:
                async with self._more:
                    await self._more.wait_for(mine_to_send)
                    if self._closing:
                        return
                    sale = self.pending.popleft()
                mine.append(sale)  # written, at most once: no acknowledgement comes back
                await connection.send(json.dumps(sale))
        except ConnectionClosed:
            return
