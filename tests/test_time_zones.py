"""Quiet hours in any IANA zone, legacy names included, with no time zone database on the
machine (as in the slim container image): the `tzdata` package the bot depends on answers."""

import subprocess
import sys
import textwrap

CHECK = textwrap.dedent(
    """
    import zoneinfo
    from datetime import UTC, datetime

    from bot.core.quiet import parse_quiet_hours

    assert zoneinfo.TZPATH == (EMPTY,), zoneinfo.TZPATH  # the machine's database is out of reach

    def at(text):
        return datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp()

    # 22:00 in New York is 03:00 UTC in winter and 02:00 UTC in summer (DST rules, not offsets).
    for zone in ("America/New_York", "US/Eastern", "Canada/Eastern", "EST5EDT"):
        quiet = parse_quiet_hours("22:00-07:00", zone)
        assert quiet.active(at("2026-01-15T03:00")), zone
        assert not quiet.active(at("2026-01-15T02:59")), zone
        assert quiet.active(at("2026-07-15T02:00")), zone
        assert not quiet.active(at("2026-07-15T01:59")), zone
    for zone in ("Asia/Kolkata", "Asia/Calcutta", "Europe/Kyiv", "Australia/Lord_Howe"):
        parse_quiet_hours("22:00-07:00", zone)
    print("resolved")
    """
)


def test_quiet_hours_resolve_any_iana_zone_without_the_machines_database(tmp_path):
    empty = tmp_path / "no-zoneinfo"
    empty.mkdir()

    result = subprocess.run(
        [sys.executable, "-c", f"EMPTY = {str(empty)!r}\n{CHECK}"],
        env={"PYTHONTZPATH": str(empty), "PATH": "/usr/bin"},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert (result.returncode, result.stdout, result.stderr) == (0, "resolved\n", "")
