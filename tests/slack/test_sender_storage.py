"""A database that refuses the sender's records for a while (another connection holding the
write lock past the busy timeout, a full disk) delays delivery and loses or repeats nothing;
a lane's task that dies of an unexpected error is logged and started again."""

import asyncio
import contextlib
import sqlite3

import pytest

from bot.slack.sender import POISON_AFTER
from tests.fakes.slack import FakeSlack, Fault
from tests.helpers import eventually, fill, small_filesystem
from tests.slack.outbox import Outbox, sending

C, M = "C-STORES", "C-MERCH"
BUSY = 0.2  # the sender's busy timeout here: the lock is held far longer


@pytest.fixture
async def slack():
    async with FakeSlack() as fake:
        yield fake


@contextlib.contextmanager
def write_lock(path):
    """Another connection holds SQLite's write lock (an operator's open transaction)."""
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("BEGIN IMMEDIATE")
    try:
        yield
    finally:
        db.execute("ROLLBACK")
        db.close()


def refusals(caplog) -> list[str]:
    return [r.error for r in caplog.records if "cannot use the database" in r.getMessage()]


async def test_a_write_lock_held_elsewhere_holds_delivery_back_and_loses_nothing(
    tmp_path, slack, caplog
):
    outbox = await Outbox(tmp_path / "inventory.db").create()
    async with sending(outbox, slack, busy_timeout=BUSY) as sender:
        rows = outbox.commit((C, "post", 1, "a"), (C, "post", 2, "b"), (M, "post", 3, "c"))
        with write_lock(outbox.path):
            sender.enqueue(rows)
            # Each lane has failed and backed off more than once: still alive, still trying.
            await eventually(lambda: sender.storage_failures >= 4, what="retries under the lock")
            assert sender.storage_problem() == "database is locked"
            assert slack.messages == []  # no attempt goes out unrecorded
        await asyncio.wait_for(sender.wait_idle(), 60)

        assert sender.storage_problem() is None
    assert sorted(m.text for m in slack.posts()) == ["a", "b", "c"]
    assert [c.method for c in slack.calls].count("chat.postMessage") == 3
    assert {n: state for n, (state, _, _) in outbox.states().items()} == {
        1: "sent",
        2: "sent",
        3: "sent",
    }
    assert refusals(caplog) == ["database is locked"]  # said once, not at every retry


async def test_a_lock_taken_while_slack_answers_does_not_send_the_message_twice(
    tmp_path, slack, caplog
):
    outbox = await Outbox(tmp_path / "inventory.db").create()
    slack.fail("chat.postMessage", Fault(apply=True, delay=0.5))  # posted; answered 0.5 s on
    async with sending(outbox, slack, busy_timeout=BUSY) as sender:
        sender.enqueue(outbox.commit((C, "post", 1, "Out of stock")))
        await slack.wait_for(lambda s: len(s.posts(C)) == 1)
        with write_lock(outbox.path):  # taken before the answer: the record cannot be written
            await eventually(lambda: sender.storage_failures >= 2, what="retries under the lock")
        await asyncio.wait_for(sender.wait_idle(), 60)

    assert [c.method for c in slack.calls].count("chat.postMessage") == 1
    assert outbox.states() == {1: ("sent", 1, None)}
    with contextlib.closing(sqlite3.connect(outbox.path)) as db:
        ((channel, ts),) = db.execute("SELECT channel_id, ts FROM messages").fetchall()
    assert (channel, ts) == (C, slack.posts(C)[0].ts)


async def test_a_full_disk_holds_delivery_back_until_there_is_room(tmp_path, slack, caplog):
    with small_filesystem(tmp_path / "small") as folder:
        outbox = await Outbox(folder / "inventory.db").create()
        async with sending(outbox, slack, busy_timeout=BUSY) as sender:
            rows = outbox.commit((C, "post", 1, "a"), (M, "post", 2, "b"))
            filler = fill(folder)
            sender.enqueue(rows)
            await eventually(lambda: sender.storage_failures >= 2, what="the disk to refuse")
            assert slack.messages == []
            problem = sender.storage_problem()
            filler.unlink()
            await asyncio.wait_for(sender.wait_idle(), 60)

        assert problem in ("database or disk is full", "disk I/O error")
        assert sorted(m.text for m in slack.posts()) == ["a", "b"]
        assert {state for state, _, _ in outbox.states().values()} == {"sent"}
        assert len(outbox.states()) == 2


async def test_slack_saying_ok_without_saying_where_is_looked_up_not_posted_twice(tmp_path, slack):
    outbox = await Outbox(tmp_path / "inventory.db").create()
    slack.fail("chat.postMessage", Fault(apply=True, body={"ok": True}))  # posted; no ts
    async with sending(outbox, slack) as sender:
        sender.enqueue(outbox.commit((C, "post", 1, "Out of stock")))
        await asyncio.wait_for(sender.wait_idle(), 30)

    assert [m.text for m in slack.posts(C)] == ["Out of stock"]
    assert [c.method for c in slack.calls].count("chat.postMessage") == 1
    assert [c.method for c in slack.calls].count("conversations.history") == 1
    assert outbox.states() == {1: ("sent", 2, None)}


async def test_a_lane_whose_task_dies_is_logged_started_again_and_moves_past_the_row(
    tmp_path, slack, caplog
):
    outbox = await Outbox(tmp_path / "inventory.db").create()
    outbox.commit(
        (C, "post", 1, "Unreadable"), (C, "delete", 2, "Unknown"), (C, "post", 3, "Out of stock")
    )
    # Rows the code cannot read or do (written by another version, or damaged). The unknown
    # operation is seen at once; on the unreadable payload the lane's task dies each time.
    with contextlib.closing(sqlite3.connect(outbox.path)) as db, db:
        db.execute("UPDATE outbox SET payload = '{\"view\": ' WHERE id = 1")
    async with sending(outbox, slack, restart_after=0.05) as sender:
        await asyncio.wait_for(sender.wait_idle(), 30)

        assert sender.restarts == POISON_AFTER
    died = [r for r in caplog.records if "stopped on an unexpected error" in r.getMessage()]
    assert len(died) == POISON_AFTER
    assert {r.channel for r in died} == {C}
    assert all(isinstance(r.exc_info[1], ValueError) for r in died)  # with its traceback
    state, _, error = outbox.states()[1]
    assert state == "failed"
    assert "JSONDecodeError" in error
    assert outbox.states()[2] == ("failed", 0, "unknown operation 'delete'")
    assert outbox.states()[3][0] == "sent"
    assert [m.text for m in slack.posts(C)] == ["Out of stock"]
