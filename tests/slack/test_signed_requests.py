"""/slack/events before the signature: forged, odd and replayed requests sent over HTTP to
the running bot get 401 (or 400) and change nothing, and the log holds a few short lines
about them, never their bodies."""

import hashlib
import hmac
import json
import logging
import sqlite3
import time
from urllib.parse import urlencode

import aiohttp
import pytest

from bot.logs import fields_of
from tests.slack.conftest import SECRET, db_state


def signature(body: bytes, stamp: str, secret: str = SECRET) -> str:
    """Slack's v0 signature (docs.slack.dev, "Verifying requests from Slack")."""
    signed = b"v0:" + stamp.encode() + b":" + body
    return "v0=" + hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()


async def post(url: str, body: bytes, headers: dict[str, str]) -> int:
    async with (
        aiohttp.ClientSession() as session,
        session.post(url, data=body, headers=headers) as response,
    ):
        await response.read()
        return response.status


def logged(caplog) -> str:
    """Every record as the log would carry it: message, fields, traceback."""
    return "\n".join(
        f"{r.levelname} {r.name} {r.getMessage()} {fields_of(r)} {r.exc_info or ''}"
        for r in caplog.records
    )


async def test_forged_requests_are_refused_unread_and_logged_in_a_few_short_lines(running, caplog):
    caplog.set_level(logging.INFO)  # before the app is built, as `inventory-bot run` does
    bot, driver, _ = await running()
    before = db_state(bot)
    # A megabyte, with a line break that would forge a log line if the body were logged.
    body = ("command=/thresholds&text=" + "A" * 1_000_000).encode()
    body += b"\n2026-01-01 00:00:00 ERROR bot forged line"
    now = str(int(time.time()))
    ways = [
        {},  # no signature at all
        {"X-Slack-Request-Timestamp": now, "X-Slack-Signature": "v0=" + "0" * 64},
        {"X-Slack-Request-Timestamp": now, "X-Slack-Signature": signature(body, now, "guess")},
        {"X-Slack-Request-Timestamp": str(int(now) - 600), "X-Slack-Signature": "v0=1"},
        {"X-Slack-Request-Timestamp": "tomorrow", "X-Slack-Signature": "v0=1"},
    ]
    caplog.clear()

    started = time.perf_counter()
    statuses = [await post(driver.url, body, ways[i % len(ways)]) for i in range(20)]
    took = time.perf_counter() - started

    assert statuses == [401] * 20
    text = logged(caplog)
    assert "forged" not in text
    assert "AAAA" not in text
    assert len(text) < 2_000, text[:2_000]
    refusals = [r for r in caplog.records if "refused" in r.getMessage()]
    reasons = {fields_of(r)["reason"] for r in refusals}
    assert reasons == {"no_timestamp", "bad_signature", "stale_timestamp", "bad_timestamp"}
    assert len(refusals) == 4  # the first of each kind; the rest are counted for a summary
    assert took < 5
    assert db_state(bot) == before


def payload(**fields) -> bytes:
    return urlencode({"payload": json.dumps(fields)}).encode()


@pytest.mark.parametrize(
    ("what", "stamp", "content_type", "body", "status"),
    [
        ("a timestamp that is not a number", "abc", "form", b"command=%2Fstock", 401),
        ("a timestamp in exponent form", "1.7e9", "form", b"command=%2Fstock", 401),
        ("a payload that is not JSON", None, "form", b"payload=%7Bnot+json", 400),
        ("a payload that is a list", None, "form", b"payload=%5B1%2C2%5D", 400),
        ("a JSON body that is not JSON", None, "json", b'{"type": ', 400),
        ("a JSON body that is a string", None, "json", b'"event_callback"', 400),
        ("a body that is not UTF-8", None, "form", b"command=%2Fstock&text=\xff\xfe", 400),
        ("actions that are text", None, "form", payload(type="block_actions", actions="x"), 400),
        (
            "an action without its id",
            None,
            "form",
            payload(type="block_actions", actions=[{}]),
            400,
        ),
        ("an event that is a number", None, "json", b'{"type": "event_callback", "event": 5}', 400),
    ],
)
async def test_odd_requests_get_a_4xx_never_a_500_and_no_traceback(
    running, caplog, what, stamp, content_type, body, status
):
    bot, driver, _ = await running()
    before = db_state(bot)
    stamp = stamp or str(int(time.time()))
    headers = {
        "Content-Type": "application/json"
        if content_type == "json"
        else "application/x-www-form-urlencoded",
        "X-Slack-Request-Timestamp": stamp,
        "X-Slack-Signature": signature(body, stamp),  # signed, as Slack's secret would sign it
    }
    caplog.set_level(logging.INFO)

    assert await post(driver.url, body, headers) == status
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info]
    assert db_state(bot) == before
    assert await post(driver.url.replace("/slack/events", "/healthz"), b"", {}) in (200, 405)


def command_body(command: str, text: str, key: str, response_url: str) -> str:
    return urlencode(
        {
            "token": "unused",
            "team_id": "T1",
            "channel_id": "C-STORES",
            "user_id": "U7",
            "user_name": "u7",
            "command": command,
            "text": text,
            "api_app_id": "A1",
            "response_url": response_url,
            "trigger_id": f"trigger-{key}",
        }
    )


def config_changes(bot) -> int:
    with sqlite3.connect(bot.settings.database_path) as db:
        return db.execute("SELECT count(*) FROM config_changes").fetchone()[0]


async def test_a_replayed_thresholds_set_is_applied_and_announced_once(running, slack):
    bot, driver, _ = await running()
    changes = config_changes(bot)
    body = command_body("/thresholds", "set low=5", "replayed", slack.response_url("replayed"))
    stamp = int(time.time())

    first, answer = await driver.post(body, timestamp=stamp)
    assert first == 200
    assert answer["text"].startswith(":white_check_mark: Saved: low &lt;= 5")
    await slack.wait_for(lambda s: len(s.responses["replayed"]) == 1)

    again, refused = await driver.post(body, timestamp=stamp)  # the same bytes, within 5 min
    assert (again, refused) == (401, {"error": "invalid request"})

    # A later change, announced after anything the replay could have caused.
    later = command_body("/thresholds", "set low=6", "later", slack.response_url("later"))
    assert (await driver.post(later))[0] == 200
    await slack.wait_for(lambda s: len(s.responses["later"]) == 1)

    assert len(slack.responses["replayed"]) == 1
    assert config_changes(bot) == changes + 2  # low=5 once, then low=6
    assert json.dumps(slack.responses["replayed"][0]).count("low &lt;= 5") == 1
