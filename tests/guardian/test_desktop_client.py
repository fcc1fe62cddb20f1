"""Seed 004's desktop client, as written, against ``deskbridge serve guardian``: no token (where the config's one
switch allows it), no cursor, a poll every interval, reconnects; and the config's ``desktop_client`` block binding
the door it talks to."""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from tests.guardian.seed_client import SeedClient
from tests.support import wait_until
from tests.webserver import WebServer
from tests.webserver import serve as serve

Serve = Callable[..., WebServer]
INTERVAL = 0.2
"""The seed polls every 2 s; the interval is the config's, shortened so the test is quick."""


def guardian(serve: Serve, tmp_path: Path, desktop: dict[str, Any], port: int | None = 0) -> WebServer:
    config = tmp_path / "guardian.json"
    config.write_text(json.dumps({"desktop_client": desktop, "monitor": {"poll_interval": 0.2}}))
    return serve("guardian", extra=("--config", str(config)), port=port)


def tokenless(serve: Serve, tmp_path: Path, **desktop: Any) -> WebServer:
    return guardian(serve, tmp_path, {"require_token": False, "http_polling": {"interval": INTERVAL}, **desktop})


@pytest.fixture
def desk(serve: Serve, tmp_path: Path) -> WebServer:
    """A guardian serving the seed's desktop client: the tokenless switch on, a short polling interval."""
    return tokenless(serve, tmp_path)


def parent_action(server: WebServer, minutes: int) -> None:
    """A command as the desktop relays it from the phone (step 8): each leaves events (docs/guardian.md, rule 9):
    a notification, its sync request, and the STATE_CHANGED of the bonus. It is the parent's, so it carries the
    parent's token (the seed's tokenless client holds the child's role)."""
    body = {"command": "grant_bonus_time", "params": {"minutes": minutes}}
    answer = httpx.post(f"{server.url}/desktop/command", json=body, headers=server.headers, timeout=10).json()
    assert answer["success"] is True


def logged(server: WebServer) -> list[dict[str, Any]]:
    with server.http() as http:
        events: list[dict[str, Any]] = http.get("/api/events", params={"after": 0}).json()["events"]
        return events


def test_the_seed_client_gets_every_event_once_across_a_server_kill_and_its_own_restart(desk: WebServer) -> None:
    server = desk
    client = SeedClient(server.url, INTERVAL)
    for minutes in (1, 2, 3):
        parent_action(server, minutes)
    wait_until(lambda: len(client.events) >= 6)

    server.kill()  # kill -9, then the same port again: the client's URL does not change
    parent_polls = client.failed_polls
    time.sleep(3 * INTERVAL)
    server.start(port=server.port)
    assert client.failed_polls > parent_polls  # it kept polling into the void, as the seed's Timer does
    for minutes in (4, 5):
        parent_action(server, minutes)
    wait_until(lambda: len(client.events) >= 10)

    client.close()  # the desktop app quits; events raised meanwhile wait for it
    parent_action(server, 6)
    restarted = SeedClient(server.url, INTERVAL)  # a new app: no cursor, nothing carried over
    parent_action(server, 7)
    everything = logged(server)
    wait_until(lambda: len(client.events) + len(restarted.events) >= len(everything))
    time.sleep(3 * INTERVAL)  # more polls bring nothing more
    restarted.close()

    received = client.events + restarted.events
    assert [event["seq"] for event in received] == [event["seq"] for event in everything]  # once each, in order
    granted = [e["data"]["params"]["minutes"] for e in received if e.get("data", {}).get("type") == "parent_action"]
    assert granted == [1, 2, 3, 4, 5, 6, 7]


def test_a_poll_without_a_cursor_reads_the_clients_own_queue_and_after_still_overrides(desk: WebServer) -> None:
    server = desk
    poll = f"{server.url}/desktop/events/poll"
    parent_action(server, 1)

    first = httpx.get(poll).json()
    assert len(first["events"]) == 3  # the notification, its sync request, the STATE_CHANGED
    assert httpx.get(poll).json()["events"] == []  # coming back acknowledged them
    assert httpx.get(poll, params={"client_id": "phone-relay"}).json()["events"] == first["events"]  # its own cursor
    assert httpx.get(poll, params={"after": 0}).json()["events"] == first["events"]  # an explicit cursor wins
    parent_action(server, 2)
    assert [e["data"]["params"]["minutes"] for e in httpx.get(poll).json()["events"][:1]] == [2]


def test_a_websocket_client_that_does_not_resume_reads_the_same_queue(desk: WebServer) -> None:
    server = desk
    root = f"ws://127.0.0.1:{server.port}/"  # seed 004's ws://localhost:8001, no token, no cursor
    parent_action(server, 1)

    with connect(root) as ws:
        kinds = [json.loads(ws.recv(timeout=10)).get("type") for _ in range(3)]
        assert kinds == ["SUBSCRIBED", "notification", "firebase_sync_request"]
        time.sleep(0.5)  # the server records what was written to it
    parent_action(server, 2)

    with connect(root) as ws:
        assert json.loads(ws.recv(timeout=10))["type"] == "SUBSCRIBED"
        assert json.loads(ws.recv(timeout=10))["data"]["params"]["minutes"] == 2  # only what it had not had
        json.loads(ws.recv(timeout=10))
        time.sleep(0.5)
    assert httpx.get(f"{server.url}/desktop/events/poll").json()["events"] == []  # one desktop, one queue


def test_without_the_switch_the_desktop_paths_need_the_token(serve: Serve, tmp_path: Path) -> None:
    server = guardian(serve, tmp_path, {})
    assert httpx.get(f"{server.url}/desktop/events/poll").status_code == 401
    assert httpx.post(f"{server.url}/desktop/connect", json={}).status_code == 401
    assert httpx.post(f"{server.url}/desktop/connect", json={}, headers=server.headers).json()["token_required"]


def test_the_switch_opens_only_the_desktop_paths_and_keeps_origin_and_host_checks(desk: WebServer) -> None:
    server = desk
    assert httpx.get(f"{server.url}/desktop/status").status_code == 200
    assert httpx.post(f"{server.url}/api/command", json={"id": "1", "type": "PING"}).status_code == 401
    assert httpx.get(f"{server.url}/api/events").status_code == 401
    evil = {"Origin": "http://evil.example"}
    assert httpx.post(f"{server.url}/desktop/command", json={"command": "force_close"}, headers=evil).status_code == 403
    rebound = {"Host": f"evil.example:{server.port}"}
    assert httpx.get(f"{server.url}/desktop/events/poll", headers=rebound).status_code == 421
    with connect(f"ws://127.0.0.1:{server.port}/ws") as ws, pytest.raises(ConnectionClosed) as closed:
        ws.recv(timeout=10)  # only the seed's root path is open without the token
    assert closed.value.rcvd is not None
    assert closed.value.rcvd.code == 4401


def test_connect_says_where_the_websocket_is_how_to_use_it_and_how_often_to_poll(desk: WebServer) -> None:
    server = desk

    answer = httpx.post(f"{server.url}/desktop/connect", json={}).json()

    assert answer["websocket_url"] == f"ws://127.0.0.1:{server.port}/"
    assert answer["token_required"] is False
    assert answer["polling_interval"] == INTERVAL
    assert answer["polling_url"] == "/desktop/events/poll"


def test_status_says_connected_while_the_client_polls_and_counts_what_it_has_not_had(desk: WebServer) -> None:
    server = desk
    status = f"{server.url}/desktop/status"
    parent_action(server, 1)
    assert httpx.get(status).json()["connected"] is False  # nobody has polled
    assert httpx.get(status).json()["queue_sizes"] == {"sessions": 0, "notifications": 1, "events": 3}

    httpx.get(f"{server.url}/desktop/events/poll")
    answer = httpx.get(status).json()
    assert answer["connected"] is True
    assert answer["queue_sizes"]["events"] == 0
    time.sleep(2 * INTERVAL + 0.2)
    assert httpx.get(status).json()["connected"] is False  # two intervals without a poll


def test_websocket_or_polling_turned_off_in_the_config_is_refused(serve: Serve, tmp_path: Path) -> None:
    server = tokenless(serve, tmp_path, websocket={"enabled": False}, http_polling={"enabled": False})

    assert httpx.get(f"{server.url}/desktop/events/poll").status_code == 403
    with connect(f"ws://127.0.0.1:{server.port}/") as ws, pytest.raises(ConnectionClosed) as closed:
        ws.recv(timeout=10)
    assert closed.value.rcvd is not None
    assert "turned off" in closed.value.rcvd.reason
    assert httpx.post(f"{server.url}/desktop/connect", json={}).json()["websocket_url"] is None


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_the_config_decides_where_the_server_listens(serve: Serve, tmp_path: Path) -> None:
    port = free_port()

    server = guardian(serve, tmp_path, {"websocket": {"host": "127.0.0.1", "port": port}}, port=None)

    assert server.ready["port"] == port


def test_a_flag_that_contradicts_the_config_is_an_error_naming_both(serve: Serve, tmp_path: Path) -> None:
    port = free_port()
    with pytest.raises(RuntimeError) as refused:
        guardian(serve, tmp_path, {"websocket": {"port": port}}, port=port + 1)
    message = str(refused.value)
    assert f"--port {port + 1}" in message
    assert f"desktop_client.websocket ({port})" in message
