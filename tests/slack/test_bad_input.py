"""Bad input to every command gets a clear private error and changes nothing; no text at all,
however odd, makes a handler raise or change what it should not."""

from __future__ import annotations

import logging
import sqlite3

import pytest
from hypothesis import HealthCheck, given, note, settings
from hypothesis import strategies as st

from bot.commands.dispatch import FAILED
from tests.slack.conftest import db_state

BAD = [
    ("/thresholds", "set low=80 high=10", "High (10) must be above low (80)."),
    (
        "/thresholds",
        "set low=-1",
        "`low` must be a whole number from 0 to 1,000,000 (or off), not `-1`.",
    ),
    ("/thresholds", "set low=5 colour=red", "I don't know `colour=`."),
    ("/thresholds", "set low=5 low=6", "`low=` is there twice."),
    ("/thresholds", "set 5", "I don't understand `5`"),
    ("/thresholds", "set store=maine", "Say what to set"),
    ("/thresholds", "frobnicate", "I don't know `/thresholds frobnicate`."),
    ("/thresholds", 'set low=5 store="ALDO Maine', "A quote is not closed."),
    ("/thresholds", "set low=5 store=nowhere", "I know no store called `nowhere`"),
    ("/thresholds", "clear store=maine", "There is no rule at ALDO Maine Mall in this channel."),
    ("/thresholds", "watch stores=", "`stores=` needs a value."),
    ("/thresholds", "quiet 25:00-07:00", "Quiet hours look like 22:00-07:00"),
    ("/thresholds", "quiet 22:00-07:00 Mars/Olympus", "Unknown time zone 'Mars/Olympus'."),
    # A folder of the zone database, a name too long for a file: still only unknown zones.
    ("/thresholds", "quiet 22:00-07:00 America", "Unknown time zone 'America'."),
    ("/thresholds", "quiet 22:00-07:00 " + "a" * 300, "Unknown time zone 'aaaaaaaa"),
    # Slack sends a typed < as &lt;: what is said back is escaped again, never a mention.
    ("/thresholds", "quiet &lt;!here&gt;-07:00", "not '&lt;!here&gt;-07:00'."),
    ("/thresholds", "set wait=1y low=4", "`wait` must be a duration like 30m"),
    ("/stock", "x" * 4000, "That is longer than any command needs (500 characters at most)."),
    ("/stock", "x; DROP TABLE levels; --", "I know no store or model called"),
    ("/stock", "'; DROP TABLE levels; --", "A quote is not closed."),
    ("/stock", "<@U123|bob>", "Mentions and links are not store or model names."),
    ("/stock", "<https://evil.example|click>", "Mentions and links are not store or model names."),
    ("/stock", "ALDO\x00Maine", "That text has control characters in it."),
    ("/alerts", "ack abc", "`abc` is not an alert number; they look like #12."),
    ("/alerts", "ack", "Which alert?"),
    ("/alerts", "snooze 1 forever", "`snooze` must be a duration like 30m, 4h or 1d"),
    ("/alerts", "snooze 1 10s", "A snooze lasts a minute at least."),
    ("/alerts", "mute 1 now please", "`/alerts mute 12 4h` takes no more words."),
    ("/alerts", "ack 42", "There is no alert #42 in this channel."),
    ("/alerts", "dance", "I don't know `/alerts dance`."),
]


@pytest.mark.parametrize(("command", "text", "says"), BAD, ids=[f"{c} {t[:30]}" for c, t, _ in BAD])
async def test_bad_input_gets_a_clear_private_error_and_changes_nothing(
    running, command, text, says
):
    bot, slack_side, _ = await running()
    before = db_state(bot)
    status, body, _ = await slack_side.command(command, text)

    assert status == 200
    assert body["response_type"] == "ephemeral"
    assert body["text"].startswith(":warning: ")
    assert says in body["text"]
    assert db_state(bot) == before
    with sqlite3.connect(bot.settings.database_path) as db:
        assert db.execute("SELECT count(*) FROM levels").fetchone() == (5,)


WORDS = st.sampled_from(
    [
        "set",
        "clear",
        "watch",
        "quiet",
        "preview",
        "help",
        "ack",
        "snooze",
        "mute",
        "unmute",
        "all",
        "off",
        "low=",
        "high=",
        "store=",
        "model=",
        "stores=",
        "models=",
        "gate=",
        "wait=",
        "maine",
        "ADERI",
        '"ALDO Maine Mall"',
        "'",
        '"',
        "=",
        ",",
        "#1",
        "1",
        "-3",
        "10**30",
        "4h",
        "22:00-07:00",
        "<@U1>",
        "&lt;",
        "\\",
        "\n",
        "é",
        "東京",
        "👟",
        "payload",
        "DROP",
    ]
)
TEXT = st.one_of(
    st.text(max_size=600),
    st.lists(WORDS, max_size=8).map(" ".join),
    st.lists(st.one_of(WORDS, st.text(max_size=8)), max_size=8).map("".join),
)


class ErrorsLogged(logging.Handler):
    """Collects the errors logged under `names` while attached: a command that fails inside
    is logged there (and answered "Something went wrong"), whatever the reply looks like."""

    def __init__(self, *names: str) -> None:
        super().__init__(logging.ERROR)
        self.names = names
        self.records: list[logging.LogRecord] = []

    def __enter__(self) -> ErrorsLogged:
        for name in self.names:
            logging.getLogger(name).addHandler(self)
        return self

    def __exit__(self, *exc: object) -> None:
        for name in self.names:
            logging.getLogger(name).removeHandler(self)

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


def form_opened(trigger: str):
    """The rules form was opened with this trigger, and Slack took it."""
    return lambda s: (
        [c.outcome for c in s.calls if c.method == "views.open" and c.args["trigger_id"] == trigger]
        == ["ok"]
    )


@pytest.fixture
async def bot_over_http(running):
    """One running bot for every example of a property: starting one per example would take
    minutes. Each example reads the state before and after, so what came before is no matter."""
    bot, slack_side, _ = await running()
    return bot, slack_side


@settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(command=st.sampled_from(["/stock", "/transfers", "/thresholds", "/alerts"]), text=TEXT)
async def test_no_text_makes_a_handler_raise_or_change_anything_silently(
    bot_over_http, slack, command, text
):
    bot, slack_side = bot_over_http
    note(f"{command} {text!r}")
    before = db_state(bot)

    with ErrorsLogged("bot.commands", "bot.slack.listeners") as errors:
        status, body, key = await slack_side.command(command, text)
        if status == 200 and body and "Working on it" in body["text"]:
            await slack.wait_for(lambda s: s.responses[key])
            body = slack.responses[key][0]

    assert status == 200
    if body == "":  # `/thresholds` with no words: the rules form opens instead of an answer
        assert command == "/thresholds"
        await slack.wait_for(form_opened(f"trigger-{key}"))
        assert not errors.records, [r.getMessage() for r in errors.records]
        assert db_state(bot) == before
        return
    reply = body["text"]
    assert reply
    assert FAILED not in reply  # the bot's own failure, whatever the person typed
    assert not errors.records, [r.getMessage() for r in errors.records]
    assert body["response_type"] == "ephemeral"
    changed = db_state(bot) != before
    if changed:
        # Only a change the person asked for, and was told was made.
        assert command in ("/thresholds", "/alerts")
        assert reply.startswith(":white_check_mark:")
    if reply.startswith(":warning:"):
        assert not changed
