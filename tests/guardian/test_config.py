"""The configuration: seed 004's JSON as it is, the guardian's extensions, and mistakes refused at start."""

from __future__ import annotations

import json
import subprocess
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest

from deskbridge.config import ConfigError
from deskbridge.guardian.config import AllowedHours, GuardianConfig, load
from tests.support import DESKBRIDGE

SEED_CONFIG = {
    "desktop_client": {
        "websocket": {"enabled": True, "host": "localhost", "port": 8001},
        "http_polling": {"enabled": True, "interval": 2},
    }
}


def refused(raw: dict[str, Any]) -> str:
    with pytest.raises(ConfigError) as caught:
        load(raw)
    return str(caught.value)


def test_no_config_means_the_seeds_defaults_and_the_roblox_player() -> None:
    config = load({})

    assert config.desktop_client.websocket.port == 8001
    assert config.desktop_client.http_polling.interval == 2
    assert config.monitor.poll_interval == 1
    assert config.monitor.process_names == ()  # the platform table names the player (test_platforms.py)
    assert config.active_child == "default_child"
    assert config.children["default_child"].daily_limit_minutes == 120
    assert config.zone() is None  # the system's local time


def test_the_seeds_json_is_accepted_as_it_is() -> None:
    assert load(SEED_CONFIG) == load({})


def test_profiles_limits_hours_and_warnings() -> None:
    config = load(
        {
            "children": {
                "alice": {
                    "daily_limit_minutes": 60,
                    "weekday_limits": {"saturday": 180},
                    "allowed_hours": {"start": "08:00", "end": "20:30"},
                    "warning_minutes": [10, 2],
                    "auto_close": False,
                    "grace_seconds": 30,
                }
            },
            "active_child": "alice",
            "timezone": "Europe/Paris",
        }
    )

    alice = config.children["alice"]
    assert alice.limit_minutes(date(2025, 8, 16)) == 180  # a Saturday
    assert alice.limit_minutes(date(2025, 8, 18)) == 60
    assert str(config.zone()) == "Europe/Paris"


@pytest.mark.parametrize(
    ("raw", "named"),
    [
        ({"desktop_client": {"websocket": {"prot": 8001}}}, "`prot` - at `$.desktop_client.websocket`"),
        ({"montor": {}}, "`montor`"),
        ({"monitor": {"poll_interval": "fast"}}, "`$.monitor.poll_interval`"),
        ({"monitor": {"process_names": "RobloxPlayer"}}, "`$.monitor.process_names`"),
        ({"desktop_client": {"websocket": {"port": 0}}}, "`$.desktop_client.websocket.port`"),
        ({"children": {"bob": {"daily_limit_minutes": -5}}}, "`$.children.bob.daily_limit_minutes`"),
        ({"children": {"bob": {"weekday_limits": {"caturday": 5}}}}, "caturday"),
        (
            {"children": {"bob": {"allowed_hours": {"start": "8am", "end": "20"}}}},
            "`$.children.bob.allowed_hours.start`",
        ),
        ({"children": {"bob": {"daily_limit": 60}}}, "`daily_limit` - at `$.children.bob`"),
        ({"active_child": "carol"}, "active_child 'carol' is not one of children (default_child)"),
        ({"timezone": "Mars/Olympus"}, "timezone 'Mars/Olympus'"),
        ({"users": {"kid": "carol"}}, "users maps 'kid' to 'carol', which is not one of children"),
        ({"users": {"": "default_child"}}, "`$.users`"),
        ({"desktop_client": {"require_token": "no"}}, "`$.desktop_client.require_token`"),
        ({"monitor": {"install_dirs": "C:/Roblox"}}, "`$.monitor.install_dirs`"),
    ],
)
def test_a_mistake_is_refused_with_the_key_it_is_in(raw: dict[str, Any], named: str) -> None:
    message = refused(raw)

    assert message.startswith("guardian config: ")
    assert named in message


def test_sections_of_the_core_and_of_other_apps_are_left_to_them() -> None:
    assert load({"events": {"max_age_days": 3}, "web": {"port": 8001}, "studio": {"anything": 1}}) == GuardianConfig()


@pytest.mark.parametrize(
    ("start", "end", "at", "left_minutes"),
    [
        ("08:00", "20:00", (19, 45), 15),
        ("08:00", "20:00", (20, 0), 0),
        ("08:00", "20:00", (7, 59), 0),
        ("22:00", "02:00", (23, 0), 180),
        ("22:00", "02:00", (1, 30), 30),
        ("22:00", "02:00", (12, 0), 0),
    ],
)
def test_allowed_hours_may_cross_midnight(start: str, end: str, at: tuple[int, int], left_minutes: int) -> None:
    hours = AllowedHours(start=start, end=end)

    assert hours.seconds_left(datetime(2025, 8, 11, *at)) == left_minutes * 60


def test_the_backend_refuses_to_start_and_names_the_key(tmp_path: Path) -> None:
    config = tmp_path / "config.json"
    config.write_text(json.dumps({"monitor": {"poll_intervall": 1}}))

    done = subprocess.run(
        [*DESKBRIDGE, "stdio", "guardian", "--data-dir", str(tmp_path / "data"), "--config", str(config)],
        input=b"",
        capture_output=True,
        timeout=30,
    )

    assert done.returncode == 1
    failure = json.loads(done.stderr.splitlines()[0])
    assert failure["type"] == "BACKEND_ERROR"
    assert "unknown field `poll_intervall` - at `$.monitor`" in failure["error"]
