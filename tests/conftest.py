"""Fixtures shared by every test: settings that ignore the developer's environment."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from bot.config import Settings
from tests.backends import Database

# A throwaway PostgreSQL server and fresh databases: postgres_server, postgres_url,
# migrated_postgres_url.
pytest_plugins = ["tests.postgres"]


@pytest.fixture(autouse=True)
def _isolated_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No test sees the developer's settings, a .env file, or Slack's OAuth variables."""
    for name in list(os.environ):
        if name.upper() in {f.upper() for f in Settings.model_fields} or name.startswith("SLACK_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)


@pytest.fixture
def make_settings(tmp_path: Path):
    """Settings for a test: a database in the test's folder, fast feed timings."""

    def make(**overrides: object) -> Settings:
        values: dict[str, object] = {
            "database_path": tmp_path / "inventory.db",
            "feed_reconnect_max_seconds": 1.0,
            "http_port": 0,
        }
        values.update(overrides)
        return Settings(_env_file=None, **values)

    return make


def websocketd_path() -> str:
    """websocketd on PATH; skipped with the reason when absent, unless CI demands it."""
    found = shutil.which("websocketd")
    if found:
        return found
    if os.environ.get("REQUIRE_WEBSOCKETD"):
        pytest.fail("websocketd is required here (REQUIRE_WEBSOCKETD is set) but not on PATH")
    pytest.skip("websocketd is not installed (apt-get install websocketd, or run .ci/run)")
    raise AssertionError("unreachable")


@pytest.fixture(params=["sqlite", "postgres"])
def database(request: pytest.FixtureRequest, tmp_path: Path):
    """The test's database: a SQLite file, then a fresh migrated PostgreSQL database (skipped
    where PostgreSQL cannot run). See tests/backends.py."""
    if request.param == "sqlite":
        return Database("sqlite", tmp_path / "inventory.db")
    return Database("postgres", request.getfixturevalue("migrated_postgres_url"))
