"""One backend behind stdio and the web door at once (``deskbridge stdio APPS --web``): one router, one set of
operations, one event log, and one lifetime owned by the host."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection, connect

from tests.support import BackendProcess


def next_event(ws: ClientConnection, predicate: Any, timeout: float = 10) -> dict[str, Any]:
    while True:
        message = json.loads(ws.recv(timeout))
        if "seq" in message and predicate(message):
            return message


def drain(ws: ClientConnection) -> None:
    while True:
        ws.recv(10)


@pytest.fixture
def both(tmp_path: Path) -> Any:
    backend = BackendProcess(["diag"], tmp_path, "--web-port", "0")
    yield backend
    backend.kill()


def test_a_command_on_one_door_shows_its_events_on_the_other(both: BackendProcess) -> None:
    ready = both.ready
    assert ready["transport"] == "stdio"
    assert ready["url"].startswith("http://127.0.0.1:")
    assert ready["doors"]["ws"] == ready["ws"]
    assert "UNKNOWN_COMMAND" in ready["error_codes"]
    token = Path(ready["token_file"]).read_text().strip()
    with connect(f"{ready['ws']}?token={token}&after=0") as ws:
        assert json.loads(ws.recv(10))["type"] == "SUBSCRIBED"
        both.ok("EMIT", {"type": "FROM_STDIO"})
        assert next_event(ws, lambda e: e["type"] == "FROM_STDIO")["data"] == {"index": 0}

        headers = {"Authorization": f"Bearer {token}"}
        with httpx.Client(base_url=ready["url"], headers=headers) as http:
            posted = http.post("/api/command", json={"id": "w1", "type": "EMIT", "payload": {"type": "FROM_WEB"}})
            assert posted.json()["success"] is True
            assert both.wait_event(lambda e: e["type"] == "FROM_WEB")["data"] == {"index": 0}

            count = {"id": "w2", "type": "COUNT", "payload": {"to": 1000, "interval": 0.05}}
            started = http.post("/api/command", json=count)
        operation_id = started.json()["data"]["operation_id"]
        assert both.ok("CANCEL_OPERATION", {"operation_id": operation_id})["cancelled"] is True

        def mine(event: dict[str, Any]) -> bool:
            payload = event.get("payload") or {}
            return payload.get("operation_id") == operation_id and payload.get("status") == "cancelled"

        both.wait_event(mine)
        next_event(ws, mine)

        assert both.close() == 0  # the parent goes away: stdin ends, and so does the whole backend
        with pytest.raises(ConnectionClosed) as closed:
            drain(ws)
    assert closed.value.rcvd is not None
    assert closed.value.rcvd.code == 1001  # GOING_AWAY: the backend ended (docs/web.md)
