"""A local Slack: the Web API methods the bot calls, served over real HTTP by aiohttp.

The bot reaches it through its normal slack_sdk client (SLACK_API_URL). It refuses what Slack
refuses, with Slack's own error codes:
- the token (`invalid_auth`, `not_authed`) and its scopes (`missing_scope`; by default the app
  has the scopes manifests/http.json declares, as if installed from it);
- channels: public or private, the bot a member or not, archived. A post to a public channel
  the bot never joined needs `chat:write.public` (else `not_in_channel`); a private channel it is
  not in does not exist for it (`channel_not_found`). Reading history needs membership
  (`not_in_channel`) and `channels:history` or `groups:history`; `conversations.join` makes the
  bot a member of a public channel (`channels:join`);
- message content (tests/fakes/block_kit.py): `no_text`, `invalid_blocks`, `msg_too_long`,
  metadata of the documented shape, text truncated past 40,000 characters;
- `chat.update` of a message only if the bot posted it (`cant_update_message`);
- rate limits (tests/fakes/rate_limits.py): 429 with an integer Retry-After past one post a
  second per channel (short bursts pass) or past a method's budget for the workspace.
History and thread replies come newest (replies: oldest) first, `limit` at a time, with
`has_more` and a `response_metadata.next_cursor` for the next page.

Tests can also script faults: `fail()` with a Fault (a 429, a 500, an `ok: false` code on HTTP
200, a call that takes effect but whose answer comes too late or never), or `refuse()` to have
a method answer an error code by name.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import json
import time
from collections import defaultdict, deque
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qsl, urlencode

from aiohttp import ClientSession, ClientTimeout, web
from slack_sdk.signature import SignatureVerifier

from tests.fakes.block_kit import kept_text, parsed, refusal
from tests.fakes.people import People
from tests.fakes.rate_limits import POST_BURST, POST_RATE, RateLimits, Tier
from tests.fakes.views import Views

BOT_USER = "UBOT"
BOT_ID = "BBOT"
MANIFEST = Path(__file__).resolve().parents[2] / "manifests" / "http.json"
HISTORY_LIMIT = (100, 999)  # conversations.history: default and most messages a page
PEOPLE = (*(f"U{n}" for n in range(1, 10)), "UBOSS", "UACT")  # who the workspace has
GROUPS = [{"id": "S0BUYERS", "handle": "buyers", "name": "Buyers", "date_delete": 0}]
REPLIES_LIMIT = (1000, 1000)


def installed_scopes() -> set[str]:
    """The bot scopes the app's manifest asks for: what an install from it grants."""
    return set(json.loads(MANIFEST.read_text())["oauth_config"]["scopes"]["bot"])


@dataclass
class Call:
    method: str
    args: dict
    at: float  # wall-clock time the request arrived
    outcome: str = "ok"  # ok | error code | http status | stalled
    token: str = ""  # the bearer token it came with


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
    user: str = BOT_USER  # who posted it: the bot, or a person


@dataclass
class Fault:
    status: int = 500
    error: str = "internal_error"
    retry_after: int | None = None
    apply: bool = False  # take effect before answering
    delay: float = 0.0  # seconds before answering (or never, with hang)
    hang: bool = False
    body: dict | None = None  # with apply: answer this instead of the real answer


class FakeSlack(Views, People):
    """Start with `async with FakeSlack() as slack`, point the bot at `slack.api_url`.
    Views (modals, the App Home) are in views.py; people, user groups and channel membership
    in people.py."""

    def __init__(
        self,
        *,
        token: str = "xoxb-test-token",
        app_token: str = "xapp-test-token",
        channels: tuple[str, ...] = ("C-STORES", "C-MERCH", "C-OPS"),
        not_member: tuple[str, ...] = (),
        private: tuple[str, ...] = (),
        scopes: set[str] | None = None,
        tiers: dict[str, Tier] | None = None,
        post_rate: float = POST_RATE,
        post_burst: float = POST_BURST,
        tokens: tuple[str, ...] = (),
        people: tuple[str, ...] = PEOPLE,
        groups: list[dict] | None = GROUPS,
        members: dict[str, set[str]] | None = None,
    ) -> None:
        """`tokens`: more bot tokens it accepts, to tell apart the processes of one app that
        the tests give each their own (Slack gives every replica the same)."""
        self.token = token
        self.tokens = {token, *tokens}
        self.app_token = app_token
        self.channels = set(channels)
        self.not_member = set(not_member)  # channels the bot is not in
        self.private = set(private)  # private channels; the others are public
        self.archived: set[str] = set()
        self.scopes = installed_scopes() if scopes is None else set(scopes)
        self.limits = RateLimits(tiers, post_rate=post_rate, post_burst=post_burst)
        self.responses: dict[str, list[dict]] = defaultdict(list)  # response_url id -> posts
        self._init_views()
        self._init_people(
            groups,
            [{"id": u, "name": u.lower(), "profile": {"real_name": u.title()}} for u in people],
            members,
        )
        self.socket: web.WebSocketResponse | None = None
        self.socket_connections = 0
        self._acks: dict[str, asyncio.Future] = {}
        self.calls: list[Call] = []
        self.messages: list[Message] = []
        self.faults: dict[str, deque[Fault | None]] = defaultdict(deque)
        self.changed = asyncio.Condition()
        self._last_us = 0
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

    def refuse(self, method: str, error: str, times: int = 1) -> None:
        """The next `times` calls of `method` are answered `{"ok": false, "error": error}`
        on HTTP 200, as Slack answers every error but a 429."""
        self.fail(method, *[Fault(status=200, error=error)] * times)

    def say(self, channel: str, text: str, *, user: str = "U1", thread_ts: str | None = None):
        """Someone (not the bot) writes in a channel or a thread."""
        message = Message(channel, self._next_ts(), text, None, None, thread_ts, user=user)
        self.messages.append(message)
        return message

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
        given = request.headers.get("Authorization")
        call = Call(method, args, time.time(), token=(given or "").removeprefix("Bearer "))
        self.calls.append(call)
        wanted = {self.app_token} if method == "apps.connections.open" else self.tokens
        if given not in {f"Bearer {token}" for token in wanted}:
            call.outcome = "not_authed" if not given else "invalid_auth"
            await self._notify()
            return _json({"ok": False, "error": call.outcome})
        fault = self.faults[method].popleft() if self.faults[method] else None
        if fault is not None and not fault.apply:
            call.outcome = "stalled" if fault.hang else str(fault.status)
            if fault.status == 200:
                call.outcome = fault.error
            await self._late(fault)
            headers = (
                {"Retry-After": str(fault.retry_after)} if fault.retry_after is not None else {}
            )
            return _json({"ok": False, "error": fault.error}, fault.status, headers)
        channel = args.get("channel") if isinstance(args.get("channel"), str) else None
        wait = self.limits.retry_after(method, channel, time.monotonic())
        if wait is not None:
            call.outcome = "429"
            await self._notify()
            return _json({"ok": False, "error": "ratelimited"}, 429, {"Retry-After": str(wait)})
        handler = getattr(self, "_" + method.replace(".", "_"), None)
        result = handler(args) if handler else {"ok": False, "error": "unknown_method"}
        if result.get("ok"):
            self.limits.accepted(method, channel, time.monotonic())
        else:
            call.outcome = result.get("error", "error")
        if fault is not None:  # it took effect; the answer is late, lost or other than it was
            call.outcome = "stalled"
            await self._late(fault)
            result = fault.body if fault.body is not None else result
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
        return {
            "ok": True,
            "team_id": "T1",
            "user_id": BOT_USER,
            "bot_id": BOT_ID,
            "team": "Shoes",
        }

    def _chat_postMessage(self, args: dict) -> dict:
        channel = args.get("channel", "")
        refused = self._writing(channel) or self._needs("chat:write")
        if refused:
            return refused
        if channel in self.archived:
            return {"ok": False, "error": "is_archived"}
        if channel in self.not_member and "chat:write.public" not in self.scopes:
            return {"ok": False, "error": "not_in_channel"}
        thread_ts = args.get("thread_ts")
        if thread_ts and self._find(channel, thread_ts) is None:
            return {"ok": False, "error": "thread_not_found"}
        refused = refusal(
            "chat.postMessage",
            args.get("text"),
            args.get("blocks"),
            args.get("metadata"),
            blocks_given="blocks" in args,
        )
        if refused:
            return refused
        message = Message(
            channel,
            self._next_ts(),
            kept_text(args.get("text")),
            parsed(args.get("blocks")),
            parsed(args.get("metadata")),
            thread_ts,
            _true(args.get("reply_broadcast")),
        )
        self.messages.append(message)
        return {
            "ok": True,
            "channel": channel,
            "ts": message.ts,
            "message": {"text": message.text, "ts": message.ts, "bot_id": BOT_ID},
        }

    def _chat_update(self, args: dict) -> dict:
        channel, ts = args.get("channel", ""), args.get("ts", "")
        refused = self._writing(channel) or self._needs("chat:write")
        if refused:
            return refused
        if channel in self.archived:
            return {"ok": False, "error": "is_inactive"}
        message = self._find(channel, ts)
        if message is None:
            return {"ok": False, "error": "message_not_found"}
        if message.user != BOT_USER:
            return {"ok": False, "error": "cant_update_message"}
        refused = refusal(
            "chat.update",
            args.get("text", message.text if "blocks" not in args else None),
            args.get("blocks", message.blocks),
            args.get("metadata"),
            blocks_given="blocks" in args,
        )
        if refused:
            return refused
        message.edits.append({"text": message.text, "blocks": message.blocks})
        message.text = args.get("text", message.text)
        if "blocks" in args:
            message.blocks = parsed(args["blocks"])
        if "metadata" in args:
            message.metadata = parsed(args["metadata"]) or None
        return {"ok": True, "channel": channel, "ts": ts, "text": message.text}

    def _conversations_history(self, args: dict) -> dict:
        channel = args.get("channel", "")
        refused = self._reading(channel)
        if refused:
            return refused
        found = self._window(args, self.posts(channel) + self._broadcasts(channel))
        if isinstance(found, dict):
            return found
        found.sort(key=lambda m: float(m.ts), reverse=True)  # newest first
        return self._page(found, args, HISTORY_LIMIT, newest_first=True)

    def _conversations_replies(self, args: dict) -> dict:
        channel = args.get("channel", "")
        refused = self._reading(channel)
        if refused:
            return refused
        message = self._find(channel, args.get("ts", ""))
        if message is None:
            return {"ok": False, "error": "thread_not_found"}
        parent = self._find(channel, message.thread_ts) if message.thread_ts else message
        found = self._window(args, self.thread(parent))
        if isinstance(found, dict):
            return found
        found.sort(key=lambda m: float(m.ts))
        page = self._page(found, args, REPLIES_LIMIT, newest_first=False)
        if not args.get("cursor"):
            page["messages"].insert(0, self._shown(parent, args))  # the parent comes first
        return page

    def _conversations_join(self, args: dict) -> dict:
        channel = args.get("channel", "")
        refused = self._writing(channel) or self._needs("channels:join")
        if refused:
            return refused
        if channel in self.private:
            return {"ok": False, "error": "method_not_supported_for_channel_type"}
        if channel in self.archived:
            return {"ok": False, "error": "is_archived"}
        shown = {"id": channel, "is_channel": True, "is_private": False, "is_member": True}
        if channel not in self.not_member:
            warning = "already_in_channel"
            return {
                "ok": True,
                "channel": shown,
                "warning": warning,
                "response_metadata": {"warnings": [warning]},
            }
        self.not_member.discard(channel)
        return {"ok": True, "channel": shown}

    # -- the rules behind the methods -------------------------------------------------------

    def _writing(self, channel: str) -> dict | None:
        """A private channel the bot is not in does not exist for it."""
        if channel not in self.channels or (channel in self.private and channel in self.not_member):
            return {"ok": False, "error": "channel_not_found"}
        return None

    def _reading(self, channel: str) -> dict | None:
        refused = self._writing(channel) or self._needs(
            "groups:history" if channel in self.private else "channels:history"
        )
        if refused:
            return refused
        if channel in self.not_member:  # chat:write.public posts; it does not read
            return {"ok": False, "error": "not_in_channel"}
        return None

    def _needs(self, scope: str) -> dict | None:
        if scope in self.scopes:
            return None
        return {
            "ok": False,
            "error": "missing_scope",
            "needed": scope,
            "provided": ",".join(sorted(self.scopes)),
        }

    def _find(self, channel: str, ts: str | None) -> Message | None:
        return next((m for m in self.messages if m.channel == channel and m.ts == ts), None)

    def _broadcasts(self, channel: str) -> list[Message]:
        return [m for m in self.messages if m.channel == channel and m.thread_ts and m.broadcast]

    def _window(self, args: dict, messages: list[Message]) -> list[Message] | dict:
        """The messages between `oldest` and `latest` (exclusive unless `inclusive`)."""
        bounds = []
        for name, default in (("oldest", 0.0), ("latest", float("inf"))):
            try:
                bounds.append(float(args.get(name) or default))
            except ValueError:
                return {"ok": False, "error": f"invalid_ts_{name}"}
        oldest, latest = bounds
        if _true(args.get("inclusive")):
            return [m for m in messages if oldest <= float(m.ts) <= latest]
        return [m for m in messages if oldest < float(m.ts) < latest]

    def _page(self, found: list[Message], args: dict, limits, *, newest_first: bool) -> dict:
        cursor = args.get("cursor")
        if cursor:
            start = _cursor_ts(cursor)
            if start is None:
                return {"ok": False, "error": "invalid_cursor"}
            found = [
                m for m in found if (float(m.ts) <= start if newest_first else float(m.ts) >= start)
            ]
        default, most = limits
        try:
            limit = min(most, max(1, int(args.get("limit") or default)))
        except ValueError:
            return {"ok": False, "error": "invalid_arguments"}
        page, rest = found[:limit], found[limit:]
        answer = {
            "ok": True,
            "messages": [self._shown(m, args) for m in page],
            "has_more": bool(rest),
        }
        if rest:
            answer["response_metadata"] = {"next_cursor": _cursor(rest[0].ts)}
        return answer

    def _shown(self, message: Message, args: dict) -> dict:
        shown = {"type": "message", "ts": message.ts, "text": message.text, "user": message.user}
        if message.user == BOT_USER:
            shown["bot_id"] = BOT_ID
        if message.thread_ts:
            shown["thread_ts"] = message.thread_ts
        elif self.thread(message):
            shown.update(thread_ts=message.ts, reply_count=len(self.thread(message)))
        if _true(args.get("include_all_metadata")) and message.metadata:
            shown["metadata"] = message.metadata
        return shown

    def _next_ts(self) -> str:
        # Microseconds since the epoch, always increasing: a ts names one message.
        self._last_us = max(time.time_ns() // 1000, self._last_us + 1)
        return f"{self._last_us // 1_000_000}.{self._last_us % 1_000_000:06d}"


def _cursor(ts: str) -> str:
    return base64.b64encode(f"next_ts:{ts}".encode()).decode()


def _cursor_ts(cursor: str) -> float | None:
    try:
        kind, _, ts = base64.b64decode(cursor, validate=True).decode().partition(":")
        return float(ts) if kind == "next_ts" else None
    except (ValueError, binascii.Error):
        return None


def _json(data: dict, status: int = 200, headers: dict | None = None) -> web.Response:
    return web.json_response(data, status=status, headers=headers)


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
        self.slack.issue_trigger(fields["trigger_id"])
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
        self.slack.issue_trigger(payload["trigger_id"])
        if socket:
            await self.slack.push("interactive", payload)
            return 200, key
        status, _ = await self.post(urlencode({"payload": json.dumps(payload)}))
        return status, key

    async def interact(self, payload: dict, *, user: str = "U1") -> tuple[int, dict | str]:
        """Send an interactive payload (a view's action, submission or options request) as
        `user`, signed; returns (status, the acknowledgement's body)."""
        key = self._key()
        payload = {
            "team": {"id": "T1"},
            "user": {"id": user, "username": user.lower(), "name": user.lower(), "team_id": "T1"},
            "api_app_id": "A1",
            "token": "unused",
            "trigger_id": f"trigger-{key}",
            **payload,
        }
        self.slack.issue_trigger(payload["trigger_id"])
        return await self.post(urlencode({"payload": json.dumps(payload)}))

    async def in_view(
        self, view: dict, block_id: str, action_id: str, state: dict, *, user: str = "U1"
    ) -> int:
        """`user` types or picks in an open modal (state as Slack reports it: {"type",
        "value"} or {"type", "selected_option"}): the view's action, as Slack sends it."""
        view = self.slack.type_into(view["id"], block_id, action_id, state)
        action = {"action_id": action_id, "block_id": block_id, **state}
        payload = {"type": "block_actions", "container": {"type": "view", "view_id": view["id"]}}
        status, _ = await self.interact({**payload, "view": view, "actions": [action]}, user=user)
        return status

    async def submit(self, view: dict, *, user: str = "U1") -> tuple[int, dict | str]:
        """`user` presses the modal's submit button."""
        view = self.slack.open_views[view["id"]]
        return await self.interact({"type": "view_submission", "view": view}, user=user)

    async def suggest(
        self, action_id: str, value: str, *, block_id: str = "", view: dict | None = None
    ) -> tuple[int, dict | str]:
        """Someone types `value` in a select the app fills: Slack asks for its options."""
        payload = {"type": "block_suggestion", "action_id": action_id, "block_id": block_id}
        payload["value"] = value
        if view is not None:
            payload["view"] = view
        return await self.interact(payload)

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
