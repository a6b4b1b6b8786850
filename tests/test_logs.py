"""Logs: one line per event, as text or JSON, and no secret ever printed."""

import json
import logging

import pytest

from bot.logs import setup_logging

SECRET = "signing-secret-abcdef"
BOT_TOKEN = "xoxb-1111-2222-abcdefghijkl"


@pytest.fixture(autouse=True)
def _root_logger_as_it_was():
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


def test_json_logs_are_one_object_a_line_with_their_fields(capsys):
    setup_logging("INFO", "json")
    logging.getLogger("bot.feed.client").warning(
        "feed unreachable; retrying", extra={"url": "ws://feed/", "attempt": 3}
    )
    (line,) = capsys.readouterr().err.splitlines()
    entry = json.loads(line)
    assert entry["level"] == "WARNING"
    assert entry["logger"] == "bot.feed.client"
    assert entry["message"] == "feed unreachable; retrying"
    assert (entry["url"], entry["attempt"]) == ("ws://feed/", 3)
    assert entry["at"].endswith("+00:00")


def test_secrets_are_masked_in_messages_fields_and_tracebacks(capsys):
    for fmt in ("text", "json"):
        setup_logging("INFO", fmt, secrets=[SECRET])
        log = logging.getLogger("bot.test")
        log.info(
            "token %s and secret %s", BOT_TOKEN, SECRET, extra={"header": f"Bearer {BOT_TOKEN}"}
        )
        try:
            raise RuntimeError(f"Slack said no to {BOT_TOKEN} (secret {SECRET})")
        except RuntimeError:
            log.exception("call failed", extra={"other": "xapp-1-A0-123456-abcdef"})
        out = capsys.readouterr().err
        assert "***" in out
        for secret in (SECRET, BOT_TOKEN, "xapp-1-A0-123456-abcdef"):
            assert secret not in out, (fmt, out)
        assert "RuntimeError" in out  # the traceback is kept, masked


def test_secrets_in_fields_that_are_not_text_and_in_stacks_are_masked_too(capsys):
    for fmt in ("text", "json"):
        setup_logging("INFO", fmt, secrets=[SECRET])
        log = logging.getLogger("bot.test")
        log.warning(
            "request refused",
            extra={"headers": {"Authorization": f"Bearer {SECRET}"}, "attempt": 3},
            stack_info=True,
        )
        out = capsys.readouterr().err
        assert SECRET not in out, (fmt, out)
        assert "attempt" in out
        assert "Stack (most recent call last)" in out


def test_a_line_that_cannot_be_masked_is_dropped_and_the_caller_runs_on(capsys):
    class Unprintable:
        def __str__(self):
            raise ValueError("no text for this")

    setup_logging("INFO", "json", secrets=[SECRET])
    logging.getLogger("bot.test").warning("odd %s", SECRET, extra={"thing": Unprintable()})
    (line,) = capsys.readouterr().err.splitlines()
    assert json.loads(line)["message"] == "a log line could not be masked; dropped"
