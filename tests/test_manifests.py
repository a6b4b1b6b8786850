"""The Slack app manifests: valid against Slack's published schema, and declaring exactly the
commands, events, interactivity and scopes the code registers and uses."""

import json
from pathlib import Path

import jsonschema
import pytest

from bot.slack.app import ACTIONS, COMMANDS, EVENTS, OPTIONS, SCOPES, VIEWS
from bot.web import SLACK_PATH

ROOT = Path(__file__).resolve().parent.parent
SCHEMA = json.loads((ROOT / "tests/data/manifest.schema.1.0.0.json").read_text())
MANIFESTS = {
    path.stem: json.loads(path.read_text()) for path in (ROOT / "manifests").glob("*.json")
}


def test_there_is_a_manifest_for_each_way_to_connect():
    assert set(MANIFESTS) == {"socket", "http"}


@pytest.mark.parametrize("name", sorted(MANIFESTS))
def test_the_manifest_is_valid_against_slacks_schema(name):
    jsonschema.validate(MANIFESTS[name], SCHEMA)


@pytest.mark.parametrize("name", sorted(MANIFESTS))
def test_the_manifest_declares_exactly_what_the_code_registers(name):
    manifest = MANIFESTS[name]
    commands = {c["command"] for c in manifest["features"]["slash_commands"]}
    events = set(manifest["settings"]["event_subscriptions"]["bot_events"])

    assert commands == set(COMMANDS)
    assert events == set(EVENTS)
    assert manifest["settings"]["interactivity"]["is_enabled"] is bool(ACTIONS or VIEWS)
    assert set(manifest["oauth_config"]["scopes"]["bot"]) == set(SCOPES)
    assert manifest["features"]["app_home"]["home_tab_enabled"] is ("app_home_opened" in EVENTS)


def test_selects_filled_as_people_type_have_their_url_over_http():
    # Over HTTP, Slack asks for a select's options at the options URL; in Socket Mode they
    # come over the socket like everything else.
    interactivity = MANIFESTS["http"]["settings"]["interactivity"]
    assert OPTIONS
    assert interactivity["message_menu_options_url"] == interactivity["request_url"]
    assert "message_menu_options_url" not in MANIFESTS["socket"]["settings"]["interactivity"]


def test_socket_mode_needs_no_public_url():
    settings = MANIFESTS["socket"]["settings"]
    assert settings["socket_mode_enabled"] is True
    assert "request_url" not in settings["event_subscriptions"]
    assert all("url" not in c for c in MANIFESTS["socket"]["features"]["slash_commands"])


def test_http_mode_sends_everything_to_the_bots_slack_path():
    manifest = MANIFESTS["http"]
    urls = [c["url"] for c in manifest["features"]["slash_commands"]]
    urls += [
        manifest["settings"]["event_subscriptions"]["request_url"],
        manifest["settings"]["interactivity"]["request_url"],
        manifest["settings"]["interactivity"]["message_menu_options_url"],
    ]
    assert manifest["settings"]["socket_mode_enabled"] is False
    assert {url.removeprefix("https://inventory-bot.example.com") for url in urls} == {SLACK_PATH}


def test_the_schema_catches_a_broken_manifest():
    broken = json.loads(json.dumps(MANIFESTS["socket"]))
    broken["features"]["slash_commands"][0]["command"] = "stock"  # no slash
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(broken, SCHEMA)
