"""``deskbridge call`` and ``deskbridge events`` as a user runs them, against a real server."""

from __future__ import annotations

import json
import os
import signal
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
    assert server.token not in ping.stderr + count.stderr


def test_call_says_what_to_do_when_it_cannot_reach_a_backend(serve: Serve, tmp_path: Path) -> None:
    server = serve("diag")
    wrong = run("call", "PING", "--url", server.url, "--token", "wrong")
    assert wrong.returncode == 2
    assert f"the server at {server.url} refused the token from --token" in wrong.stderr
    assert "DESKBRIDGE_TOKEN" in wrong.stderr
    assert "--data-dir" in wrong.stderr
    missing = run(
        "call", "PING", "--url", server.url, "--data-dir", str(tmp_path / "elsewhere"), "--transport", "polling"
    )
    assert missing.returncode == 2
    assert f"no token file at {tmp_path / 'elsewhere' / 'token'}" in missing.stderr
    server.stop()
    for transport in ("websocket", "polling"):
        down = run("call", "PING", "--url", server.url, "--transport", transport)
        assert down.returncode == 2
        assert f"no backend answers at {server.url}" in down.stderr, down.stderr
        assert "deskbridge serve" in down.stderr
        assert "Traceback" not in down.stderr


def test_a_typo_in_a_command_name_gets_a_suggestion(serve: Serve) -> None:
    server = serve("diag")
    typo = run("call", "get_comands", "--url", server.url, "--data-dir", str(server.data_dir))
    assert typo.returncode == 1
    assert json.loads(typo.stdout)["details"] == {"did_you_mean": "GET_COMMANDS"}


def _counting(server: WebServer) -> tuple[subprocess.Popen[str], str]:
    """``deskbridge call COUNT`` on a long count, once its first progress line is out: (process, operation id)."""
    process = subprocess.Popen(
        [*DESKBRIDGE, "call", "COUNT", '{"to": 100000, "interval": 0.02}', "--url", server.url,
         "--data-dir", str(server.data_dir)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert process.stderr is not None
    first = json.loads(process.stderr.readline())
    return process, str(first["operation_id"])


def _status(server: WebServer, operation_id: str) -> str:
    return str(server.call("GET_OPERATION", {"operation_id": operation_id})["data"]["status"])


def test_ctrl_c_on_call_cancels_the_operation_on_the_backend(serve: Serve) -> None:
    server = serve("diag")
    process, operation_id = _counting(server)
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=30)
    assert process.returncode == 130
    assert f"cancelling operation {operation_id}" in err
    assert f"operation {operation_id} cancelled" in err
    assert out == ""
    assert _status(server, operation_id) == "cancelled"


def test_a_second_ctrl_c_leaves_the_operation_running_and_says_so(serve: Serve) -> None:
    server = serve("diag")
    process, operation_id = _counting(server)
    process.send_signal(signal.SIGINT)
    assert process.stderr is not None
    while "cancelling operation" not in (line := process.stderr.readline()):
        assert line, "no word of the cancel"
    process.send_signal(signal.SIGINT)  # within the second the first press leaves to change one's mind
    _, err = process.communicate(timeout=30)
    assert process.returncode == 130
    assert f"operation {operation_id} is left running on the backend" in err
    assert "CANCEL_OPERATION" in err
    time.sleep(1.5)
    assert _status(server, operation_id) == "running"


def test_call_spawns_a_stdio_backend(tmp_path: Path) -> None:
    echo = run("call", "ECHO", '{"a": [1, 2]}', "--stdio", "diag", "--data-dir", str(tmp_path))
    assert echo.returncode == 0
    assert json.loads(echo.stdout) == {"a": [1, 2]}


def test_events_follow_starts_at_the_live_end_unless_told_otherwise(serve: Serve) -> None:
    server = serve("diag")
    target = ("--url", server.url, "--data-dir", str(server.data_dir))
    server.call("EMIT", {"count": 3})
    follower = subprocess.Popen([*DESKBRIDGE, "events", "--follow", *target], stdout=subprocess.PIPE, text=True)
    from_start = subprocess.Popen(
        [*DESKBRIDGE, "events", "--follow", "--from-start", *target], stdout=subprocess.PIPE, text=True
    )
    try:
        assert from_start.stdout is not None
        assert [json.loads(from_start.stdout.readline())["seq"] for _ in range(3)] == [1, 2, 3]
        assert follower.stdout is not None
        os.set_blocking(follower.stdout.fileno(), False)
        line = ""
        deadline = time.monotonic() + 20
        while not line and time.monotonic() < deadline:  # until the follower is attached
            server.call("EMIT", {"count": 1})
            time.sleep(0.2)
            line = follower.stdout.readline()
        assert json.loads(line)["seq"] > 3  # the three events from before were not printed
    finally:
        for process in (follower, from_start):
            process.kill()
            process.wait()


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
