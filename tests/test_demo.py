"""``deskbridge demo``, started as the README says, driven through one flow of each app with no network."""

from __future__ import annotations

import json
import queue
import signal
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import httpx
import psutil
import pytest

from tests.studio.standin_studio import needs_chromium
from tests.support import DESKBRIDGE


@dataclass
class Demo:
    process: subprocess.Popen[str]
    ready: dict[str, Any]
    banner: list[str]
    stderr: list[str]
    http: httpx.Client

    def ok(self, command_type: str, payload: dict[str, Any] | None = None) -> Any:
        answer = self.http.post("/api/command", json={"id": "t", "type": command_type, "payload": payload or {}})
        body = answer.json()
        assert body["success"] is True, body
        return body["data"]

    def events(self, **filters: str) -> list[dict[str, Any]]:
        page = self.http.get("/api/events", params={"after": 0, "limit": 1000}).json()
        return [e for e in page["events"] if all(e.get(k) == v for k, v in filters.items())]

    def ended(self, operation_id: str, timeout: float = 30) -> dict[str, Any]:
        """The terminal payload of an operation."""
        deadline = time.monotonic() + timeout
        while True:
            for event in self.events(id="progress-event"):
                payload: dict[str, Any] = event["payload"]
                if payload["operation_id"] == operation_id and payload["status"] != "in_progress":
                    return payload
            assert time.monotonic() < deadline, f"operation {operation_id} did not end"
            time.sleep(0.1)


def _pump(stream: IO[str], lines: queue.Queue[str]) -> None:
    for line in stream:
        lines.put(line)


def gone(pid: int) -> bool:
    return not psutil.pid_exists(pid) or psutil.Process(pid).status() == psutil.STATUS_ZOMBIE


@pytest.fixture
def demo(tmp_path: Path) -> Iterator[Demo]:
    process = subprocess.Popen(
        [*DESKBRIDGE, "demo", "--port", "0", "--data-dir", str(tmp_path / "demo")],
        stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    lines: queue.Queue[str] = queue.Queue()
    stderr: list[str] = []
    assert process.stderr is not None
    assert process.stdout is not None
    threading.Thread(target=_pump, args=(process.stderr, lines), daemon=True).start()
    ready: dict[str, Any] = {}
    deadline = time.monotonic() + 90
    while not any("deskbridge demo: ready" in line for line in stderr):
        stderr.append(lines.get(timeout=max(0.1, deadline - time.monotonic())))
        if stderr[-1].startswith('{"type":"BACKEND_READY"'):
            ready = json.loads(stderr[-1])
    banner = [process.stdout.readline().strip() for _ in range(3)]
    token = (tmp_path / "demo" / "token").read_text().strip()
    with httpx.Client(base_url=ready["url"], headers={"Authorization": f"Bearer {token}"}, timeout=30) as http:
        try:
            yield Demo(process, ready, banner, stderr, http)
        finally:
            process.send_signal(signal.SIGTERM)
            process.wait(20)


@needs_chromium
def test_the_demo_serves_every_app_offline_and_says_it_is_a_demo(demo: Demo, tmp_path: Path) -> None:
    assert demo.ready["demo"] is True
    assert demo.ready["apps"] == ["studio", "guardian", "diag"]
    assert demo.banner[1].startswith(
        "DEMO (offline, made-up data): Serving studio, guardian, diag on http://127.0.0.1:"
    )
    assert demo.ok("GET_VERSION")["demo"] is True

    # studio: the demo account is signed in to the stand-in Suno; its songs can be listed and downloaded
    assert [account["name"] for account in demo.ok("GET_ACCOUNTS")] == ["demo"]
    clips = demo.ok("FETCH_CLIPS", {"account_name": "demo", "use_my_songs": True})["clips"]
    assert len(clips) == 6
    started = demo.ok(
        "DOWNLOAD_CLIP", {"account_name": "demo", "clip": clips[0], "output_dir": str(tmp_path / "songs")}
    )
    assert demo.ended(started["operation_id"])["status"] == "completed"
    assert any(path.suffix == ".mp3" for path in (tmp_path / "songs").rglob("*"))

    # guardian: the fake game is seen as play, and closing it from the guardian ends it
    deadline = time.monotonic() + 20
    while not (started_game := demo.events(type="roblox_event", event_type="roblox_started")):
        assert time.monotonic() < deadline, "the guardian never saw the fake game"
        time.sleep(0.2)
    game = started_game[0]["data"]["process_info"]
    assert game["name"] == "deskbridge-game"
    assert demo.events(type="session_event", event_type="session_started")
    demo.ok("FORCE_CLOSE")
    assert gone(game["pid"])

    # diag: an operation with progress, to its result
    counting = demo.ok("COUNT", {"to": 3, "interval": 0})
    assert demo.ended(counting["operation_id"])["result"] == {"counted": 3}

    # Ctrl+C or SIGTERM stops it all: the server, the stand-in Suno
    standin = clips[0]["audio_url"].rsplit("/cdn/", 1)[0]
    demo.process.send_signal(signal.SIGTERM)
    demo.process.wait(20)
    assert gone(demo.ready["pid"])
    with pytest.raises(httpx.ConnectError):
        httpx.get(standin, timeout=5)
