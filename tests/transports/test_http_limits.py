"""The bounds on a request's head (transports/web/http_limits.py), against ``deskbridge serve`` over real sockets.

Heads at the limits are served; one byte or one header past them is a 431
(a target past its limit a 414), whether it comes first on a connection,
after a request on a kept-alive one, or pipelined behind one still running;
the connection then closes and the server goes on. Requests are written by
hand: client libraries would not send such heads.
"""

from __future__ import annotations

import contextlib
import json
import select
import socket
from collections.abc import Callable, Iterator
from typing import BinaryIO

import pytest
import websockets
from websockets.sync.client import connect

from deskbridge.transports.web.http_limits import MAX_HEADER_BYTES, MAX_HEADERS, MAX_TARGET_BYTES
from tests.webserver import WebServer


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WebServer]:
    """One ``deskbridge serve diag`` for the module: every refusal must leave it serving."""
    server = WebServer(["diag"], tmp_path_factory.mktemp("limits") / "data")
    yield server
    server.kill()


def head(server: WebServer, count: int = 2, size: int = 0, target: str = "/api/status", method: str = "GET") -> bytes:
    """A request head with ``count`` header lines (Host and Authorization among them) of ``size`` bytes in all.

    A header line counts as sent: ``Name: value`` and its CRLF. ``size`` 0: no padding.
    """
    lines = [f"Host: 127.0.0.1:{server.port}\r\n", f"Authorization: Bearer {server.token}\r\n"]
    lines += [f"X-Pad-{i}: x\r\n" for i in range(count - len(lines))]
    if size:
        missing = size - sum(len(line) for line in lines)
        assert missing >= 0, "too many headers for that size"
        lines[-1] = lines[-1][:-2] + "x" * missing + "\r\n"
        assert sum(len(line) for line in lines) == size
    return f"{method} {target} HTTP/1.1\r\n{''.join(lines)}\r\n".encode()


def read_response(stream: BinaryIO) -> tuple[int, bytes]:
    """One response off a kept-alive connection: its status and body (Content-Length framed, as the door sends)."""
    status_line = stream.readline()
    assert status_line.startswith(b"HTTP/1.1 "), status_line
    length = 0
    while (line := stream.readline()) not in (b"\r\n", b""):
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    return int(status_line.split()[1]), stream.read(length)


def exchange(server: WebServer, data: bytes, responses: int = 1) -> tuple[list[int], bool]:
    """Send ``data`` on a new connection; the statuses of the first ``responses`` answers, and whether it then closed.

    Status 0: the connection was reset before an answer could be read. The server closes a refused connection
    with the client's surplus unread, so a client still sending may see a reset instead of the 431.
    """
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            sock.sendall(data)
        stream = sock.makefile("rb")
        try:
            statuses = [read_response(stream)[0] for _ in range(responses)]
        except ConnectionResetError:
            return [0], True
        sock.settimeout(0.5)
        try:
            closed = stream.read(1) == b""
        except TimeoutError:
            closed = False
        except ConnectionResetError:
            closed = True
        return statuses, closed


def still_serving(server: WebServer) -> bool:
    assert server.proc is not None
    return server.proc.poll() is None and server.call("PING")["success"] is True


def test_a_head_at_the_limits_is_served(server: WebServer) -> None:
    at_both = head(server, MAX_HEADERS, MAX_HEADER_BYTES)
    one_long_header = head(server, 3, MAX_HEADER_BYTES)
    longest_target = head(server, target="/api/status?pad=" + "x" * (MAX_TARGET_BYTES - len("/api/status?pad=")))
    for request in (at_both, one_long_header, longest_target):
        assert exchange(server, request) == ([200], False)


@pytest.mark.parametrize(
    ("make", "status"),
    [  # the last two: a client still sending when refused may see a reset (status 0) instead
        pytest.param(lambda s: head(s, MAX_HEADERS + 1), 431, id="one header too many"),
        pytest.param(lambda s: head(s, MAX_HEADERS, MAX_HEADER_BYTES + 1), 431, id="one byte too many, many headers"),
        pytest.param(lambda s: head(s, 3, MAX_HEADER_BYTES + 1), 431, id="one byte too many, one long header"),
        pytest.param(lambda s: head(s, target="/api/status?pad=" + "x" * (MAX_TARGET_BYTES - 15)), 414,
                     id="target one byte too long"),
        pytest.param(lambda s: head(s, 20_000), {431, 0}, id="20 000 headers"),
        pytest.param(lambda s: head(s, 3, 2_000_000), {431, 0}, id="a 2 MB header"),
    ],
)  # fmt: skip
def test_a_head_past_a_limit_is_refused_and_the_connection_closed(
    server: WebServer, make: Callable[[WebServer], bytes], status: int | set[int]
) -> None:
    (answer,), closed = exchange(server, make(server))
    assert answer in (status if isinstance(status, set) else {status})
    assert closed
    assert still_serving(server)


def test_a_kept_alive_connection_serves_then_refuses_then_closes(server: WebServer) -> None:
    """The counts start again with each request: two heads each just under the limit pass, then one over does not."""
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        stream = sock.makefile("rb")
        for _ in range(2):
            sock.sendall(head(server, MAX_HEADERS, MAX_HEADER_BYTES))
            status, body = read_response(stream)
            assert status == 200
            assert json.loads(body)["app"] == "diag"
        sock.sendall(head(server, MAX_HEADERS + 1))
        assert read_response(stream)[0] == 431
        assert stream.read(1) == b""
    assert still_serving(server)


def test_pipelined_requests_are_answered_in_order_before_the_refusal(server: WebServer) -> None:
    """The 431 waits for the answer owed to a slow request sent before it: it must not be taken for that answer."""
    body = b'{"id": "s", "type": "SLEEP", "payload": {"seconds": 0.3}}'
    slow = head(server, target="/api/command", method="POST")[:-2] + (
        b"Content-Type: application/json\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body)
    )
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        sock.sendall(slow + head(server) + head(server, MAX_HEADERS + 1) + head(server))
        stream = sock.makefile("rb")
        status, answer = read_response(stream)
        assert (status, json.loads(answer)["data"]["slept"]) == (200, 0.3)
        assert read_response(stream)[0] == 200
        assert read_response(stream)[0] == 431
        assert stream.read(1) == b""  # the request after the refused one is not read


def test_a_header_that_never_ends_is_refused_before_much_more_is_read(server: WebServer) -> None:
    """Sent a piece at a time, each given time to be read on its own; the header never completes."""
    piece = 8192
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        sock.sendall(head(server)[:-2] + b"X-Endless: ")
        sent = 0
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            while sent < 16 * MAX_HEADER_BYTES and not select.select([sock], [], [], 0.05)[0]:
                sock.sendall(b"x" * piece)
                sent += piece
        stream = sock.makefile("rb")
        with contextlib.suppress(ConnectionResetError):  # else the answer was lost to writes into a closed socket
            assert read_response(stream)[0] == 431
    assert MAX_HEADER_BYTES < sent < 3 * MAX_HEADER_BYTES
    assert still_serving(server)


def test_a_malformed_head_is_still_a_400(server: WebServer) -> None:
    assert exchange(server, b"GET /api/status HTTP/1.1\r\nno colon here\r\n\r\n") == ([400], True)
    assert still_serving(server)


def test_websocket_connects_and_an_oversized_handshake_is_refused(server: WebServer) -> None:
    """The same protocol reads the upgrade request: a handshake within the bounds upgrades as before."""
    with connect(f"{server.ws_url}?token={server.token}&after=0") as ws:
        assert json.loads(ws.recv(timeout=10))["type"]
        ws.send('{"id": "p", "type": "PING"}')
        while (message := json.loads(ws.recv(timeout=10))).get("id") != "p":
            pass
        assert message["success"] is True
    padding = [(f"X-Pad-{i}", "x") for i in range(MAX_HEADERS)]
    with pytest.raises(websockets.InvalidStatus) as refused:
        connect(f"{server.ws_url}?token={server.token}", additional_headers=padding, open_timeout=10)
    assert refused.value.response.status_code == 431
    assert still_serving(server)
