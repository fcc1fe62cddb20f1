"""The frozen bundle (``python3 dev.py freeze``), driven the way a desktop app drives the backend it ships.

The bundle is built once per run, then spawned with an environment of its own
(a system PATH, no venv, no PYTHONPATH): the seed's Electron ``BackendService``
through Node's ``child_process``, the studio's account commands over stdio, the
guardian over the web door, and SIGTERM and SIGKILL with the data read back
afterwards. ``pytest -m 'not frozen'`` skips this module (~35 s of build).
"""

from __future__ import annotations

import http.server
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
import websockets.sync.client

from tests.support import DESKBRIDGE, NODE, BackendProcess, run_seed_backend_service
from tests.webserver import WebServer

pytestmark = pytest.mark.frozen

ROOT = Path(__file__).resolve().parent.parent
VENV = Path(sys.prefix)
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture(scope="session")
def bundle(tmp_path_factory: pytest.TempPathFactory, pytestconfig: pytest.Config) -> Path:
    """``python3 dev.py freeze`` (every app) into a temporary dist folder; the executable.

    How long the build took and the bundle's size go to the test run's output.
    """
    dist = tmp_path_factory.mktemp("frozen")
    began = time.monotonic()
    built = subprocess.run(
        [sys.executable, str(ROOT / "dev.py"), "freeze", "--dist", str(dist)],
        capture_output=True,
        text=True,
        timeout=480,
    )
    assert built.returncode == 0, built.stdout[-2000:] + built.stderr[-4000:]
    executable = dist / "deskbridge" / ("deskbridge.exe" if os.name == "nt" else "deskbridge")
    assert executable.is_file()
    size = sum(f.stat().st_size for f in (dist / "deskbridge").rglob("*") if f.is_file())
    reporter = pytestconfig.pluginmanager.get_plugin("terminalreporter")
    if reporter is not None:
        reporter.write_line(f"frozen bundle: built in {time.monotonic() - began:.0f} s, {size / 1e6:.0f} MB")
    return executable


@pytest.fixture
def environ(tmp_path: Path) -> dict[str, str]:
    """What a desktop app may hand its backend: the system's PATH and a home, nothing of this venv."""
    path = os.pathsep.join(p for p in ("/usr/local/bin", "/usr/bin", "/bin") if Path(p).is_dir())
    home = tmp_path / "home"
    home.mkdir()
    clean = {"PATH": path, "HOME": str(home), "LANG": "C.UTF-8"}
    assert str(VENV) not in json.dumps(clean)
    return clean


@pytest.fixture
def frozen_stdio(bundle: Path, environ: dict[str, str]) -> Iterator[Callable[..., BackendProcess]]:
    """``frozen_stdio(data_dir, *apps)``: ``<bundle> stdio <apps>`` in the clean environment; killed at the end."""
    started: list[BackendProcess] = []

    def start(data_dir: Path, *apps: str) -> BackendProcess:
        backend = BackendProcess(list(apps), data_dir, command=[str(bundle)], environ=environ)
        started.append(backend)
        return backend

    yield start
    for backend in started:
        backend.kill()


def test_the_bundle_runs_its_own_python_not_this_venv(bundle: Path, environ: dict[str, str]) -> None:
    version = subprocess.run([str(bundle), "--version"], env=environ, capture_output=True, text=True, timeout=30)
    assert version.returncode == 0, version.stderr
    assert version.stdout.split() == ["deskbridge", "0.1.0"]
    listed = subprocess.run([str(bundle), "apps"], env=environ, capture_output=True, text=True, timeout=30)
    assert [line.split("\t")[0] for line in listed.stdout.splitlines()] == ["diag", "guardian", "studio"]


def test_the_json_schema_is_the_installed_commands(bundle: Path, environ: dict[str, str]) -> None:
    apps = ["studio", "guardian", "diag"]
    frozen = subprocess.run([str(bundle), "schema", *apps], env=environ, capture_output=True, timeout=60)
    installed = subprocess.run([*DESKBRIDGE, "schema", *apps], capture_output=True, timeout=60)
    assert frozen.returncode == 0, frozen.stderr
    assert json.loads(frozen.stdout) == json.loads(installed.stdout)


def test_its_command_line_client_spawns_the_bundle_itself(
    bundle: Path, environ: dict[str, str], tmp_path: Path
) -> None:
    """``deskbridge call --stdio APP`` starts a backend of its own: the frozen executable, not ``python -m``."""
    argv = [str(bundle), "call", "ECHO", '{"n": 7}', "--stdio", "diag", "--data-dir", str(tmp_path / "data")]
    result = subprocess.run(argv, env=environ, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {"n": 7}


@pytest.mark.skipif(NODE is None, reason="needs Node.js (the dev extra installs it)")
def test_the_seed_electron_backend_service_spawns_the_bundle(
    bundle: Path, environ: dict[str, str], tmp_path: Path
) -> None:
    run_seed_backend_service([str(bundle), "stdio", "studio", "--data-dir", str(tmp_path / "data")], environ)


def test_studio_accounts_survive_sigterm_then_sigkill(
    frozen_stdio: Callable[..., BackendProcess], tmp_path: Path
) -> None:
    data = tmp_path / "data"
    studio = frozen_stdio(data, "studio", "diag")
    studio.ok("CREATE_ACCOUNT", {"name": "ada", "email": "ada@example.com"})
    studio.ok("CREATE_ACCOUNT", {"name": "bob"})
    studio.ok("UPDATE_ACCOUNT", {"name": "bob", "email": "bob@example.com"})
    studio.ok("RENAME_ACCOUNT", {"old_name": "bob", "new_name": "robert"})
    profile = Path(studio.ok("GET_ACCOUNT_PROFILE_PATH", {"name": "ada"})["profile_path"])
    assert data.resolve() in profile.parents
    assert studio.error("CREATE_ACCOUNT", {"name": "ada"})["error_code"] == "ACCOUNT_ALREADY_EXISTS"

    studio.proc.send_signal(signal.SIGTERM)
    assert studio.proc.wait(10) == 0, "SIGTERM is a graceful stop"

    again = frozen_stdio(data, "studio", "diag")
    accounts = {a["name"]: a for a in again.ok("GET_ACCOUNTS")}
    assert set(accounts) == {"ada", "robert"}
    assert accounts["robert"]["email"] == "bob@example.com"
    again.ok("DELETE_ACCOUNT", {"name": "ada"})
    again.ok("EMIT", {"count": 300, "type": "DIAG_EVENT"})
    seen = again.wait_event(lambda e: e["type"] == "DIAG_EVENT" and e["data"]["index"] == 299)["seq"]

    again.proc.kill()  # as a crash would, right after the answers and events went out
    again.proc.wait(10)

    after = frozen_stdio(data, "studio", "diag")
    assert after.ready["last_seq"] >= seen
    assert [a["name"] for a in after.ok("GET_ACCOUNTS")] == ["robert"]
    page = after.ok("GET_EVENTS", {"after": seen - 300, "limit": 300})
    assert [e["data"]["index"] for e in page["events"]] == list(range(300))


class SignInPage(http.server.BaseHTTPRequestHandler):
    """Any path: a page titled "Sign in", which is all a browser opened for an account needs to load."""

    def do_GET(self) -> None:
        body = b"<!doctype html><title>Sign in</title><p>stand-in sign-in page</p>"
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.mark.skipif(CHROMIUM is None, reason="no Chromium on PATH (Debian: apt install chromium)")
def test_the_studio_opens_the_system_chromium_through_the_bundled_driver(
    frozen_stdio: Callable[..., BackendProcess], tmp_path: Path
) -> None:
    """Playwright's Python half talks to its Node.js driver, both inside the bundle; the browser is the system's."""
    pages = http.server.ThreadingHTTPServer(("127.0.0.1", 0), SignInPage)
    threading.Thread(target=pages.serve_forever, daemon=True).start()
    site = f"http://127.0.0.1:{pages.server_address[1]}"
    config = {"studio": {"suno": {"site_origin": site}, "browser": {"executable": CHROMIUM, "session_wait": 1.0}}}
    (tmp_path / "config.json").write_text(json.dumps(config))
    try:
        studio = frozen_stdio(tmp_path / "data", "studio", "--config", str(tmp_path / "config.json"))
        studio.ok("CREATE_ACCOUNT", {"name": "ada"})
        opened = studio.ok("LAUNCH_BROWSER", {"account_name": "ada", "headless": True}, timeout=60)
        assert opened["executable"] == CHROMIUM
        assert opened["url"].startswith(site)
        assert studio.ok("CLOSE_BROWSER", {"account_name": "ada"})["closed"] is True
        assert studio.close(timeout=15) == 0
    finally:
        pages.shutdown()


def test_the_guardian_over_the_web_door(bundle: Path, environ: dict[str, str], tmp_path: Path) -> None:
    data = tmp_path / "data"
    server = WebServer(["guardian"], data, command=[str(bundle)], environ=environ)
    try:
        assert server.ready["transport"] == "web"
        with server.http() as client:
            limit = client.post("/api/command", json={"id": "1", "type": "SET_DAILY_LIMIT", "payload": {"minutes": 45}})
            assert limit.json()["data"]["daily_limit_minutes"] == 45, limit.text
            status = client.get("/desktop/status").json()  # seed 004's endpoint, answered with the command's data
            assert status["monitoring"]["active"] is True
            assert status["websocket_url"] == server.ws_url
            page = client.get("/", headers={"Accept": "text/html"})
            assert page.status_code == 200
            assert "<html" in page.text.lower()
        style = httpx.get(f"{server.url}/dashboard/style.css", timeout=10)  # the dashboard's files, in the bundle
        assert style.status_code == 200
        assert len(style.content) > 1000
        with websockets.sync.client.connect(
            f"{server.ws_url}?token={server.token}", origin=None, open_timeout=10
        ) as ws:
            ws.send(json.dumps({"id": "w1", "type": "GET_CONFIG", "payload": {}}))
            answer = json.loads(ws.recv(timeout=10))
            while answer.get("id") != "w1":
                answer = json.loads(ws.recv(timeout=10))
            assert answer["data"]["children"]["default_child"]["daily_limit_minutes"] == 45
        assert server.stop() == 0, "SIGTERM is a graceful stop"

        server.start()
        assert server.call("GET_CONFIG")["data"]["children"]["default_child"]["daily_limit_minutes"] == 45
        assert server.call("SET_DAILY_LIMIT", {"minutes": 50})["success"]
        server.kill()
        server.start()
        assert server.call("GET_CONFIG")["data"]["children"]["default_child"]["daily_limit_minutes"] == 50
    finally:
        server.kill()
