"""Feed URLs shown without their credentials, and those credentials masked in the logs."""

import pytest

from bot.config import Settings, SettingsError, load_settings
from bot.core.secrets import shown_url, url_secrets


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("ws://feed:8080/sales", "ws://feed:8080/sales"),
        (
            "wss://bob:hunter22@feed.example/s?token=abcdef&shard=1",
            "wss://***@feed.example/s?token=***&shard=1",
        ),
        ("ws://bob@[::1]:9000/", "ws://***@[::1]:9000/"),
        ("ws://a:p@ss@host:81/", "ws://***@host:81/"),
        ("ws://feed/?format=json&API_KEY=k3y-value", "ws://feed/?format=json&API_KEY=***"),
        ("ws://feed/?s3cr3tT0ken", "ws://feed/?***"),
        ("ws://feed/?shard=2&jwt=abc.def&pwd=x", "ws://feed/?shard=2&jwt=***&pwd=***"),
    ],
)
def test_a_feed_url_is_shown_without_its_credentials(url, shown):
    assert shown_url(url) == shown


def test_a_feed_urls_credentials_are_masked_in_the_logs_as_written_and_decoded():
    url = "wss://bob:hunter22@feed.example/s?token=ab%2Fcdef&shard=1&format=json"
    assert url_secrets(url) == ["ab%2Fcdef", "ab/cdef", "hunter22"]  # not "json", not "1"
    assert url_secrets("wss://feed/?s3cr3tT0ken") == ["s3cr3tT0ken"]
    assert url_secrets("wss://u:p+w+rd@feed/") == ["p w rd", "p+w+rd"]  # as websockets reads it
    assert Settings(_env_file=None, feed_urls=[url]).secrets() == url_secrets(url)


@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("ws://bob:hunter22@feed:http/", "has a bad port"),
        ("ws://bob:hunter22@feed:99999/", "has a bad port"),
        ("ws://bob:hunt#er22@feed/", "write it as %23"),
        ("http://bob:hunter22@feed/", "is not a ws:// or wss:// URL"),
        ("ws://hunter22@feed/", "has a user name but no password"),
    ],
)
def test_a_bad_feed_url_is_refused_without_echoing_its_password(url, says):
    with pytest.raises(SettingsError, match=says) as refused:
        load_settings(_env_file=None, feed_urls=[url])
    assert "hunter22" not in str(refused.value)
    assert "er22" not in str(refused.value)


def test_two_feed_urls_that_differ_only_in_credentials_are_refused():
    urls = ["ws://a:one-pass@feed/", "ws://a:two-pass@feed/"]
    with pytest.raises(SettingsError, match="given twice"):
        load_settings(_env_file=None, feed_urls=urls)
    shards = ["ws://feed/?shard=1", "ws://feed/?shard=2"]  # told apart by a value not masked
    assert load_settings(_env_file=None, feed_urls=shards).feed_urls == shards
