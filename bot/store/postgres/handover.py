"""Changes asked of a process that does not lead, handed to the one that does through the
`requests` table: the asker writes the action and wakes the leader (NOTIFY requests); the
leader takes it (marks it with its term), applies it in order with the feed and writes the
answer in the same transaction as the change (NOTIFY answers, sent at commit); the asker reads
it. A notification may be missed (a leader changing hands): both sides also look at the table
every second, so nothing waits longer than that for it.

An asker that hears nothing within ANSWER_WITHIN (no leader: one died and none took over yet)
withdraws its request, which tells the person the change was not made. That is only true if
no leader can make it afterwards, so the withdrawal and the leader's taking are each one
conditional UPDATE of the row: whichever comes first wins. A request taken by the leader of
the current term is waited for (its writer may be slow); one taken by a leader since replaced
was never applied (its batches are fenced) and is taken again by the next leader, or withdrawn.
If a taken request is still unanswered after WAIT_FOR_TAKEN, the asker says it cannot tell
whether the change was made, which is the truth."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable

import asyncpg
from pydantic import SecretStr

from bot.core.alerting.actions import Action
from bot.core.errors import CommandError, Refusal, Unsure
from bot.store.action_codec import (
    decode_action,
    decode_refusal,
    decode_result,
    encode_action,
    encode_refusal,
)
from bot.store.postgres.connect import ConnectError, connect
from bot.store.postgres.errors import BROKEN_CONNECTION, TRANSIENT

log = logging.getLogger(__name__)

LOOK_EVERY = 1.0  # seconds between looks at the table, whatever the notifications
ANSWER_WITHIN = 60.0  # an asker withdraws a request no leader took within this
WAIT_FOR_TAKEN = 300.0  # and waits this long at most for the answer to one a leader took


class NoLeader(Refusal):
    """No leader took the change in time, and it was withdrawn: it was not made."""


_WITHDRAWN = (
    "no bot is leading right now (one may be taking over), so that change was not made; "
    "try again in a minute"
)
_UNSURE = (
    "the leading bot took that change but has not answered yet, so I cannot tell whether it "
    "was made; look before asking again"
)


class Asker:
    """A process's way to have the leader apply an action: `await ask(action)`.

    Its connection is made again whenever the server ended it (a restart, a failover): a
    standby outlives the server's restarts. The request's number is drawn before it is
    written, so that a write whose answer was lost is made again without asking twice."""

    def __init__(self, url: str | SecretStr, *, name: str) -> None:
        self._url = url
        self._name = name
        self._conn: asyncpg.Connection | None = None
        self._answered = asyncio.Condition()
        self._lock = asyncio.Lock()  # one statement at a time on the connection

    async def open(self) -> None:
        async with self._lock:
            await self._connection()

    async def close(self) -> None:
        if self._conn is not None:
            conn, self._conn = self._conn, None
            with contextlib.suppress(Exception):
                await asyncio.wait_for(conn.close(), 2)
            conn.terminate()

    async def ask(self, action: Action, at: float) -> object:
        """What the leader's engine made of `action`, or its Refusal raised here: NoLeader
        if no leader took it in time (it is withdrawn, never made), Unsure if one took it but
        never answered."""
        encoded = encode_action(action)
        number: int | None = None
        sent = written = said = False
        started = time.monotonic()
        while True:
            overdue = time.monotonic() - started >= ANSWER_WITHIN
            try:
                async with self._lock:
                    conn = await self._connection()
                    if number is None:
                        number = await conn.fetchval(_NEXT_NUMBER)
                    if not written:
                        sent = True  # from here on, the request may be in the table
                        await conn.execute(_ASK, number, at, encoded)
                        written = True
                        await conn.execute("SELECT pg_notify('requests', $1)", str(number))
                    row = await conn.fetchrow(_ANSWER, number)
                    if overdue and row["answered_at"] is None:
                        withdrawn = await conn.fetchval(
                            _WITHDRAW, number, time.time(), encode_refusal(NoLeader(_WITHDRAWN))
                        )
                        if withdrawn is not None:
                            raise NoLeader(_WITHDRAWN)
                        row = await conn.fetchrow(_ANSWER, number)  # answered or taken since
            except (ConnectError, *TRANSIENT, *BROKEN_CONNECTION) as error:
                self._drop(error)
                if overdue and not sent:
                    raise NoLeader(_WITHDRAWN) from None  # never written: nothing to withdraw
            else:
                if row["answered_at"] is not None:
                    if row["error"] is not None:
                        raise decode_refusal(row["error"])
                    return decode_result(row["result"])
                if overdue and not said:
                    said = True
                    log.warning(
                        "no answer in time, but the leader has taken it: waiting for its answer",
                        extra={"request": number, "term": row["taken_term"]},
                    )
            if time.monotonic() - started >= WAIT_FOR_TAKEN:
                raise Unsure(_UNSURE)
            async with self._answered:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._answered.wait(), LOOK_EVERY)

    async def _connection(self) -> asyncpg.Connection:
        """The connection, made again (listening for answers) if the server ended it."""
        if self._conn is None or self._conn.is_closed():
            self._drop(None)
            conn = await connect(self._url, name=f"{self._name} requests")
            try:
                await conn.add_listener("answers", self._heard)
            except BaseException:
                conn.terminate()
                raise
            self._conn = conn
        return self._conn

    def _drop(self, error: BaseException | None) -> None:
        if error is not None:
            log.warning("cannot hand a change over now", extra={"error": str(error)})
        if self._conn is not None:
            self._conn.terminate()
            self._conn = None

    def _heard(self, _conn: object, _pid: int, _channel: str, _payload: str) -> None:
        asyncio.get_running_loop().create_task(self._wake())

    async def _wake(self) -> None:
        async with self._answered:
            self._answered.notify_all()


# The request's number, drawn first: a write whose answer was lost is made again with it, and
# ON CONFLICT makes the second write nothing if the first one landed.
_NEXT_NUMBER = "SELECT nextval(pg_get_serial_sequence('requests', 'id'))"
_ASK = (
    "INSERT INTO requests (id, at, action) OVERRIDING SYSTEM VALUE VALUES ($1, $2, $3) "
    "ON CONFLICT (id) DO NOTHING"
)
_ANSWER = "SELECT answered_at, result, error, taken_term FROM requests WHERE id = $1"
# Withdrawn only if no leader of the current term has taken it: one taken by a leader since
# replaced was never applied (its batches are fenced), and is taken again by the next leader
# unless withdrawn first; the row's lock decides which comes first.
_WITHDRAW = """
    UPDATE requests SET answered_at = $2, error = $3
    WHERE id = $1 AND answered_at IS NULL
      AND (taken_term IS NULL OR taken_term < (SELECT term FROM leadership WHERE id = 1))
    RETURNING id
"""


Submit = Callable[[Action, float, int], Awaitable[None]]


class Inbox:
    """The leader's side: every request not answered yet, taken for this leader's `term`
    and submitted to the writer in the order asked (the writer's batch writes the answer).
    Runs until cancelled."""

    def __init__(self, url: str | SecretStr, submit: Submit, *, name: str, term: int) -> None:
        self._url = url
        self._submit = submit
        self._name = name
        self._term = term
        self._woken = asyncio.Event()
        self.taken = 0  # requests submitted
        self.looks = 0  # looks at the table

    async def run(self) -> None:
        conn = await connect(self._url, name=f"{self._name} inbox")
        try:
            await conn.add_listener("requests", lambda *_: self._woken.set())
            while True:
                # Every request not answered, not only those numbered after the last one seen:
                # numbers are drawn before the requests are written, so two askers' requests
                # may become visible out of order.
                rows = sorted(await conn.fetch(_TAKE, self._term), key=lambda r: r["id"])
                self.looks += 1
                for row in rows:
                    try:
                        if row["at"] < time.time() - ANSWER_WITHIN:
                            raise ValueError("asked too long ago: its asker gave up")
                        action = decode_action(row["action"])
                    except (KeyError, TypeError, ValueError) as error:
                        await _refuse(conn, row["id"], str(error))
                        continue
                    with contextlib.suppress(Refusal):  # answered with the change's batch
                        await self._submit(action, row["at"], row["id"])
                    self.taken += 1
                self._woken.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._woken.wait(), LOOK_EVERY)
        finally:
            await conn.close()


# Taking requests, for a term that must still be the current one (a leader since replaced
# takes nothing): those nobody took, and those a replaced leader took but never answered
# (its batches are fenced, so it never applied them). An asker's withdrawal is an UPDATE of
# the same row: whichever comes first wins.
_TAKE = """
    UPDATE requests SET taken_term = $1
    WHERE answered_at IS NULL AND (taken_term IS NULL OR taken_term < $1)
      AND $1 = (SELECT term FROM leadership WHERE id = 1)
    RETURNING id, at, action
"""


async def _refuse(conn: asyncpg.Connection, number: int, why: str) -> None:
    """Answer a request that will not be applied, so its asker is not left waiting."""
    log.error("a request is not applied", extra={"request": number, "why": why})
    await conn.execute(
        "UPDATE requests SET answered_at = $2, error = $3 WHERE id = $1",
        number,
        time.time(),
        encode_refusal(CommandError(f"that change was not applied ({why})")),
    )
    await conn.execute("SELECT pg_notify('answers', $1)", str(number))
