"""``deskbridge serve`` as a real process on 127.0.0.1 with a free port, for the web door's tests.

The tests talk to it over real sockets (websockets, httpx) and may kill it
with SIGKILL and start it again on the same data directory.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support import DESKBRIDGE


class WebServer:
    """``deskbridge serve <apps>``, or ``command serve <apps>`` (the frozen bundle) in the environment ``environ``."""

    def __init__(
        self,
        apps: list[str],
        data_dir: Path,
        *extra: str,
        port: int | None = 0,
        command: Sequence[str] = DESKBRIDGE,
        environ: Mapping[str, str] = os.environ,
    ) -> None:
        self.apps = apps
        self.data_dir = data_dir
        self.extra = extra
        self.command = list(command)
        self.environ = dict(environ)
        self.stderr_lines: list[str] = []
        self.proc: subprocess.Popen[bytes] | None = None
        self.ready: dict[str, Any] = {}
        self.start(port=port)

    def start(self, timeout: float = 30, port: int | None = 0) -> None:
        """Start (again) on the same data dir; a free port unless told which (None: no --port at all)."""
        self.ready = {}
        given = () if port is None else ("--port", str(port))
        self.proc = subprocess.Popen(
            [*self.command, "serve", *self.apps, *given, "--data-dir", str(self.data_dir), *self.extra],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            env=self.environ,
        )
        got_ready = threading.Event()
        proc = self.proc

        def pump() -> None:
            assert proc.stderr is not None
            for raw in proc.stderr:
                line = raw.decode("utf-8", "replace").rstrip()
                self.stderr_lines.append(line)
                with contextlib.suppress(ValueError):
                    message = json.loads(line)
                    if isinstance(message, dict) and message.get("type") in ("BACKEND_READY", "BACKEND_ERROR"):
                        self.ready = message
                        got_ready.set()
            got_ready.set()

        threading.Thread(target=pump, daemon=True).start()
        if not got_ready.wait(timeout) or self.ready.get("type") != "BACKEND_READY":
            self.kill()
            raise RuntimeError("server did not start:\n" + "\n".join(self.stderr_lines[-20:]))

    @property
    def port(self) -> int:
        return int(self.ready["port"])

    @property
    def url(self) -> str:
        return str(self.ready["url"])

    @property
    def ws_url(self) -> str:
        return str(self.ready["ws"])

    @property
    def token(self) -> str:
        return (self.data_dir / "token").read_text().strip()

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    def http(self, **options: Any) -> httpx.Client:
        return httpx.Client(base_url=self.url, headers=self.headers, timeout=30, **options)

    def call(self, command_type: str, payload: Any = None) -> dict[str, Any]:
        """One command over POST /api/command; the whole response envelope."""
        with self.http() as client:
            body = {"id": "t", "type": command_type, "payload": payload or {}}
            response = client.post("/api/command", json=body)
            result: dict[str, Any] = response.json()
            return result

    def kill(self) -> None:
        """SIGKILL, as a crash would."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)

    def stop(self, timeout: float = 10) -> int:
        """SIGTERM, a graceful stop; the exit code."""
        assert self.proc is not None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout)
        finally:
            self.kill()

    def rss_kib(self) -> int:
        assert self.proc is not None
        for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
        raise RuntimeError("no VmRSS")


@pytest.fixture
def serve(tmp_path: Path) -> Iterator[Callable[..., WebServer]]:
    """Start ``deskbridge serve <apps>`` on a fresh data dir (or one you pass); killed at the end."""
    started: list[WebServer] = []

    def start(*apps: str, data_dir: Path | None = None, extra: tuple[str, ...] = (), port: int | None = 0) -> WebServer:
        server = WebServer(list(apps) or ["diag"], data_dir or tmp_path / "data", *extra, port=port)
        started.append(server)
        return server

    yield start
    for server in started:
        server.kill()
