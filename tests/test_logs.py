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
