"""``deskbridge call`` and ``deskbridge events`` as a user runs them, against a real server."""

from __future__ import annotations

import json
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

from tests.support import DESKBRIDGE
from tests.webserver import WebServer

Serve = Callable[..., WebServer]


def run(*args: str, timeout: float = 30) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*DESKBRIDGE, *args], capture_output=True, text=True, timeout=timeout, check=False)


def test_call_prints_data_progress_and_errors(serve: Serve) -> None:
    server = serve("diag")
    target = ("--url", server.url, "--data-dir", str(server.data_dir))
    ping = run("call", "PING", *target)
    assert ping.returncode == 0
    assert json.loads(ping.stdout)["pong"] is True
    count = run("call", "COUNT", '{"to": 3, "interval": 0.01}', *target, "--transport", "polling")
    assert count.returncode == 0
    assert json.loads(count.stdout) == {"counted": 3}
    progress = [json.loads(line) for line in count.stderr.splitlines() if line.startswith("{")]
    assert progress[-1]["status"] == "completed"  # plain lines when stderr is not a terminal
    unknown = run("call", "NOPE", *target)
    assert unknown.returncode == 1
    assert json.loads(unknown.stdout)["error_code"] == "UNKNOWN_COMMAND"
    refused = run("call", "PING", "--url", server.url, "--token", "wrong")
    assert refused.returncode == 2
    assert "4401" in refused.stderr
    assert server.token not in ping.stderr + count.stderr


def test_call_spawns_a_stdio_backend(tmp_path: Path) -> None:
    echo = run("call", "ECHO", '{"a": [1, 2]}', "--stdio", "diag", "--data-dir", str(tmp_path))
    assert echo.returncode == 0
    assert json.loads(echo.stdout) == {"a": [1, 2]}


def test_events_prints_history_and_follows(serve: Serve) -> None:
    server = serve("diag")
    target = ("--url", server.url, "--data-dir", str(server.data_dir))
    server.call("EMIT", {"count": 3})
    history = run("events", "--after", "1", *target)
    assert [json.loads(line)["seq"] for line in history.stdout.splitlines()] == [2, 3]
    follower = subprocess.Popen(
        [*DESKBRIDGE, "events", "--follow", "--after", "2", *target], stdout=subprocess.PIPE, text=True
    )
    try:
        assert follower.stdout is not None
        assert json.loads(follower.stdout.readline())["seq"] == 3
        time.sleep(0.3)
        server.call("EMIT", {"count": 2})
        assert [json.loads(follower.stdout.readline())["seq"] for _ in range(2)] == [4, 5]
    finally:
        follower.kill()
        follower.wait()
