"""The parent's remote commands, over stdio: directly, and through POST /desktop/command's command."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests.support import BackendProcess

Start = Callable[..., BackendProcess]

CONFIG = {
    "children": {
        "alice": {"daily_limit_minutes": 60, "weekday_limits": {"saturday": 180}},
        "bob": {"daily_limit_minutes": 30},
    },
    "active_child": "alice",
    "timezone": "Europe/Paris",
}


@pytest.fixture
def backend(guardian_backend: Start) -> BackendProcess:
    return guardian_backend(CONFIG)


def remote(backend: BackendProcess, command: str, **params: Any) -> dict[str, Any]:
    """POST /desktop/command's body, as the desktop sends it; returns the seed's answer."""
    answer: dict[str, Any] = backend.ok("DESKTOP_COMMAND", {"command": command, "params": params})
    return answer


@pytest.mark.parametrize(
    ("command", "params"),
    [
        ("force_close", {}),
        ("get_usage", {}),
        ("get_usage", {"child": "bob"}),
        ("get_config", {}),
        ("pause_monitoring", {"minutes": 10}),
        ("resume_monitoring", {}),
    ],
)
def test_each_remote_command_is_also_a_command_of_its_own(
    backend: BackendProcess, command: str, params: dict[str, Any]
) -> None:
    direct = backend.ok(command.upper(), params)

    assert remote(backend, command, **params) == {"success": True, "result": direct}


def test_an_unknown_command_is_a_clear_error(backend: BackendProcess) -> None:
    answer = remote(backend, "format_disk")

    assert answer["success"] is False
    assert answer["error_code"] == "UNKNOWN_COMMAND"
    assert "format_disk" in answer["error"]
    assert "force_close" in answer["error"]  # says what is known


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"minutes": "ten"}, "$.params.minutes"),
        ({"minutes": 0}, "$.params.minutes"),
        ({}, "$.params"),
        ({"minutes": 10, "minuts": 10}, "$.params.minuts"),
    ],
)
def test_bad_params_are_refused_with_their_path(backend: BackendProcess, params: dict[str, Any], field: str) -> None:
    answer = remote(backend, "grant_bonus_time", **params)

    assert answer["success"] is False
    assert answer["error_code"] == "INVALID_PAYLOAD"
    assert answer["details"]["fields"] == [field]
    error = backend.error("GRANT_BONUS_TIME", params)
    assert error["error_code"] == "INVALID_PAYLOAD"


@pytest.mark.parametrize(
    ("command", "params", "field"),
    [
        ("force_close", {"until": "25:00"}, "$.params.until"),
        ("force_close", {"until": "yesterday"}, "$.params.until"),
        ("force_close", {"until": 7}, "$.params.until"),
        ("take_time", {"minutes": 0}, "$.params.minutes"),
        ("take_time", {"minutes": -30}, "$.params.minutes"),
        ("set_allowed_hours", {"windows": [{"start": "7:00", "end": "08:00"}]}, "$.params.windows[0].start"),
        ("set_allowed_hours", {"windows": {"start": "07:00", "end": "08:00"}}, "$.params.windows"),
    ],
)
def test_a_bad_hold_or_a_bad_amount_to_take_is_refused_with_its_path(
    backend: BackendProcess, command: str, params: dict[str, Any], field: str
) -> None:
    answer = remote(backend, command, **params)

    assert answer["success"] is False
    assert answer["details"] == {"fields": [field]}
    assert backend.error(command.upper(), params)["error_code"] == "INVALID_PAYLOAD"


def test_a_missing_command_name_is_an_invalid_payload(backend: BackendProcess) -> None:
    assert backend.error("DESKTOP_COMMAND", {"params": {}})["details"] == {"fields": ["$"]}


def test_an_unknown_child_is_named(backend: BackendProcess) -> None:
    answer = remote(backend, "grant_bonus_time", minutes=10, child="carol")

    assert answer["success"] is False
    assert answer["error_code"] == "CHILD_NOT_FOUND"
    assert answer["error"] == "no child profile 'carol'; known: alice, bob"
    assert backend.error("GET_USAGE", {"child": "carol"})["error_code"] == "CHILD_NOT_FOUND"


def test_set_daily_limit_changes_the_limit_in_force(backend: BackendProcess) -> None:
    result = remote(backend, "set_daily_limit", minutes=45, child="bob")["result"]

    assert result["child_profile"] == "bob"
    assert result["daily_limit_minutes"] == 45
    assert result["today"]["limit_minutes"] == 45
    assert backend.ok("GET_CONFIG")["children"]["bob"]["daily_limit_minutes"] == 45


def test_set_daily_limit_for_one_weekday(backend: BackendProcess) -> None:
    result = backend.ok("SET_DAILY_LIMIT", {"minutes": 120, "weekday": "sunday"})

    assert result["child_profile"] == "alice"
    assert result["weekday_limits"] == {"saturday": 180, "sunday": 120}


def test_set_allowed_hours_takes_several_windows_and_refuses_a_bad_one(backend: BackendProcess) -> None:
    windows = [{"start": "07:00", "end": "08:00"}, {"start": "16:00", "end": "20:00"}]
    result = backend.ok("SET_ALLOWED_HOURS", {"windows": windows, "weekday": "friday", "child": "alice"})

    assert result["weekday_allowed_hours"]["friday"] == windows
    assert backend.ok("GET_CONFIG")["children"]["alice"]["weekday_allowed_hours"]["friday"] == windows
    assert backend.error("SET_ALLOWED_HOURS", {"windows": [], "minutes": 5})["error_code"] == "INVALID_PAYLOAD"


def test_grant_bonus_time_adds_to_today(backend: BackendProcess) -> None:
    result = backend.ok("GRANT_BONUS_TIME", {"minutes": 15})

    assert result["granted_minutes"] == 15
    assert result["today"]["bonus_minutes"] == 15
    assert result["today"]["minutes_remaining"] == result["today"]["limit_minutes"] + 15


def test_pause_and_resume(backend: BackendProcess) -> None:
    paused = backend.ok("PAUSE_MONITORING")
    assert (paused["active"], paused["paused_until"]) == (False, None)

    assert backend.ok("DESKTOP_STATUS")["monitoring"]["active"] is False
    assert backend.ok("RESUME_MONITORING")["active"] is True


def test_get_usage_gives_today_and_the_last_seven_days_per_child(backend: BackendProcess) -> None:
    usage = backend.ok("GET_USAGE")

    assert usage["timezone"] == "Europe/Paris"
    assert set(usage["children"]) == {"alice", "bob"}
    alice = usage["children"]["alice"]
    assert alice["today"]["date"] == usage["date"]
    assert alice["today"]["minutes_used"] == 0
    days = [day["date"] for day in alice["last_7_days"]]
    assert len(days) == 7
    assert days == sorted(days)
    assert days[-1] < usage["date"]


def test_get_config_is_the_whole_config_in_force(backend: BackendProcess) -> None:
    config = backend.ok("GET_CONFIG")

    assert config["desktop_client"]["websocket"] == {"enabled": True, "host": "localhost", "port": 8001}
    assert config["monitor"]["poll_interval"] == 0.1
    assert config["children"]["alice"]["weekday_limits"] == {"saturday": 180}
    assert config["active_child"] == "alice"


def test_force_close_with_nothing_running_closes_nothing(backend: BackendProcess) -> None:
    assert backend.ok("FORCE_CLOSE") == {"closed": [], "count": 0, "closed_until": None}


def test_take_time_shortens_today_only(backend: BackendProcess) -> None:
    answer = remote(backend, "take_time", minutes=20, child="bob")

    assert answer["result"]["taken_minutes"] == 20
    assert answer["result"]["today"]["minutes_remaining"] == 10  # bob's 30 minus 20
    assert answer["result"]["today"]["limit_minutes"] == 30  # the limit itself stays
    assert backend.ok("GET_USAGE", {"child": "alice"})["children"]["alice"]["today"]["minutes_remaining"] == 60
