"""`inventory-bot run` as its own process, refusing to start on settings that would expose or
mislead: it says why in one line, exits non-zero at once, and changes nothing."""

import os
import socket
import urllib.error
import urllib.request

import pytest

from tests.helpers import BotProcess, eventually, free_port


async def exited(bot: BotProcess, within: float = 20) -> int:
    await eventually(lambda: bot.process.poll() is not None, within=within, what="the exit")
    return bot.process.returncode


@pytest.mark.parametrize(
    "content",
    [os.urandom(8192), b"store,model,inventory\nALDO Maine,ADERI,3\n" * 100],
    ids=["random bytes", "a CSV file"],
)
async def test_a_database_path_that_is_not_sqlite_stops_start_up_at_once(tmp_path, content):
    (tmp_path / "inventory.db").write_bytes(content)

    bot = BotProcess(tmp_path, FEED_URLS="ws://127.0.0.1:9/")
    code = await exited(bot)

    assert code == 1
    output = bot.output()
    assert f"cannot open DATABASE_PATH={bot.database}: file is not a database" in output
    assert "Traceback" not in output
    assert bot.database.read_bytes() == content
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bot-0.log", "inventory.db"]


def api_status(port: int, token: str | None = None) -> int:
    request = urllib.request.Request(f"http://127.0.0.1:{port}/api/stock")
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=2) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code
    except OSError:
        return 0  # not listening (yet)


async def test_an_api_open_to_the_network_without_a_token_is_refused_unless_meant(tmp_path):
    port = free_port()
    common = {"HTTP_HOST": "0.0.0.0", "HTTP_PORT": str(port), "FEED_URLS": "ws://127.0.0.1:9/"}

    refused = BotProcess(tmp_path, **common)
    assert await exited(refused) == 2
    assert refused.output().startswith(
        "inventory-bot: bad setting API_TOKEN: needed when HTTP_HOST=0.0.0.0 is reachable from "
        "other machines: /api serves stock, 30 days of sales, alerts and transfers to whoever "
        "reaches it. Set API_TOKEN, or API_PUBLIC=true if it is meant to be open\n"
    )
    with socket.socket() as probe:
        assert probe.connect_ex(("127.0.0.1", port)) != 0  # nothing was served
    assert not refused.database.exists()

    token = "a-token-of-24-characters"
    guarded = BotProcess(tmp_path, API_TOKEN=token, **common)
    try:
        await eventually(lambda: api_status(port, token) == 200, what="the API with a token")
        assert api_status(port) == 401
    finally:
        assert guarded.terminate() == 0

    public = BotProcess(tmp_path, API_PUBLIC="true", **common)
    try:
        await eventually(lambda: api_status(port) == 200, what="the API, public on purpose")
    finally:
        assert public.terminate() == 0
    (warned,) = [line for line in public.output().splitlines() if "API_PUBLIC" in line]
    assert "WARNING bot /api answers anyone who reaches it, without a token" in warned


async def test_a_feed_url_password_is_not_printed_when_the_url_is_refused(tmp_path):
    bot = BotProcess(tmp_path, FEED_URLS="wss://reader:hunter2-secret@feed.example:99999/")

    assert await exited(bot) == 2
    assert bot.output() == (
        "inventory-bot: bad setting FEED_URLS: 'wss://***@feed.example:99999/' has a bad port\n"
    )
