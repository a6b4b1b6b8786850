"""A local Slack: the Web API methods the bot calls, served over real HTTP by aiohttp.

The bot reaches it through its normal slack_sdk client (SLACK_API_URL). It keeps channels and
their messages (with threads, edits and metadata), checks the bot token, records every call,
and can be told to fail: a 429 with Retry-After, a 500, or a call that takes effect but whose
answer comes too late or never (the case that tests "never posted twice").
"""

from __future__ import annotations

import asyncio
import json
import time
from collections import defaultdict, deque
from dataclasses import dataclass, field
from urllib.parse import parse_qsl, urlencode

from aiohttp import ClientSession, ClientTimeout, web
from slack_sdk.signature import SignatureVerifier


@dataclass
class Call:
    method: str
    args: dict
    at: float  # wall-clock time the request arrived
    outcome: str = "ok"  # ok | error code | http status | stalled


@dataclass
class Message:
    channel: str
    ts: str
    text: str
    blocks: list | None
    metadata: dict | None
    thread_ts: str | None = None
    broadcast: bool = False
    edits: list[dict] = field(default_factory=list)  # earlier versions, oldest first


@dataclass
class Fault:
    status: int = 500
    error: str = "internal_error"
    retry_after: int | None = None
    apply: bool = False  # take effect before answering
    delay: float = 0.0  # seconds before answering (or never, with hang)
    hang: bool = False


class FakeSlack:
    """Start with `async with FakeSlack() as slack`, point the bot at `slack.api_url`."""

    def __init__(
        self,
        *,
        token: str = "xoxb-test-token",
        app_token: str = "xapp-test-token",
        channels: tuple[str, ...] = ("C-STORES", "C-MERCH", "C-OPS"),
        not_member: tuple[str, ...] = (),
    ) -> None:
        self.token = token
        self.app_token = app_token
        self.channels = set(channels)
        self.responses: dict[str, list[dict]] = defaultdict(list)  # response_url id -> posts
        self.views: dict[str, list[dict]] = defaultdict(list)  # user -> published home views
        self.socket: web.WebSocketResponse | None = None
        self.socket_connections = 0
        self._acks: dict[str, asyncio.Future] = {}
        self.not_member = set(not_member)
        self.calls: list[Call] = []
        self.messages: list[Message] = []
        self.faults: dict[str, deque[Fault | None]] = defaultdict(deque)
        self.changed = asyncio.Condition()
        self._ts = 0
        self._closing = asyncio.Event()  # releases hung calls when the fake shuts down
        self._runner: web.AppRunner | None = None
        self.port = 0

    async def __aenter__(self) -> FakeSlack:
        app = web.Application()
        app.router.add_route("*", "/api/{method}", self._api)
        app.router.add_post("/response/{id}", self._response)
        app.router.add_get("/link", self._link)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", self.port)
        await site.start()
        self.port = self._runner.addresses[0][1]
        return self

    async def __aexit__(self, *exc: object) -> None:
        self._closing.set()
        if self.socket is not None:
            await self.socket.close()
        await self._runner.cleanup()

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/api/"

    # -- what tests tell it and ask it ------------------------------------------------------

    def fail(self, method: str, *faults: Fault | None) -> None:
        """The next calls of `method` meet these faults, in order (None: answered normally)."""
        self.faults[method].extend(faults)

    async def wait_for(self, check, within: float = 10.0) -> None:
        """Wait until check(self) holds after some call (fail after `within` seconds)."""
        async with self.changed:
            await asyncio.wait_for(self.changed.wait_for(lambda: check(self)), within)

    def posts(self, channel: str | None = None) -> list[Message]:
        """Top-level messages, in the order they were posted."""
        return [
            m
            for m in self.messages
            if m.thread_ts is None and (channel is None or m.channel == channel)
        ]

    def thread(self, message: Message) -> list[Message]:
        return [m for m in self.messages if m.thread_ts == message.ts]

    def response_url(self, key: str) -> str:
        """A response_url for a command or click; what is posted to it lands in responses."""
        return f"http://127.0.0.1:{self.port}/response/{key}"

    async def push(self, kind: str, payload: dict, within: float = 3.0) -> dict:
        """Send a Socket Mode envelope to the connected app; return its acknowledgement, which
        must come within Slack's 3 seconds."""
        await self.wait_for(lambda s: s.socket is not None, within=10)
        envelope_id = f"env-{len(self._acks)}-{time.time_ns()}"
        future = asyncio.get_running_loop().create_future()
        self._acks[envelope_id] = future
        await self.socket.send_json(
            {
                "envelope_id": envelope_id,
                "type": kind,
                "payload": payload,
                "accepts_response_payload": kind != "events_api",
                "retry_attempt": 0,
                "retry_reason": "",
            }
        )
        return await asyncio.wait_for(future, within)

    def delete(self, message: Message) -> None:
        """Someone deleted the message in Slack."""
        self.messages.remove(message)

    def arrivals(self, method: str, channel: str) -> list[float]:
        """When calls of `method` to `channel` arrived, whatever became of them."""
        return [c.at for c in self.calls if c.method == method and c.args.get("channel") == channel]

    # -- the Web API -------------------------------------------------------------------------

    async def _api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        args = dict(request.query)
        body = await request.read()
        if body:
            if request.content_type == "application/json":
                args.update(json.loads(body))
            else:
                args.update(parse_qsl(body.decode()))
        call = Call(method, args, time.time())
        self.calls.append(call)
        wanted = self.app_token if method == "apps.connections.open" else self.token
        if request.headers.get("Authorization") != f"Bearer {wanted}":
            call.outcome = "invalid_auth"
            await self._notify()
            return _json({"ok": False, "error": "invalid_auth"})
        fault = self.faults[method].popleft() if self.faults[method] else None
        if fault is not None and not fault.apply:
            call.outcome = "stalled" if fault.hang else str(fault.status)
            await self._late(fault)
            headers = (
                {"Retry-After": str(fault.retry_after)} if fault.retry_after is not None else {}
            )
            return _json({"ok": False, "error": fault.error}, fault.status, headers)
        handler = getattr(self, "_" + method.replace(".", "_"), None)
        result = handler(args) if handler else {"ok": True}
        if not result.get("ok"):
            call.outcome = result.get("error", "error")
        if fault is not None:  # it took effect; the answer is late or lost
            call.outcome = "stalled"
            await self._late(fault)
        else:
            await self._notify()
        return _json(result)

    async def _late(self, fault: Fault) -> None:
        await self._notify()  # the call's fate is known: tests may look now
        if fault.hang:
            await self._closing.wait()
        await asyncio.sleep(fault.delay)

    async def _notify(self) -> None:
        async with self.changed:
            self.changed.notify_all()

    def _apps_connections_open(self, args: dict) -> dict:
        return {"ok": True, "url": f"ws://127.0.0.1:{self.port}/link"}

    def _views_publish(self, args: dict) -> dict:
        view = _listed(args.get("view"))
        self.views[args.get("user_id", "")].append(view)
        return {"ok": True, "view": {"id": f"V{len(self.views)}", **view}}

    async def _response(self, request: web.Request) -> web.Response:
        self.responses[request.match_info["id"]].append(await request.json())
        await self._notify()
        return web.json_response({"ok": True})

    async def _link(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        self.socket = ws
        self.socket_connections += 1
        await ws.send_json(
            {
                "type": "hello",
                "num_connections": 1,
                "connection_info": {"app_id": "A1"},
                "debug_info": {},
            }
        )
        await self._notify()
        async for message in ws:
            data = json.loads(message.data)
            future = self._acks.pop(data.get("envelope_id"), None)
            if future is not None and not future.done():
                future.set_result(data)
        if self.socket is ws:
            self.socket = None
        return ws

    def _auth_test(self, args: dict) -> dict:
        return {"ok": True, "team_id": "T1", "user_id": "UBOT", "bot_id": "BBOT", "team": "Shoes"}

    def _chat_postMessage(self, args: dict) -> dict:
        channel = args.get("channel", "")
        refused = self._refuse(channel)
        if refused:
            return refused
        thread_ts = args.get("thread_ts")
        if thread_ts and not any(m.ts == thread_ts for m in self.messages):
            return {"ok": False, "error": "thread_not_found"}
        message = Message(
            channel,
            self._next_ts(),
            args.get("text", ""),
            _listed(args.get("blocks")),
            _listed(args.get("metadata")),
            thread_ts,
            _true(args.get("reply_broadcast")),
        )
        self.messages.append(message)
        return {
            "ok": True,
            "channel": channel,
            "ts": message.ts,
            "message": {"text": message.text, "ts": message.ts},
        }

    def _chat_update(self, args: dict) -> dict:
        channel, ts = args.get("channel", ""), args.get("ts", "")
        refused = self._refuse(channel)
        if refused:
            return refused
        for message in self.messages:
            if message.channel == channel and message.ts == ts:
                message.edits.append({"text": message.text, "blocks": message.blocks})
                message.text = args.get("text", message.text)
                if "blocks" in args:
                    message.blocks = _listed(args["blocks"])
                return {"ok": True, "channel": channel, "ts": ts, "text": message.text}
        return {"ok": False, "error": "message_not_found"}

    def _conversations_history(self, args: dict) -> dict:
        channel = args.get("channel", "")
        if channel not in self.channels:
            return {"ok": False, "error": "channel_not_found"}
        oldest = float(args.get("oldest", 0))
        found = [m for m in self.posts(channel) if float(m.ts) >= oldest]
        return {"ok": True, "messages": [self._shown(m, args) for m in reversed(found)]}

    def _conversations_replies(self, args: dict) -> dict:
        parent = next((m for m in self.messages if m.ts == args.get("ts")), None)
        if parent is None:
            return {"ok": False, "error": "thread_not_found"}
        return {
            "ok": True,
            "messages": [self._shown(m, args) for m in [parent, *self.thread(parent)]],
        }

    def _refuse(self, channel: str) -> dict | None:
        if channel not in self.channels:
            return {"ok": False, "error": "channel_not_found"}
        if channel in self.not_member:
            return {"ok": False, "error": "not_in_channel"}
        return None

    def _shown(self, message: Message, args: dict) -> dict:
        shown = {"ts": message.ts, "text": message.text}
        if _true(args.get("include_all_metadata")) and message.metadata:
            shown["metadata"] = message.metadata
        return shown

    def _next_ts(self) -> str:
        self._ts += 1
        return f"{int(time.time())}.{self._ts:06d}"


def _json(data: dict, status: int = 200, headers: dict | None = None) -> web.Response:
    return web.json_response(data, status=status, headers=headers)


def _listed(value):
    return json.loads(value) if isinstance(value, str) else value


def _true(value) -> bool:
    return value in (True, "true", "1", 1)


class Driver:
    """Slack's side of slash commands and buttons: over HTTP, signed as Slack signs them, to
    the bot's /slack/events; or as Socket Mode envelopes through the fake's socket."""

    def __init__(self, slack: FakeSlack, *, url: str | None = None, secret: str | None = None):
        self.slack = slack
        self.url = url
        self.secret = secret
        self._n = 0
        self._session: ClientSession | None = None

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    def _key(self) -> str:
        self._n += 1
        return f"r{self._n}"

    async def command(
        self,
        command: str,
        text: str = "",
        *,
        channel: str = "C-STORES",
        user: str = "U1",
        socket: bool = False,
    ) -> tuple[int, dict | str, str]:
        """Returns (status, the acknowledgement's body, the response_url key)."""
        key = self._key()
        fields = {
            "token": "unused",
            "team_id": "T1",
            "team_domain": "shoes",
            "channel_id": channel,
            "channel_name": "stores",
            "user_id": user,
            "user_name": user.lower(),
            "command": command,
            "text": text,
            "api_app_id": "A1",
            "is_enterprise_install": "false",
            "response_url": self.slack.response_url(key),
            "trigger_id": f"trigger-{key}",
        }
        if socket:
            ack = await self.slack.push("slash_commands", fields)
            return 200, ack.get("payload", {}), key
        status, body = await self.post(urlencode(fields))
        return status, body, key

    async def click(
        self,
        action_id: str,
        value: str,
        *,
        channel: str = "C-STORES",
        user: str = "U1",
        message_ts: str = "1.000001",
        ephemeral: bool = False,
        socket: bool = False,
    ) -> tuple[int, str]:
        """Returns (status, the response_url key)."""
        key = self._key()
        payload = {
            "type": "block_actions",
            "team": {"id": "T1"},
            "user": {"id": user, "username": user.lower(), "name": user.lower(), "team_id": "T1"},
            "api_app_id": "A1",
            "token": "unused",
            "trigger_id": f"trigger-{key}",
            "channel": {"id": channel},
            "container": {
                "type": "message",
                "message_ts": message_ts,
                "channel_id": channel,
                "is_ephemeral": ephemeral,
            },
            "message": {"ts": message_ts, "text": ""},
            "response_url": self.slack.response_url(key),
            "actions": [
                {
                    "action_id": action_id,
                    "block_id": "b",
                    "value": value,
                    "type": "button",
                    "action_ts": str(time.time()),
                }
            ],
        }
        if socket:
            await self.slack.push("interactive", payload)
            return 200, key
        status, _ = await self.post(urlencode({"payload": json.dumps(payload)}))
        return status, key

    async def event(self, event: dict, *, socket: bool = False) -> int:
        body = {
            "type": "event_callback",
            "team_id": "T1",
            "api_app_id": "A1",
            "event": event,
            "event_id": f"Ev{self._key()}",
            "event_time": int(time.time()),
        }
        if socket:
            await self.slack.push("events_api", body)
            return 200
        status, _ = await self.post(json.dumps(body), content_type="application/json")
        return status

    async def post(
        self,
        body: str,
        *,
        content_type: str = "application/x-www-form-urlencoded",
        timestamp: int | None = None,
        signature: str | None = None,
    ) -> tuple[int, dict | str]:
        stamp = str(timestamp if timestamp is not None else int(time.time()))
        signed = SignatureVerifier(self.secret).generate_signature(timestamp=stamp, body=body)
        headers = {
            "Content-Type": content_type,
            "X-Slack-Request-Timestamp": stamp,
            "X-Slack-Signature": signature or signed,
        }
        # One session, kept alive, as Slack's own client keeps its connections.
        if self._session is None or self._session.closed:
            self._session = ClientSession()
        async with self._session.post(
            self.url, data=body.encode(), headers=headers, timeout=ClientTimeout(total=3)
        ) as response:
            text = await response.text()
            try:
                return response.status, json.loads(text)
            except ValueError:
                return response.status, text
