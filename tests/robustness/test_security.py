"""Security, in one place: who may talk to a backend, what it reveals, where it writes, what it accepts.

Together with the tests this module's rows in docs/reliability.md point to
(tests/transports/test_web_security.py, the studio's name and path tests),
this is every security promise of DESIGN.md §5 checked against a running
backend:

* every HTTP route and both WebSocket paths refuse a missing or wrong token,
  a foreign ``Origin`` and a ``Host`` that does not name the server, with the
  documented status or close code, and no answer echoes a token;
* the token never reaches the log, even at DEBUG with tokens in URLs;
* no path-bearing field (``output_dir``, ``output_path``, ``path``, account
  names, clip titles) writes outside where it points, and links planted in
  the output folder are not written through;
* links planted in the data dir are not written through;
* oversized and deeply nested messages are refused on every door and the
  server goes on.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import socket
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, Final

import httpx
import pytest
import websockets
from websockets.sync.client import connect

from deskbridge_standins.suno import StandinControl
from tests.studio.standin_studio import studio_on, terminal
from tests.studio.suno import support as suno_support
from tests.support import DESKBRIDGE, BackendProcess
from tests.webserver import WebServer

standin, suno = suno_support.standin, suno_support.suno
Spawn = Callable[..., BackendProcess]
LIMIT: Final = 65_536
"""The server's --max-line here: small, so that oversized messages are cheap to send."""


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WebServer]:
    """``deskbridge serve diag guardian`` with a 64 KiB line limit and DEBUG logs, shared by the module."""
    data = tmp_path_factory.mktemp("secure") / "data"
    server = WebServer(["diag", "guardian"], data, "--max-line", str(LIMIT), "--log-level", "DEBUG")
    yield server
    server.kill()


def routes(server: WebServer) -> list[tuple[str, str]]:
    """Every HTTP route the document lists, and the door's own."""
    with server.http() as http:
        document = http.get("/openapi.json").json()
    listed = [(method.upper(), path) for path, item in document["paths"].items() for method in item]
    return [*listed, ("GET", "/"), ("GET", "/api/status"), ("GET", "/openapi.json")]


# -- who may connect ----------------------------------------------------------------------------


def refusals(server: WebServer) -> dict[str, tuple[dict[str, str], dict[str, str], int, int]]:
    """name: (headers, query, HTTP status, WebSocket close code) of each way to be refused."""
    token = server.token
    good = {"Authorization": f"Bearer {token}"}
    other = "x" * len(token)
    return {
        "no token": ({}, {}, 401, 4401),
        "wrong token": ({"Authorization": f"Bearer {other}"}, {}, 401, 4401),
        "wrong token in the query": ({}, {"token": other}, 401, 4401),
        "token as another scheme": ({"Authorization": f"Basic {token}"}, {}, 401, 4401),
        "foreign Origin": ({**good, "Origin": "https://evil.example"}, {}, 403, 4403),
        "look-alike Origin": ({**good, "Origin": f"http://127.0.0.1.evil.example:{server.port}"}, {}, 403, 4403),
        "DNS-rebound Host": ({**good, "Host": f"evil.example:{server.port}"}, {}, 421, 4421),
        "another port in Host": ({**good, "Host": "127.0.0.1:1"}, {}, 421, 4421),
        "Host without a port": ({**good, "Host": "127.0.0.1"}, {}, 400, 4400),
    }


ERROR_CODES: Final = {400: "BAD_REQUEST", 401: "UNAUTHORIZED", 403: "FORBIDDEN_ORIGIN", 421: "MISDIRECTED_REQUEST"}


def websocket_close_code(server: WebServer, path: str, headers: dict[str, str], query: dict[str, str]) -> int | None:
    """A raw handshake (any Host and Origin): the close code the server answers with, None if it stays open."""
    lines = [
        f"GET {path}{'?' + '&'.join(f'{k}={v}' for k, v in query.items()) if query else ''} HTTP/1.1",
        *(f"{name}: {value}" for name, value in {"Host": f"127.0.0.1:{server.port}", **headers}.items()),
        "Upgrade: websocket",
        "Connection: Upgrade",
        f"Sec-WebSocket-Key: {base64.b64encode(os.urandom(16)).decode()}",
        "Sec-WebSocket-Version: 13",
    ]
    with socket.create_connection(("127.0.0.1", server.port), timeout=5) as sock:
        sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
        received = b""
        while b"\r\n\r\n" not in received:
            received += sock.recv(4096)
        head, _, frame = received.partition(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 101"), head
        sock.settimeout(1.0)
        try:
            while len(frame) < 4:
                frame += sock.recv(4096)
        except TimeoutError:
            return None
    if frame[0] & 0x0F != 0x8:  # not a close frame: the connection was accepted
        return None
    return int.from_bytes(frame[2:4], "big")


def test_every_route_and_door_refuses_a_missing_token_a_foreign_origin_and_a_rebound_host(server: WebServer) -> None:
    """Host and Origin first, then the token (DNS rebinding and cross-site requests never reach a handler)."""
    wrong: list[str] = []
    with httpx.Client(base_url=server.url, timeout=10) as http:
        for name, (headers, query, status, code) in refusals(server).items():
            for method, path in routes(server):
                answer = http.request(
                    method, path, headers=headers, params=query, json={} if method == "POST" else None
                )
                body = answer.text
                if answer.status_code != status or json.loads(body)["error_code"] != ERROR_CODES[status]:
                    wrong.append(f"{name}: {method} {path} answered {answer.status_code} {body[:100]}")
                if server.token in body:
                    wrong.append(f"{name}: {method} {path} echoed the token")
                if status == 401 and answer.headers.get("www-authenticate") != "Bearer":
                    wrong.append(f"{name}: {method} {path} without WWW-Authenticate")
            for path in ("/", "/ws"):
                got = websocket_close_code(server, path, headers, query)
                if got != code:
                    wrong.append(f"{name}: WebSocket {path} closed with {got}, not {code}")
    assert wrong == [], "\n".join(wrong)


def test_the_dashboards_files_need_no_token_but_still_a_right_host_and_origin(server: WebServer) -> None:
    with httpx.Client(base_url=server.url, timeout=10) as http:
        listed = http.get("/", headers={"Accept": "text/html", **server.headers}).text
        asset = next(part.split('"')[0] for part in listed.split('src="')[1:] if part.startswith("/dashboard/"))
        assert http.get(asset).status_code == 200
        assert http.get(asset, headers={"Host": f"evil.example:{server.port}"}).status_code == 421
        assert http.get(asset, headers={"Origin": "https://evil.example"}).status_code == 403
        tricks = ["/dashboard/../token", "/dashboard/..%2ftoken", "/dashboard/%2e%2e/%2e%2e/token",
                  "/dashboard/%2e%2e%2f%2e%2e%2fdata%2ftoken", "/dashboard//etc/passwd"]  # fmt: skip
        for trick in tricks:
            for headers in ({}, server.headers):  # a page's files are served without the token: try both
                answer = http.get(trick, headers=headers)
                assert answer.status_code in (401, 404), (trick, answer.status_code)
                assert server.token not in answer.text


def test_the_token_never_reaches_the_log_even_at_debug_with_tokens_in_urls(server: WebServer) -> None:
    token = server.token
    with httpx.Client(base_url=server.url, timeout=10) as http:
        http.get("/api/events", params={"token": token, "after": 0})
        http.get("/api/events", params={"token": token, "after": "not a number"})
        http.get("/desktop/status", params={"token": token})
        http.post("/api/command", params={"token": token}, json={"id": "c", "type": "CRASH"})
        http.post("/api/command", headers={"Authorization": f"Bearer {token}"}, json={"id": "t", "type": token})
        for query in (f"t%6Fken={token}", f"token%3D{token}", f"t%256Fken={token}"):  # a name percent-encoded
            http.get(f"/api/events?{query}")
    for query in (f"t%6Fken={token}", f"token%3D{token}"):
        with contextlib.suppress(websockets.exceptions.WebSocketException), connect(f"{server.ws_url}?{query}") as ws:
            ws.recv()
    with connect(f"{server.ws_url}?token={token}&after=0") as ws:
        ws.recv()
        ws.send(json.dumps({"id": "w", "type": "ECHO", "payload": {"note": "hello"}}))
        ws.recv()
    websocket_close_code(server, "/ws", {"Origin": "https://evil.example"}, {"token": token})
    logged = "\n".join(server.stderr_lines)
    assert "debug" in logged, "the server did not log at DEBUG: the test proves less than it says"
    assert token not in logged


# -- where a backend writes ----------------------------------------------------------------------

HOSTILE_TITLES: Final = [
    "../../escape", "..", ".", "/etc/passwd", "a/../../b", "..\\..\\windows", "C:\\Windows\\x", "nul\x00byte",
    "CON", "con.mp3", ".hidden", " ", "", "a" * 300, "line\nbreak", "%2e%2e%2fescape", "~/home", "$HOME", "🎵/🎵",
]  # fmt: skip


@pytest.fixture(scope="module")
def studio(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BackendProcess]:
    """One ``deskbridge stdio studio`` for the refusals below: none of them may change its state."""
    backend = BackendProcess(["studio"], tmp_path_factory.mktemp("refusals") / "data")
    yield backend
    backend.kill()


@pytest.fixture
def token(suno: StandinControl) -> str:
    return suno.session()["jwt"]


def files_under(root: Path) -> set[Path]:
    return {path for path in root.rglob("*") if path.is_file() or path.is_symlink()}


def test_no_clip_title_names_a_file_outside_output_dir(
    standin: StandinControl, suno: StandinControl, token: str, tmp_path: Path
) -> None:
    """tests/studio/downloads/test_download_commands.py tries three titles; here every trick at once, whole tree."""
    clips = suno.seed(*({"title": title} for title in HOSTILE_TITLES))
    out = tmp_path / "music"
    before = files_under(tmp_path)
    with studio_on(standin, tmp_path / "studio") as studio:
        operation = studio.ok("BATCH_DOWNLOAD", {"clips": clips, "output_dir": str(out), "session_token": token})
        done = terminal(studio, operation["operation_id"], timeout=60)
    written = {path for path in files_under(tmp_path) - before if tmp_path / "studio" not in path.parents}
    assert done["status"] == "completed", done
    assert done["result"]["downloaded"] == len(HOSTILE_TITLES)
    assert all(path.parent == out for path in written), sorted(map(str, written))
    assert len(written) == len(HOSTILE_TITLES)


RELATIVE_PATHS: Final = {
    "DOWNLOAD_CLIP": ("output_dir", lambda value: {"clip": {"id": "c1"}, "output_dir": value}),
    "BATCH_DOWNLOAD": ("output_dir", lambda value: {"clips": [{"id": "c1"}], "output_dir": value}),
    "EXPORT_HISTORY_TO_CSV": ("output_path", lambda value: {"output_path": value}),
    "IMPORT_PROMPTS": ("path", lambda value: {"path": value}),
}


@pytest.mark.parametrize("value", ["../escape.csv", "escape.csv", "a/../../escape.json", "./.."])
@pytest.mark.parametrize("command", RELATIVE_PATHS)
def test_a_relative_path_is_refused_before_anything_is_written(
    command: str, value: str, studio: BackendProcess, tmp_path: Path
) -> None:
    """Relative to what? The backend's working directory (this process's) is not the user's: paths are absolute."""
    field, payload = RELATIVE_PATHS[command]
    error = studio.error(command, payload(value))
    assert error["error_code"] == "INVALID_PAYLOAD"
    assert field in error["error"] or error["details"]["fields"] == [f"$.{field}"]
    places = [Path.cwd(), Path.cwd().parent, tmp_path]
    assert not [path for place in places for path in place.iterdir() if path.name.startswith("escape")]


NAMED: Final = [
    ("LAUNCH_BROWSER", {}),
    ("FETCH_CLIPS", {"use_my_songs": True}),
    ("DOWNLOAD_CLIP", {"clip": {"id": "c"}}),
    ("BATCH_DOWNLOAD", {"clips": [{"id": "c"}]}),
    ("GET_DOWNLOAD_HISTORY", {}),
    ("CREATE_QUEUE", {}),
]


@pytest.mark.parametrize("name", ["../escape", "a/b", "..", "a\\b", "/abs", "CON", ".hidden"])
@pytest.mark.parametrize("command", NAMED, ids=[kind for kind, _ in NAMED])
def test_an_account_name_with_path_tricks_is_refused_by_every_command(
    command: tuple[str, dict[str, Any]], name: str, studio: BackendProcess, tmp_path: Path
) -> None:
    """tests/studio/test_hostile_input.py covers the account commands; these are the others that take a name."""
    kind, payload = command
    extra = {"output_dir": str(tmp_path / "out")} if kind in ("DOWNLOAD_CLIP", "BATCH_DOWNLOAD") else {}
    queue = {"total_songs": 1, "songs_per_batch": 1} if kind == "CREATE_QUEUE" else {}
    error = studio.error(kind, {**payload, **extra, **queue, "account_name": name})
    assert error["error_code"] == "INVALID_PAYLOAD", error
    assert error["details"]["fields"] == ["$.account_name"]
    assert not (tmp_path / "out").exists()
    profiles = studio.data_dir / "studio" / "profiles"
    assert not profiles.exists() or not any(profiles.iterdir())


def test_links_planted_in_the_output_folder_are_never_written_through(
    standin: StandinControl, suno: StandinControl, token: str, tmp_path: Path
) -> None:
    victim = tmp_path / "victim.txt"
    victim.write_text("precious\n")
    out = tmp_path / "music"
    out.mkdir()
    (out / "Linked.mp3").symlink_to(victim)
    (out / "Linked.mp3.part").symlink_to(victim)
    (out / "history.csv").symlink_to(victim)
    (clip,) = suno.seed({"title": "Linked"})
    with studio_on(standin, tmp_path / "studio") as studio:
        operation = studio.ok("DOWNLOAD_CLIP", {"clip": clip, "output_dir": str(out), "session_token": token})
        done = terminal(studio, operation["operation_id"], timeout=60)
        studio.ok("CREATE_ACCOUNT", {"name": "ada"})
        refused = studio.error("EXPORT_HISTORY_TO_CSV", {"output_path": str(out / "history.csv")})
        studio.ok("EXPORT_HISTORY_TO_CSV", {"output_path": str(out / "history.csv"), "overwrite": True})
    assert victim.read_text() == "precious\n"
    assert done["status"] == "completed"
    assert Path(done["result"]["path"]).parent == out
    assert not Path(done["result"]["path"]).is_symlink()
    assert refused["error_code"] == "INVALID_PAYLOAD"
    assert not (out / "history.csv").is_symlink()


# -- links in the data dir ------------------------------------------------------------------------


def test_a_token_file_that_is_a_link_is_refused_and_its_target_left_alone(tmp_path: Path) -> None:
    victim = tmp_path / "notes.txt"
    victim.write_text("a file of the user's\n")
    victim.chmod(0o644)
    data = tmp_path / "data"
    data.mkdir(mode=0o700)
    (data / "token").symlink_to(victim)
    try:
        server = WebServer(["diag"], data)
    except RuntimeError as refused:
        message = str(refused)
    else:
        server.kill()
        message = ""
    assert victim.stat().st_mode & 0o777 == 0o644, "the link's target was chmod-ed"
    assert "token" in message, "the server started with another file's content as its token"


def test_a_lock_file_that_is_a_link_is_refused_and_its_target_left_alone(tmp_path: Path) -> None:
    """The lock file is truncated and rewritten with the pid at every start: through a link, that was the target."""
    victim = tmp_path / "notes.txt"
    victim.write_text("a file of the user's\n")
    data = tmp_path / "data"
    (data / "diag").mkdir(parents=True)
    (data / "diag" / ".lock").symlink_to(victim)
    done = subprocess.run(
        [*DESKBRIDGE, "stdio", "diag", "--data-dir", str(data)],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        timeout=60,
    )
    first = json.loads(done.stderr.split(b"\n", 1)[0])
    assert victim.read_text() == "a file of the user's\n"
    assert done.returncode == 1
    assert first["type"] == "BACKEND_ERROR"
    assert str(data / "diag" / ".lock") in first["error"]
    assert "link" in first["error"]


def test_a_data_dir_that_is_a_link_is_followed_as_the_users_choice(spawn: Spawn, tmp_path: Path) -> None:
    """Moving the data to another disk and linking it back is a user's right: it works, and writes land there."""
    real = tmp_path / "elsewhere"
    real.mkdir()
    (tmp_path / "linked").symlink_to(real, target_is_directory=True)
    backend = spawn("diag", data_dir=tmp_path / "linked")
    backend.ok("EMIT", {"count": 3})
    assert backend.close() == 0
    assert (real / "events" / "diag.db").is_file()


# -- too big, too deep ------------------------------------------------------------------------------

DEEP: Final = b"[" * 5000 + b"]" * 5000


def test_a_deeply_nested_message_is_refused_on_http_and_websocket_and_both_go_on(server: WebServer) -> None:
    """stdio's twin is tests/robustness/test_regressions.py; the door's oversized cases are in test_web_commands."""
    body = b'{"id":"d","type":"ECHO","payload":' + DEEP + b"}"
    with server.http() as http:
        answer = http.post("/api/command", content=body, headers={"content-type": "application/json"})
        assert (answer.status_code, answer.json()["error_code"]) == (400, "PARSE_ERROR")
        assert http.post("/api/command", json={"id": "p", "type": "PING"}).json()["success"] is True
    with connect(f"{server.ws_url}?token={server.token}&after=0", max_size=None) as ws:
        ws.recv()
        ws.send(body.decode())
        assert json.loads(ws.recv())["error_code"] == "PARSE_ERROR"
        ws.send('{"id": "p", "type": "PING"}')
        assert json.loads(ws.recv())["success"] is True


def test_a_deeply_nested_body_to_an_app_endpoint_is_a_400(server: WebServer) -> None:
    with server.http() as http:
        answer = http.post("/desktop/command", content=DEEP, headers={"content-type": "application/json"})
    assert answer.status_code == 400


def test_a_body_over_the_line_limit_to_an_app_endpoint_is_a_413(server: WebServer) -> None:
    body = b'{"command": "get_config", "params": {"pad": "' + b"x" * (4 * LIMIT) + b'"}}'
    with server.http() as http:
        answer = http.post("/desktop/command", content=body, headers={"content-type": "application/json"})
    assert answer.status_code == 413


def raw_request(server: WebServer, head: bytes) -> int:
    """Send a hand-made request head; the status the server answers (0: it closed the connection)."""
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        sock.sendall(head)
        received = b""
        try:
            while b"\r\n" not in received:
                chunk = sock.recv(4096)
                if not chunk:
                    break
                received += chunk
        except ConnectionResetError:
            return 0
    return int(received.split(b" ", 2)[1]) if received.startswith(b"HTTP/") else 0


@pytest.mark.parametrize(
    ("what", "make"),
    [
        pytest.param("a 1 MB request line", lambda s: b"GET /api/events?pad=" + b"x" * 1_000_000 + b" HTTP/1.1\r\n",
                     id="1 MB request line"),
        pytest.param("a 1 MB header", lambda s: b"GET /api/status HTTP/1.1\r\nX-Pad: " + b"x" * 1_000_000 + b"\r\n",
                     id="1 MB header"),
        pytest.param("10 000 headers", lambda s: b"GET /api/status HTTP/1.1\r\n" + b"X-Pad: x\r\n" * 10_000,
                     id="10 000 headers"),
    ],
)  # fmt: skip
def test_an_oversized_request_head_is_refused_and_the_server_goes_on(
    what: str, make: Callable[[WebServer], bytes], server: WebServer
) -> None:
    auth = f"Host: 127.0.0.1:{server.port}\r\nAuthorization: Bearer {server.token}\r\n\r\n".encode()
    status = raw_request(server, make(server) + auth)
    assert status == 0 or 400 <= status < 500, f"{what}: {status}"
    assert server.call("PING")["success"] is True
    assert server.proc is not None
    assert server.proc.poll() is None


def read_until_closed(ws: Any) -> None:
    while True:
        ws.recv(timeout=5)


def test_an_oversized_websocket_message_closes_only_that_connection(server: WebServer) -> None:
    """1009 for the sender (tests/transports/test_web_commands.py); here: the others notice nothing."""
    with connect(f"{server.ws_url}?token={server.token}&after=0", max_size=None) as bystander:
        bystander.recv()
        with connect(f"{server.ws_url}?token={server.token}", max_size=None) as sender:
            sender.send("x" * (2 * LIMIT))
            with pytest.raises(websockets.ConnectionClosed) as closed:
                read_until_closed(sender)
        assert closed.value.rcvd is not None
        assert closed.value.rcvd.code == 1009
        bystander.send('{"id": "b", "type": "PING"}')
        while (message := json.loads(bystander.recv(timeout=5))).get("id") != "b":
            pass
        assert message["success"] is True
