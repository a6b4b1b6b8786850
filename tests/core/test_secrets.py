"""Feed URLs shown without their credentials, and those credentials masked in the logs."""

import pytest

from bot.config import Settings, SettingsError, load_settings
from bot.core.secrets import shown_url, url_secrets


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("ws://feed:8080/sales", "ws://feed:8080/sales"),
        ("wss://bob:hunter22@feed.example/s?token=abcdef&x=1", "wss://***@feed.example/s?***"),
        ("ws://bob@[::1]:9000/", "ws://***@[::1]:9000/"),
        ("ws://a:p@ss@host:81/", "ws://***@host:81/"),
    ],
)
def test_a_feed_url_is_shown_without_its_credentials(url, shown):
    assert shown_url(url) == shown


def test_a_feed_urls_password_and_query_values_are_masked_in_the_logs():
    url = "wss://bob:hunter22@feed.example/s?token=abcdef&page=1"
    assert url_secrets(url) == ["hunter22", "abcdef"]  # "1" is too short to mask safely
    assert Settings(_env_file=None, feed_urls=[url]).secrets() == ["hunter22", "abcdef"]


def test_a_bad_port_is_refused_without_echoing_the_password():
    with pytest.raises(SettingsError, match="port that is not a number") as refused:
        load_settings(_env_file=None, feed_urls=["ws://bob:hunter22@feed:http/"])
    assert "hunter22" not in str(refused.value)
