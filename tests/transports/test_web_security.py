"""Who may talk to ``deskbridge serve``: token, Origin and Host, each refused with its exact status or close code."""

from __future__ import annotations

import asyncio
import base64
import os
import socket
import stat
import subprocess
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
import websockets

from tests.support import DESKBRIDGE
from tests.webserver import WebServer

Serve = Callable[..., WebServer]


async def close_code(url: str, **options: object) -> int | None:
    """Open a WebSocket and return the code the server closes it with."""
    async with websockets.connect(url, open_timeout=10, **options) as ws:  # type: ignore[arg-type]
        with pytest.raises(websockets.ConnectionClosed):
            await asyncio.wait_for(ws.recv(), 10)
        return ws.close_code


def raw_handshake_close_code(port: int, host_header: str, path: str) -> int:
    """A handshake by hand (client libraries insist on a truthful Host); the close code that follows."""
    key = base64.b64encode(os.urandom(16)).decode()
    request = (
        f"GET {path} HTTP/1.1\r\nHost: {host_header}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
    )
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(request.encode())
        data = b""
        while b"\r\n\r\n" not in data or len(data) < data.index(b"\r\n\r\n") + 8:
            chunk = sock.recv(4096)
            if not chunk:
                break
            data += chunk
    head, _, frame = data.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 101"), head
    assert frame[0] == 0x88, frame  # a close frame
    return int.from_bytes(frame[2:4], "big")


def test_token_file_is_private_and_stable(serve: Serve) -> None:
    server = serve("diag")
    token_file = server.data_dir / "token"
    assert stat.S_IMODE(token_file.stat().st_mode) == 0o600
    token = server.token
    assert len(token) >= 32
    server.stop()
    server.start()
    assert server.token == token  # made once, on the first start


def test_http_needs_the_token(serve: Serve) -> None:
    server = serve("diag")
    ping = {"id": "1", "type": "PING", "payload": {}}
    with httpx.Client(base_url=server.url, timeout=10) as client:
        missing = client.post("/api/command", json=ping)
        assert missing.status_code == 401
        assert missing.json()["error_code"] == "UNAUTHORIZED"
        assert missing.headers["www-authenticate"] == "Bearer"
        assert client.post("/api/command", json=ping, headers={"Authorization": "Bearer nope"}).status_code == 401
        assert client.get("/api/events", params={"token": "nope"}).status_code == 401
        assert client.get("/openapi.json").status_code == 401
        good = client.post("/api/command", json=ping, headers=server.headers)
        assert good.status_code == 200
        assert good.json()["success"] is True
        assert client.get("/api/events", params={"token": server.token}).status_code == 200


def test_websocket_needs_the_token(serve: Serve) -> None:
    server = serve("diag")
    assert asyncio.run(close_code(server.ws_url)) == 4401
    assert asyncio.run(close_code(server.ws_url + "?token=wrong")) == 4401
    bad_header = {"Authorization": "Bearer wrong"}
    assert asyncio.run(close_code(server.url.replace("http", "ws") + "/", additional_headers=bad_header)) == 4401


def test_foreign_origin_is_refused_on_websocket_and_http(serve: Serve) -> None:
    server = serve("diag")
    url = f"{server.ws_url}?token={server.token}"
    assert asyncio.run(close_code(url, origin="http://evil.example")) == 4403
    with server.http() as client:
        refused = client.get("/api/events", headers={"Origin": "http://evil.example"})
        assert refused.status_code == 403
        assert refused.json()["error_code"] == "FORBIDDEN_ORIGIN"
        preflight = client.options("/api/command", headers={"Origin": "http://evil.example"})
        assert preflight.status_code == 403
        # the allowlist: no Origin, null, file://, the server's own origin
        for origin in ("null", "file://", f"http://127.0.0.1:{server.port}", f"http://localhost:{server.port}"):
            answer = client.get("/api/events", headers={"Origin": origin})
            assert answer.status_code == 200, origin
            assert answer.headers["access-control-allow-origin"] == origin
        allowed = client.options("/api/command", headers={"Origin": "null"})
        assert allowed.status_code == 204
        assert "authorization" in allowed.headers["access-control-allow-headers"]

    async def own_origin_connects() -> None:
        async with websockets.connect(url, origin=f"http://localhost:{server.port}") as ws:  # type: ignore[arg-type]
            await ws.send('{"id":"1","type":"PING","payload":{}}')
            while '"PING_RESPONSE"' not in (message := await asyncio.wait_for(ws.recv(), 10)):
                assert "SUBSCRIBED" in message

    asyncio.run(own_origin_connects())


def test_configured_origins_are_allowed(serve: Serve, tmp_path: os.PathLike[str]) -> None:
    config = os.path.join(tmp_path, "config.json")
    with open(config, "w") as handle:
        handle.write('{"web": {"allowed_origins": ["app://desktop", "http://localhost:3000"]}}')
    server = serve("diag", extra=("--config", config))
    with server.http() as client:
        assert client.get("/api/events", headers={"Origin": "app://desktop"}).status_code == 200
        assert client.get("/api/events", headers={"Origin": "http://localhost:3000"}).status_code == 200
        assert client.get("/api/events", headers={"Origin": "http://localhost:3001"}).status_code == 403


def test_foreign_host_is_refused(serve: Serve) -> None:
    server = serve("diag")
    with server.http() as client:
        rebinding = client.get("/api/events", headers={"Host": f"evil.example:{server.port}"})
        assert rebinding.status_code == 421
        assert rebinding.json()["error_code"] == "MISDIRECTED_REQUEST"
        assert client.get("/api/events", headers={"Host": f"127.0.0.1:{server.port + 1}"}).status_code == 421
        assert client.get("/api/events", headers={"Host": "localhost"}).status_code == 400
        assert client.get("/api/events", headers={"Host": f"localhost:{server.port}"}).status_code == 200
    path = f"/ws?token={server.token}"
    assert raw_handshake_close_code(server.port, f"evil.example:{server.port}", path) == 4421
    assert raw_handshake_close_code(server.port, f"127.0.0.1:{server.port}", "/ws?token=bad") == 4401


def test_no_auth_is_loud_and_open(serve: Serve) -> None:
    server = serve("diag", extra=("--no-auth",))
    assert server.ready["auth"] is False
    assert server.ready["token_file"] is None
    with httpx.Client(base_url=server.url, timeout=10) as client:
        assert client.post("/api/command", json={"id": "1", "type": "PING"}).status_code == 200
        # Origin and Host are still checked
        assert client.get("/api/events", headers={"Origin": "http://evil.example"}).status_code == 403
    server.stop()
    assert any("AUTHENTICATION IS OFF" in line for line in server.stderr_lines)


def test_the_token_never_appears_in_the_logs(serve: Serve) -> None:
    server = serve("diag", extra=("--log-level", "DEBUG"))

    async def touch() -> None:
        async with websockets.connect(f"{server.ws_url}?token={server.token}") as ws:
            await ws.send('{"id":"1","type":"PING","payload":{}}')
            await asyncio.wait_for(ws.recv(), 10)

    asyncio.run(touch())
    with server.http() as client:
        client.get("/api/events", params={"token": server.token})
        client.get("/nowhere", params={"token": server.token})
    token = server.token
    server.stop()
    assert not any(token in line for line in server.stderr_lines)
    assert any("token=***" in line for line in server.stderr_lines)


def test_a_non_loopback_address_needs_an_explicit_flag(tmp_path: os.PathLike[str]) -> None:
    result = subprocess.run(
        [*DESKBRIDGE, "serve", "diag", "--host", "0.0.0.0", "--port", "0", "--data-dir", str(tmp_path)],
        capture_output=True,
        timeout=30,
        check=False,
    )
    assert result.returncode != 0
    assert b"--allow-remote" in result.stderr


def test_a_taken_port_is_reported_as_a_start_failure(serve: Serve, tmp_path: os.PathLike[str]) -> None:
    server = serve("diag")
    result = subprocess.run(
        [*DESKBRIDGE, "serve", "diag", "--port", str(server.port), "--data-dir", os.path.join(tmp_path, "other")],
        capture_output=True,
        timeout=30,
        check=False,
    )
    assert result.returncode == 1
    failure = [line for line in result.stderr.splitlines() if b"BACKEND_ERROR" in line]
    assert failure
    assert b"in use" in failure[0]


def test_a_token_file_readable_by_others_is_kept_and_made_private(serve: Serve, tmp_path: os.PathLike[str]) -> None:
    data = os.path.join(tmp_path, "data")
    os.makedirs(data, mode=0o700)
    token_file = os.path.join(data, "token")
    with open(token_file, "w") as handle:
        handle.write("a-token-the-user-chose-long-enough-to-count\n")
    os.chmod(token_file, 0o644)
    server = WebServer(["diag"], Path(data))
    try:
        assert server.token == "a-token-the-user-chose-long-enough-to-count"
        assert stat.S_IMODE(os.stat(token_file).st_mode) == 0o600
        assert server.call("PING")["success"] is True
    finally:
        server.stop()


def _fifo(path: str) -> None:
    os.mkfifo(path)


def _empty(path: str) -> None:
    Path(path).touch()


@pytest.mark.parametrize(
    ("make", "why"),
    [(_empty, b"is empty"), (os.mkdir, b"not a regular file"), (_fifo, b"not a regular file")],
    ids=["empty", "a directory", "a fifo"],
)
def test_a_token_file_that_cannot_be_a_token_is_a_start_failure(
    make: Callable[[str], None], why: bytes, tmp_path: os.PathLike[str]
) -> None:
    """A clear BACKEND_ERROR line naming the file; never a hang on a fifo, never a token made of nothing."""
    data = os.path.join(tmp_path, "data")
    os.makedirs(data, mode=0o700)
    make(os.path.join(data, "token"))
    result = subprocess.run(
        [*DESKBRIDGE, "serve", "diag", "--port", "0", "--data-dir", data], capture_output=True, timeout=30, check=False
    )
    assert result.returncode == 1
    failure = [line for line in result.stderr.splitlines() if b"BACKEND_ERROR" in line]
    assert failure, result.stderr
    assert why in failure[0]
    assert os.path.join(data, "token").encode() in failure[0]
