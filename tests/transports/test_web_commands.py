"""Commands through the web door: POST /api/command, WebSocket, malformed input, app HTTP endpoints."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import msgspec
import pytest
import websockets

from deskbridge.app import AppContext, AppSpec, HttpEndpoint
from deskbridge.backend import Backend
from deskbridge.errors import CommandError, ErrorCodeInfo
from deskbridge.events import RETRY_MAX
from deskbridge.router import Commands
from deskbridge.transports.web.config import WebConfig
from deskbridge.transports.web.front import WebDoor
from tests.robustness.support import remount, tmpfs
from tests.webserver import WebServer

Serve = Callable[..., WebServer]


def post(server: WebServer, body: bytes | str, content_type: str = "application/json") -> httpx.Response:
    with server.http() as client:
        return client.post("/api/command", content=body, headers={"Content-Type": content_type})


def test_http_command_and_error_statuses(serve: Serve) -> None:
    server = serve("diag", extra=("--max-line", "4096"))
    assert server.ready["transport"] == "web"
    assert server.ready["ws"].endswith("/ws")
    ok = post(server, '{"id": "a", "type": "ECHO", "payload": {"x": 1}}')
    assert ok.status_code == 200
    assert ok.json() == {**ok.json(), "id": "a", "type": "ECHO_RESPONSE", "success": True, "data": {"x": 1}}
    cases = [
        ('{"id": "b", "type": "NOPE"}', 404, "UNKNOWN_COMMAND"),
        ('{"id": "c", "type": "SLEEP", "payload": {"seconds": "x"}}', 400, "INVALID_PAYLOAD"),
        ('{"id": "d", "type": "CRASH"}', 500, "INTERNAL_ERROR"),
        ("this is not json", 400, "PARSE_ERROR"),
        ("[1, 2]", 400, "INVALID_MESSAGE"),
        ('{"id": "e", "type": "ECHO", "payload": {"pad": "' + "x" * 5000 + '"}}', 413, "MESSAGE_TOO_LARGE"),
    ]
    for body, status, code in cases:
        answer = post(server, body)
        assert (answer.status_code, answer.json()["error_code"]) == (status, code), body[:40]
        assert answer.json()["type"] == "ERROR_RESPONSE"
    wrong_type = post(server, '{"id": "f", "type": "PING"}', "text/plain")
    assert wrong_type.status_code == 415
    assert wrong_type.json()["error_code"] == "UNSUPPORTED_MEDIA_TYPE"
    with server.http() as client:
        assert client.get("/api/command").status_code == 405
        assert client.get("/nowhere").status_code == 404
        assert client.post("/api/events").status_code == 405


def test_openapi_describes_the_http_surface(serve: Serve) -> None:
    server = serve("diag")
    with server.http() as client:
        document = client.get("/openapi.json").json()
    assert document["openapi"].startswith("3.")
    assert {"/api/command", "/api/events", "/desktop/events/poll"} <= set(document["paths"])
    assert {p["name"] for p in document["paths"]["/api/events"]["get"]["parameters"]} >= {"after", "wait", "limit"}


def test_operation_over_http_reports_through_polling(serve: Serve) -> None:
    server = serve("diag")
    started = server.call("COUNT", {"to": 3, "interval": 0.01})
    operation_id = started["data"]["operation_id"]
    with server.http() as client:
        for _ in range(100):
            events = client.get("/api/events", params={"after": 0, "wait": 5}).json()["events"]
            terminal = [e for e in events if e["payload"].get("status") == "completed"]
            if terminal:
                break
    assert terminal[0]["payload"]["operation_id"] == operation_id
    assert terminal[0]["id"] == "progress-event"
    assert terminal[0]["type"] == "COUNT_PROGRESS"


async def ws_exchange(server: WebServer, frames: list[str | bytes], expect: int) -> tuple[list[dict[str, Any]], Any]:
    """Send frames after subscribing; collect ``expect`` non-event answers (or until close): (answers, close code)."""
    answers: list[dict[str, Any]] = []
    async with websockets.connect(f"{server.ws_url}?after=0&token={server.token}", max_size=None) as ws:
        assert json.loads(await ws.recv())["type"] == "SUBSCRIBED"
        for frame in frames:
            await ws.send(frame)
        try:
            while len(answers) < expect:
                message = json.loads(await asyncio.wait_for(ws.recv(), 10))
                if "seq" not in message:
                    answers.append(message)
        except websockets.ConnectionClosed:
            pass
        return answers, ws.close_code


def test_websocket_commands_and_malformed_messages(serve: Serve) -> None:
    server = serve("diag", extra=("--max-line", "4096"))
    frames: list[str | bytes] = [
        '{"id": "1", "type": "PING"}',
        "not json",
        '{"id": 5, "type": "PING"}',
        '{"id": "2", "type": "NOPE"}',
        '{"id": "3", "type": "SUBSCRIBE", "payload": {"after": 0}}',
        '{"id": "4", "type": "SLEEP", "payload": {"seconds": 0.05}}',
        '{"id": "5", "type": "ECHO", "payload": {"still": "alive"}}',
    ]
    answers, code = asyncio.run(ws_exchange(server, frames, 7))
    by_id = {a["id"]: a for a in answers}
    assert by_id["1"]["type"] == "PING_RESPONSE"
    assert [a["error_code"] for a in answers if a["id"] is None] == ["PARSE_ERROR"]
    assert by_id[5]["error_code"] == "INVALID_MESSAGE"
    assert by_id["2"]["error_code"] == "UNKNOWN_COMMAND"
    assert by_id["3"]["error_code"] == "INVALID_MESSAGE"  # SUBSCRIBE only as the first message
    assert by_id["4"]["data"] == {"slept": 0.05, "in_task": True}
    assert by_id["5"]["data"] == {"still": "alive"}
    assert code is None

    _, binary_code = asyncio.run(ws_exchange(server, [b'{"id": "1", "type": "PING"}'], 1))
    assert binary_code == 1003
    _, big_code = asyncio.run(ws_exchange(server, ['{"id": "1", "type": "ECHO", "payload": "' + "x" * 8000 + '"}'], 1))
    assert big_code == 1009
    assert server.call("PING")["success"] is True  # the server lives on


class Greeting(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    name: str
    times: int = 1
    loud: bool = False


def _greeter(context: AppContext) -> Commands:
    commands = Commands()

    @commands.command("GREET")
    async def greet(payload: Greeting) -> dict[str, str]:
        """Say hello."""
        text = " ".join([f"hello {payload.name}"] * payload.times)
        return {"text": text.upper() if payload.loud else text}

    @commands.command("GREET_LOST")
    async def lost(payload: dict[str, Any]) -> None:
        raise CommandError("GREETING_GONE", "no such greeting")

    return commands


GREETER = AppSpec(
    name="greeter",
    version="0",
    description="a test app with HTTP endpoints",
    build=_greeter,
    http_endpoints=(
        HttpEndpoint("GET", "/hello", "GREET"),
        HttpEndpoint("POST", "/hello", "GREET"),
        HttpEndpoint("GET", "/hello/envelope", "GREET", raw=False),
        HttpEndpoint("GET", "/lost", "GREET_LOST"),
    ),
    error_codes=(ErrorCodeInfo("GREETING_GONE", "the greeting was taken back", 410),),
)


def test_app_http_endpoints_run_their_commands(tmp_path: Path) -> None:
    """An app's HttpEndpoints, through the real door in process (ASGI), with query strings converted."""

    async def main() -> None:
        backend = Backend([GREETER], data_dir=tmp_path)
        await backend.start()
        door = WebDoor(backend, WebConfig(token="t"), port=9)
        transport = httpx.ASGITransport(app=door)
        headers = {"Authorization": "Bearer t"}
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1:9", headers=headers) as client:
            got = await client.get("/hello", params={"name": "ann", "times": "2", "loud": "true"})
            assert (got.status_code, got.json()) == (200, {"text": "HELLO ANN HELLO ANN"})
            posted = await client.post("/hello", json={"name": "bo"})
            assert (posted.status_code, posted.json()) == (200, {"text": "hello bo"})
            envelope = (await client.get("/hello/envelope", params={"name": "cy"})).json()
            assert envelope["type"] == "GREET_RESPONSE"
            assert envelope["data"] == {"text": "hello cy"}
            bad = await client.get("/hello", params={"name": "ann", "times": "many"})
            assert bad.status_code == 400
            assert bad.json()["error_code"] == "INVALID_PAYLOAD"
            assert (await client.get("/hello")).status_code == 400  # name is required
            typo = await client.get("/hello", params={"name": "ann", "tims": "2"})
            assert (typo.status_code, typo.json()["details"]["did_you_mean"]) == (400, "times")
            by_query = await client.get("/hello", params={"name": "di", "token": "t"}, headers={"Authorization": ""})
            assert (by_query.status_code, by_query.json()) == (200, {"text": "hello di"})  # the token is no field
            not_json = await client.post("/hello", content=b"{", headers={"Content-Type": "application/json"})
            assert not_json.status_code == 400
            assert not_json.json()["error_code"] == "PARSE_ERROR"
            wrong_type = await client.post("/hello", content=b"name=x", headers={"Content-Type": "text/plain"})
            assert wrong_type.status_code == 415
            lost = await client.get("/lost")
            assert lost.status_code == 410  # the status the app declared with its code
            assert lost.json()["error_code"] == "GREETING_GONE"
            spec = (await client.get("/openapi.json")).json()
            assert "/hello" in spec["paths"]
            codes = {c["const"]: c["description"] for c in spec["components"]["schemas"]["ErrorCode"]["oneOf"]}
            assert codes["GREETING_GONE"] == "the greeting was taken back"
            assert {"UNKNOWN_COMMAND", "UNAUTHORIZED"} <= set(codes)
            assert {"get", "post"} <= set(spec["paths"]["/hello"])
        await backend.aclose()

    asyncio.run(main())


@pytest.mark.parametrize("path", ["/api/events", "/desktop/events/poll"])
def test_polling_answer_shape(serve: Serve, path: str) -> None:
    server = serve("diag")
    server.call("EMIT", {"count": 3})
    with server.http() as client:
        answer = client.get(path, params={"after": 1}).json()
    assert [e["seq"] for e in answer["events"]] == [2, 3]
    assert answer["last_seq"] == 3
    assert answer["recovered"] is True
    assert answer["epoch"] == server.ready["epoch"]
    assert (answer["after"], answer["head"], answer["more"]) == (1, 3, False)
    with server.http() as client:
        elsewhere = client.get(path, params={"after": 2, "epoch": "a-log-that-is-gone"}).json()
        assert (elsewhere["recovered"], elsewhere["after"]) == (False, 0)
        assert [e["seq"] for e in elsewhere["events"]] == [1, 2, 3]
        assert client.get(path, params={"after": "x"}).status_code == 400
        assert client.get(path, params={"wait": "999"}).status_code == 400


def test_a_command_whose_events_the_full_disk_refused_is_a_507_and_its_events_come_later(tmp_path: Path) -> None:
    """The web door's side of EVENTS_NOT_STORED (docs/protocol.md): 507, the server serves on, nothing is lost."""
    with tmpfs(tmp_path / "disk", "1m") as disk:
        server = WebServer(["diag"], disk / "data")
        try:
            with server.http() as http:
                statuses = []
                for i in range(40):
                    body = {"id": str(i), "type": "EMIT", "payload": {"count": 500, "type": f"FILL_{i}"}}
                    statuses.append(http.post("/api/command", json=body).status_code)
                    if statuses[-1] != 200:
                        break
                refused = http.post("/api/command", json={"id": "r", "type": "EMIT", "payload": {"type": "LATE"}})
                ping = http.post("/api/command", json={"id": "p", "type": "PING"})
                remount(disk, "rw,size=20m")
                time.sleep(RETRY_MAX + 0.5)
                after = http.post("/api/command", json={"id": "a", "type": "EMIT", "payload": {"type": "AFTER"}})
                types = [e["type"] for e in http.get("/api/events", params={"limit": 10_000}).json()["events"]]
        finally:
            server.kill()
    assert statuses[-1] == 507, "the disk never filled"
    assert (refused.status_code, refused.json()["error_code"]) == (507, "EVENTS_NOT_STORED")
    assert ping.status_code == 200
    assert after.status_code == 200
    assert types[-2:] == ["LATE", "AFTER"]
