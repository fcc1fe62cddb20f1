"""Two roles on every door: the parent's token runs every command, the desktop client's (the child's session) only
status, events, usage and asking for more time; the token files are the parent's alone and the client's to read."""

from __future__ import annotations

import json
import stat
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from websockets.sync.client import connect

from deskbridge.guardian.commands import PARENT_ONLY, REMOTE_COMMANDS
from tests.webserver import WebServer
from tests.webserver import serve as serve

Serve = Callable[..., WebServer]

SAMPLE: dict[str, dict[str, Any]] = {
    "FORCE_CLOSE": {},
    "SET_DAILY_LIMIT": {"minutes": 90},
    "SET_ALLOWED_HOURS": {"windows": []},
    "GRANT_BONUS_TIME": {"minutes": 10},
    "TAKE_TIME": {"minutes": 5},
    "PAUSE_MONITORING": {"minutes": 5},
    "RESUME_MONITORING": {},
    "GET_CONFIG": {},
}
"""A valid payload of each parent command (ANSWER_TIME_REQUEST has its own test)."""
BY_TYPE = {command_type: name for name, command_type in REMOTE_COMMANDS.items()}


@pytest.fixture
def guardian(serve: Serve, tmp_path: Path) -> WebServer:
    config = tmp_path / "guardian.json"
    config.write_text(json.dumps({"monitor": {"poll_interval": 0.2}, "desktop_client": {"require_token": False}}))
    return serve("guardian", extra=("--config", str(config)))


def client_token(server: WebServer) -> str:
    return (server.data_dir / "client-token").read_text().strip()


def command(server: WebServer, token: str | None, command_type: str, payload: Any) -> httpx.Response:
    headers = {} if token is None else {"Authorization": f"Bearer {token}"}
    body = {"id": "t", "type": command_type, "payload": payload}
    return httpx.post(f"{server.url}/api/command", json=body, headers=headers, timeout=30)


def test_every_parent_command_is_refused_to_the_client_on_every_door_and_runs_for_the_parent(
    guardian: WebServer,
) -> None:
    assert set(SAMPLE) | {"ANSWER_TIME_REQUEST"} == set(PARENT_ONLY)
    child = client_token(guardian)
    child_ws = connect(f"{guardian.ws_url}?token={child}")
    parent_ws = connect(f"{guardian.ws_url}?token={guardian.token}")
    with child_ws, parent_ws:
        for command_type, payload in SAMPLE.items():
            refused = command(guardian, child, command_type, payload)
            assert refused.status_code == 403, command_type
            assert refused.json()["error_code"] == "PERMISSION_DENIED"
            relayed = relay(guardian, child, command_type, payload)
            assert relayed.json()["success"] is False
            assert relayed.json()["error_code"] == "PERMISSION_DENIED"
            tokenless = relay(guardian, None, command_type, payload)
            assert tokenless.json()["error_code"] == "PERMISSION_DENIED", "no token is the client's role at most"
            assert ws_call(child_ws, command_type, payload)["error_code"] == "PERMISSION_DENIED"
            assert ws_call(parent_ws, command_type, payload)["success"] is True, command_type
            assert command(guardian, guardian.token, command_type, payload).json()["success"] is True
    for allowed in ("DESKTOP_STATUS", "GET_USAGE", "PING"):
        assert command(guardian, child, allowed, {}).json()["success"] is True, allowed


def relay(server: WebServer, token: str | None, command_type: str, payload: Any) -> httpx.Response:
    """The seed's ``POST /desktop/command`` relaying a parent's command."""
    headers = {} if token is None else {"Authorization": f"Bearer {token}"}
    body = {"command": BY_TYPE[command_type], "params": payload}
    return httpx.post(f"{server.url}/desktop/command", json=body, headers=headers, timeout=30)


def ws_call(ws: Any, command_type: str, payload: Any) -> dict[str, Any]:
    ws.send(json.dumps({"id": command_type, "type": command_type, "payload": payload}))
    while True:
        message = json.loads(ws.recv(timeout=30))
        if message.get("id") == command_type:
            return dict(message)


def test_the_child_asks_for_more_time_and_the_parent_grants_or_refuses_once(guardian: WebServer) -> None:
    child = client_token(guardian)
    before = command(guardian, child, "GET_USAGE", {}).json()["data"]
    asked = command(guardian, child, "ASK_FOR_TIME", {"minutes": 20, "reason": "finishing a build"}).json()["data"]
    assert asked["minutes"] == 20
    assert asked["granted_minutes"] is None
    answer = {"request_id": asked["request_id"], "grant": True}
    assert command(guardian, child, "ANSWER_TIME_REQUEST", answer).status_code == 403
    granted = command(guardian, guardian.token, "ANSWER_TIME_REQUEST", answer).json()["data"]
    assert granted["granted_minutes"] == 20
    again = command(guardian, guardian.token, "ANSWER_TIME_REQUEST", {**answer, "grant": False})
    assert again.status_code == 409
    assert again.json()["error_code"] == "TIME_REQUEST_ANSWERED"
    after = command(guardian, child, "GET_USAGE", {}).json()["data"]
    assert remaining(after) == remaining(before) + 20
    refused_id = command(guardian, child, "ASK_FOR_TIME", {"minutes": 60}).json()["data"]["request_id"]
    refused = command(guardian, guardian.token, "ANSWER_TIME_REQUEST", {"request_id": refused_id, "grant": False})
    assert refused.json()["data"]["granted_minutes"] == 0
    assert remaining(command(guardian, child, "GET_USAGE", {}).json()["data"]) == remaining(after)
    unknown = command(guardian, guardian.token, "ANSWER_TIME_REQUEST", {"request_id": "nope", "grant": True})
    assert unknown.status_code == 404
    changes = [(e["resource"], e["change"]) for e in events(guardian) if e["type"] == "STATE_CHANGED"
               and e["resource"] == "time_request"]  # fmt: skip
    assert changes == [("time_request", "asked"), ("time_request", "granted"), ("time_request", "asked"),
                       ("time_request", "refused")]  # fmt: skip
    kinds = [event["data"].get("type") for event in events(guardian) if event["type"] == "notification"]
    assert kinds.count("time_request") == 2
    assert kinds.count("time_request_answered") == 2


def remaining(usage: dict[str, Any]) -> float:
    today = usage["children"]["default_child"]["today"] if "children" in usage else usage["default_child"]["today"]
    return float(today["minutes_remaining"])


def events(server: WebServer) -> list[dict[str, Any]]:
    response = httpx.get(f"{server.url}/api/events", params={"after": 0}, headers=server.headers, timeout=30)
    return list(response.json()["events"])


def test_the_token_files_are_the_parents_alone_and_the_clients_to_read(guardian: WebServer) -> None:
    assert stat.S_IMODE((guardian.data_dir / "token").stat().st_mode) == 0o600
    assert stat.S_IMODE((guardian.data_dir / "client-token").stat().st_mode) == 0o644
    assert client_token(guardian) != guardian.token


def test_the_status_tells_each_caller_its_role_and_what_it_may_not_run(guardian: WebServer) -> None:
    child = httpx.get(f"{guardian.url}/api/status", headers={"Authorization": f"Bearer {client_token(guardian)}"})
    assert child.json()["role"] == "client"
    assert set(child.json()["denied"]) == set(PARENT_ONLY)
    parent = httpx.get(f"{guardian.url}/api/status", headers=guardian.headers)
    assert parent.json()["role"] == "owner"
    assert parent.json()["denied"] == []
