"""Settings: defaults, parsing, and one plain line per bad value."""

import itertools
import re
import subprocess
import sys
from pathlib import Path

import pytest

from bot.config import Settings, SettingsError, load_settings, read_locations

BOT = str(Path(sys.executable).parent / "inventory-bot")
ROOT = Path(__file__).resolve().parent.parent


def test_defaults_run_on_the_simulator_with_a_local_database():
    settings = load_settings()

    assert settings.feed_urls == []
    assert settings.database_path == Path("data/inventory.db")
    assert settings.slack_bot_token is None
    assert settings.slack_api_url == "https://slack.com/api/"
    assert settings.slack_mode == "socket"


def test_feed_urls_are_comma_separated(monkeypatch):
    monkeypatch.setenv("FEED_URLS", " ws://a:8080/ , wss://b.example/feed,")

    assert load_settings().feed_urls == ["ws://a:8080/", "wss://b.example/feed"]


def test_settings_are_read_from_a_dot_env_file(tmp_path):
    (tmp_path / ".env").write_text("LOG_LEVEL=debug\nSLACK_MODE=HTTP\nHTTP_PORT=8099\n")

    settings = load_settings()

    assert (settings.log_level, settings.slack_mode, settings.http_port) == ("DEBUG", "http", 8099)


def test_the_environment_wins_over_the_dot_env_file(tmp_path, monkeypatch):
    (tmp_path / ".env").write_text("HTTP_PORT=8099\n")
    monkeypatch.setenv("HTTP_PORT", "9000")

    assert load_settings().http_port == 9000


@pytest.mark.parametrize(
    ("name", "value", "says"),
    [
        (
            "FEED_URLS",
            "http://feed:8080/",
            "FEED_URLS: 'http://feed:8080/' is not a ws:// or wss://",
        ),
        ("FEED_URLS", "ws://", "FEED_URLS: 'ws://' is not a ws:// or wss:// URL"),
        ("HTTP_PORT", "70000", "HTTP_PORT: Input should be less than or equal to 65535"),
        ("HTTP_PORT", "web", "HTTP_PORT: Input should be a valid integer"),
        ("SLACK_MODE", "webhook", "SLACK_MODE: Input should be 'socket' or 'http'"),
        ("LOG_LEVEL", "loud", "LOG_LEVEL: Input should be 'DEBUG', 'INFO', 'WARNING' or 'ERROR'"),
        ("EVENT_RETENTION_DAYS", "0", "EVENT_RETENTION_DAYS: Input should be greater than 0"),
        ("FEED_STALE_AFTER_SECONDS", "-5", "FEED_STALE_AFTER_SECONDS: Input should be greater"),
        ("SLACK_API_URL", "slack.com", "SLACK_API_URL: 'slack.com' is not an http:// or https://"),
        ("SLACK_BOT_TOKEN", "xoxp-123", "SLACK_BOT_TOKEN: must be a bot token starting with xoxb-"),
        ("SLACK_APP_TOKEN", "xoxb-123", "SLACK_APP_TOKEN: must be an app-level token starting"),
        ("WRITER_QUEUE_SIZE", "0", "WRITER_QUEUE_SIZE: Input should be greater than or equal to 1"),
    ],
)
def test_a_bad_value_is_named_in_one_plain_line(monkeypatch, name, value, says):
    monkeypatch.setenv(name, value)

    with pytest.raises(SettingsError) as caught:
        load_settings()

    assert len(caught.value.lines) == 1
    assert caught.value.lines[0].startswith(says)


def test_secrets_are_never_echoed_back(monkeypatch):
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxp-very-secret")

    with pytest.raises(SettingsError) as caught:
        load_settings()

    assert "very-secret" not in str(caught.value)


def test_tokens_are_masked_when_settings_are_printed(monkeypatch):
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-very-secret")
    monkeypatch.setenv("SLACK_APP_TOKEN", "xapp-also-secret")

    settings = load_settings()

    for secret in ("very-secret", "also-secret"):
        assert secret not in repr(settings)
        assert secret not in settings.model_dump_json()
    assert settings.slack_bot_token.get_secret_value() == "xoxb-very-secret"


def test_the_command_stops_with_one_line_and_no_traceback(tmp_path):
    result = subprocess.run(
        [BOT, "run"],
        env={"FEED_URLS": "http://x", "PATH": "/usr/bin"},
        capture_output=True,
        text=True,
        timeout=30,
        cwd=tmp_path,
        check=False,
    )

    assert result.returncode == 2
    assert result.stderr == (
        "inventory-bot: bad setting FEED_URLS: 'http://x' is not a ws:// or wss:// URL\n"
    )


def test_an_unusable_database_path_stops_with_one_line(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    result = subprocess.run(
        [BOT, "run"],
        env={"DATABASE_PATH": str(blocker / "inventory.db"), "PATH": "/usr/bin"},
        capture_output=True,
        text=True,
        timeout=30,
        cwd=tmp_path,
        check=False,
    )

    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert f"cannot open DATABASE_PATH={blocker / 'inventory.db'}" in result.stderr


def test_env_example_lists_every_setting_with_a_comment():
    lines = (ROOT / ".env.example").read_text().splitlines()
    listed = {}
    for above, line in itertools.pairwise(lines):
        match = re.match(r"^([A-Z_]+)=", line)
        if match:
            listed[match.group(1)] = above

    assert set(listed) == {name.upper() for name in Settings.model_fields}
    assert all(comment.startswith("# ") for comment in listed.values())


def test_the_readme_table_lists_every_setting_once():
    readme = (ROOT / "README.md").read_text()
    table = readme.split("## Settings", 1)[1].split("\n## ", 1)[0]
    rows = re.findall(r"^\| `([A-Z_]+)` \|", table, re.MULTILINE)
    assert sorted(rows) == sorted(name.upper() for name in Settings.model_fields)


def test_slack_needs_the_tokens_of_its_mode(monkeypatch):
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-1")
    with pytest.raises(SettingsError) as socket:
        load_settings()
    monkeypatch.setenv("SLACK_MODE", "http")
    with pytest.raises(SettingsError) as http:
        load_settings()
    monkeypatch.setenv("SLACK_SIGNING_SECRET", "abc")

    assert socket.value.lines[0].startswith("SLACK_APP_TOKEN: needed in Socket Mode")
    assert http.value.lines[0].startswith("SLACK_SIGNING_SECRET: needed when SLACK_MODE=http")
    assert load_settings().slack_mode == "http"


def test_without_a_bot_token_slack_tokens_are_not_required():
    assert load_settings().slack_bot_token is None


def test_admins_are_a_comma_separated_list_of_user_ids(monkeypatch):
    monkeypatch.setenv("ADMIN_USER_IDS", "U01ABC, U02DEF")
    assert load_settings().admin_user_ids == ["U01ABC", "U02DEF"]

    monkeypatch.setenv("ADMIN_USER_IDS", "@alice")
    with pytest.raises(SettingsError, match="'@alice' is not a Slack user ID"):
        load_settings()


def test_store_locations_are_read_from_a_csv_and_a_bad_one_is_named(monkeypatch, tmp_path):
    good = tmp_path / "stores.csv"
    good.write_text(
        "store,latitude,longitude\nALDO Maine Mall,43.63,-70.33\n\nALDO Auburn Mall,44.1,-70.2\n"
    )
    monkeypatch.setenv("STORE_LOCATIONS_FILE", str(good))
    assert read_locations(load_settings().store_locations_file) == {
        "ALDO Maine Mall": (43.63, -70.33),
        "ALDO Auburn Mall": (44.1, -70.2),
    }

    for text, says in [
        ("A,1,2\nA,3,4\n", "line 2: 'A' is listed twice"),
        ("A,north,2\n", "line 1: latitude and longitude must be numbers"),
        ("A,95,2\n", "line 1: 'A' at (95.0, 2.0) is not a place"),
        ("A,1\n", "line 1: expected store,latitude,longitude, got ['A', '1']"),
    ]:
        good.write_text(text)
        with pytest.raises(SettingsError) as caught:
            load_settings()
        assert caught.value.lines == [f"STORE_LOCATIONS_FILE: {str(good)!r} {says}"]

    monkeypatch.setenv("STORE_LOCATIONS_FILE", str(tmp_path / "missing.csv"))
    with pytest.raises(SettingsError) as caught:
        load_settings()
    assert caught.value.lines[0].startswith("STORE_LOCATIONS_FILE: cannot read")


def test_a_database_url_s_password_is_masked_and_a_bad_url_named_the_password_and_name_a_bad_url(
    monkeypatch,
):
    monkeypatch.setenv("DATABASE_URL", "postgresql://bot:sekret-pw@db:5432/inventory")
    settings = load_settings()
    assert "sekret-pw" in settings.secrets()
    assert "sekret-pw" not in repr(settings)

    monkeypatch.setenv("DATABASE_URL", "postgresql://bot:sekret-pw@db:5432")
    with pytest.raises(SettingsError) as caught:
        load_settings()
    assert caught.value.lines == [
        "DATABASE_URL: 'postgresql://bot:***@db:5432' names no database: add /DATABASE at the end"
    ]


PASSWORD = "s3cret-pass"


@pytest.mark.parametrize(
    ("value", "says"),
    [
        (f"http://reader:{PASSWORD}@feed/", "'http://***@feed/' is not a ws:// or wss:// URL"),
        (f"ws://reader:{PASSWORD}@feed:99999/", "'ws://***@feed:99999/' has a bad port"),
        (f"ws://reader:{PASSWORD}@/", "'ws://***@/' is not a ws:// or wss:// URL"),
        (f"ws://reader:{PASSWORD}@feed/#x", "a URL has a '#': write it as %23 in a password"),
        (f"ws://reader:{PASSWORD}@[feed/", "a URL cannot be read (Invalid IPv6 URL)"),
        (
            f"ws://feed/?token={PASSWORD},ws://feed/?token=x",
            "'ws://feed/?token=***' is given twice",
        ),
        (f"ws://r:{PASSWORD}@feed/,ws://r:{PASSWORD}@feed/", "'ws://***@feed/' is given twice"),
        (
            f"ws://user@feed/,ws://u:{PASSWORD}@f/",
            "'ws://***@feed/' has a user name but no password: give both",
        ),
    ],
)
def test_a_bad_feed_url_is_named_without_its_password(monkeypatch, value, says):
    monkeypatch.setenv("FEED_URLS", value)

    with pytest.raises(SettingsError) as caught:
        load_settings()

    assert caught.value.lines == [f"FEED_URLS: {says}"]
    assert PASSWORD not in str(caught.value)


def test_a_bad_slack_api_url_is_named_without_its_password(monkeypatch):
    monkeypatch.setenv("SLACK_API_URL", f"ftp://proxy:{PASSWORD}@slack.example/api/")

    with pytest.raises(SettingsError) as caught:
        load_settings()

    assert caught.value.lines == [
        "SLACK_API_URL: 'ftp://***@slack.example/api/' is not an http:// or https:// URL"
    ]


@pytest.mark.parametrize("value", [" ", "\t", " 8f74223 ", "8f74223\n"])
def test_a_signing_secret_of_whitespace_or_with_spaces_around_it_is_refused(monkeypatch, value):
    monkeypatch.setenv("SLACK_SIGNING_SECRET", value)

    with pytest.raises(SettingsError) as caught:
        load_settings()

    assert caught.value.lines == [
        "SLACK_SIGNING_SECRET: is blank or has spaces around it: copy it again from the app's page"
    ]


@pytest.mark.parametrize(
    ("name", "value", "says"),
    [
        (
            "ADMIN_USER_IDS",
            ",",
            "ADMIN_USER_IDS: names nothing (leave it unset if everyone may change alert rules) "
            "(got ',')",
        ),
        (
            "ADMIN_USER_IDS",
            " , ,",
            "ADMIN_USER_IDS: names nothing (leave it unset if everyone may change alert rules) "
            "(got ' , ,')",
        ),
        (
            "FEED_URLS",
            ",",
            "FEED_URLS: names nothing (leave it unset to read the built-in simulator)",
        ),
    ],
)
def test_a_list_that_names_nothing_is_refused_not_read_as_unset(monkeypatch, name, value, says):
    monkeypatch.setenv(name, value)

    with pytest.raises(SettingsError) as caught:
        load_settings()

    assert caught.value.lines == [says]


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "", "192.168.1.20", "bot.internal"])
def test_the_api_is_not_served_to_the_network_without_a_token_unless_said(host):
    with pytest.raises(SettingsError) as caught:
        load_settings(http_host=host)
    assert caught.value.lines[0].startswith(f"API_TOKEN: needed when HTTP_HOST={host} is ")
    assert "API_PUBLIC=true" in caught.value.lines[0]

    assert load_settings(http_host=host, api_token="t" * 24).api_open_to_the_network is False
    assert load_settings(http_host=host, api_public=True).api_open_to_the_network is True


@pytest.mark.parametrize("host", ["127.0.0.1", "127.0.0.2", "::1", "[::1]", "localhost"])
def test_loopback_needs_no_token(host):
    assert load_settings(http_host=host).api_open_to_the_network is False
