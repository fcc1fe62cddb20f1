"""The stdio door, driven as a desktop app drives it: a child process and its pipes."""

from __future__ import annotations

import fcntl
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import psutil
import pytest

from tests.support import DESKBRIDGE, BackendProcess

Spawn = Callable[..., BackendProcess]


def peak_rss_kib(pid: int) -> int:
    """The process's high-water mark of resident memory (Linux ``VmHWM``)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    raise AssertionError("no VmHWM")


linux_only = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")


@pytest.fixture(scope="module")
def shared(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BackendProcess]:
    """One backend for the many malformed-input cases: each must leave it healthy."""
    backend = BackendProcess(["diag"], tmp_path_factory.mktemp("shared"))
    yield backend
    backend.kill()


def assert_alive(backend: BackendProcess) -> None:
    assert backend.ok("PING")["pong"] is True


class TestReady:
    def test_ready_line_comes_first_on_stderr_in_a_write_of_its_own(self, tmp_path: Path) -> None:
        proc = subprocess.Popen(
            [*DESKBRIDGE, "stdio", "diag", "--data-dir", str(tmp_path)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        try:
            assert proc.stderr is not None
            first_read = os.read(proc.stderr.fileno(), 1 << 20)
            assert first_read.endswith(b"\n")
            assert first_read.count(b"\n") == 1
            ready = json.loads(first_read)
            assert ready["type"] == "BACKEND_READY"
            assert ready["app"] == "diag"
            assert ready["protocol"] == "1.0"
            assert ready["pid"] == proc.pid
            assert {"PING", "GET_VERSION", "COUNT", "CANCEL_OPERATION"} <= set(ready["commands"])
        finally:
            proc.kill()
            proc.wait()

    def test_studio_answers_ping_and_version(self, spawn: Spawn) -> None:
        backend = spawn("studio")
        assert backend.ready["app"] == "studio"
        assert backend.ok("PING")["pong"] is True
        version = backend.ok("GET_VERSION")
        assert version["protocol"] == "1.0"
        assert "studio" in version["apps"]

    def test_an_unknown_app_is_refused_with_a_message(self, tmp_path: Path) -> None:
        result = subprocess.run(
            [*DESKBRIDGE, "stdio", "nonesuch", "--data-dir", str(tmp_path)],
            capture_output=True,
            stdin=subprocess.DEVNULL,
            timeout=30,
        )
        assert result.returncode != 0
        assert b"no app named 'nonesuch'" in result.stderr

    def test_a_second_backend_on_the_same_data_dir_refuses_clearly(self, spawn: Spawn, tmp_path: Path) -> None:
        spawn("diag", data_dir=tmp_path / "d")
        with pytest.raises(RuntimeError, match="in use by pid"):
            spawn("diag", data_dir=tmp_path / "d")


@pytest.mark.parametrize(
    ("line", "code"),
    [
        (b"this is not json\n", "PARSE_ERROR"),
        (b'{"id": "1", "type": \n', "PARSE_ERROR"),
        (b'{"id":"\xff\xfe","type":"PING"}\n', "PARSE_ERROR"),
        (b'{"id":"u","type":"ECHO","payload":{"k":"\xc3\x28"}}\n', "PARSE_ERROR"),
        (b"[1, 2, 3]\n", "INVALID_MESSAGE"),
        (b'"PING"\n', "INVALID_MESSAGE"),
        (b"null\n", "INVALID_MESSAGE"),
        (b'{"type":"PING","payload":{}}\n', "INVALID_MESSAGE"),
        (b'{"id":42,"type":"PING","payload":{}}\n', "INVALID_MESSAGE"),
        (b'{"id":"a","payload":{}}\n', "INVALID_MESSAGE"),
        (b'{"id":"a","type":7,"payload":{}}\n', "INVALID_MESSAGE"),
        (b'{"id":"a","type":"COUNT","payload":[1]}\n', "INVALID_PAYLOAD"),
        (b'{"id":"a","type":"COUNT","payload":"x"}\n', "INVALID_PAYLOAD"),
        (b'{"id":"a","type":"COUNT","payload":{"to":"ten"}}\n', "INVALID_PAYLOAD"),
        (b'{"id":"a","type":"NO_SUCH_COMMAND","payload":{}}\n', "UNKNOWN_COMMAND"),
    ],
)
def test_malformed_input_gets_a_clear_error_and_the_backend_goes_on(
    shared: BackendProcess, line: bytes, code: str
) -> None:
    shared.send_raw(line)
    message = shared.next_message()
    assert message["type"] == "ERROR_RESPONSE"
    assert message["success"] is False
    assert message["error_code"] == code
    assert message["error"]
    assert_alive(shared)


def test_invalid_payload_names_the_field(shared: BackendProcess) -> None:
    error = shared.error("COUNT", {"to": "ten"})
    assert error["error_code"] == "INVALID_PAYLOAD"
    assert error["details"] == {"fields": ["$.to"]}
    assert "to" in error["error"]


def test_crlf_and_blank_lines_are_accepted(shared: BackendProcess) -> None:
    shared.send_raw(b'\r\n\n   \n{"id":"crlf","type":"PING","payload":{}}\r\n\n')
    assert shared.response("crlf")["success"] is True


def test_a_handler_that_raises_gets_internal_error_and_the_backend_lives(shared: BackendProcess) -> None:
    error = shared.error("CRASH", {"message": "kaboom"})
    assert error["error_code"] == "INTERNAL_ERROR"
    assert "kaboom" in error["error"]
    assert "Traceback" not in error["error"]
    assert_alive(shared)


def test_print_and_child_processes_cannot_corrupt_stdout(shared: BackendProcess) -> None:
    marker = "STRAY-OUTPUT-MARKER"
    data = shared.ok("STRAY_OUTPUT", {"text": marker})
    assert data == {"child_exit": 0}
    assert_alive(shared)
    deadline = time.monotonic() + 5
    while sum(marker.encode() in raw for raw in shared.stderr_lines) < 2 and time.monotonic() < deadline:
        time.sleep(0.02)
    assert sum(marker.encode() in raw for raw in shared.stderr_lines) == 2, "print() and the child went to stderr"


def test_stray_output_of_any_text_even_a_nul(shared: BackendProcess) -> None:
    assert shared.ok("STRAY_OUTPUT", {"text": "nul \x00 and ünïcödé"}) == {"child_exit": 0}
    assert_alive(shared)


def test_commands_run_concurrently(shared: BackendProcess) -> None:
    slow = shared.send("SLEEP", {"seconds": 1.0})
    blocking = shared.send("BLOCKING_SLEEP", {"seconds": 1.0})
    started = time.monotonic()
    ping = shared.send("PING")
    first = shared.next_message()
    assert first["id"] == ping
    assert time.monotonic() - started < 0.5
    assert shared.response(slow)["success"]
    assert shared.response(blocking)["success"]


def test_async_handlers_run_inside_a_task_from_their_first_line(shared: BackendProcess) -> None:
    assert shared.ok("SLEEP", {"seconds": 0}) == {"slept": 0, "in_task": True}


def test_every_response_carries_its_command_id(shared: BackendProcess) -> None:
    ids = [shared.send("ECHO", {"n": n}, command_id=f"echo-{n}") for n in range(50)]
    for n, command_id in enumerate(ids):
        response = shared.response(command_id)
        assert response["data"] == {"n": n}


@linux_only
def test_an_oversized_line_is_refused_without_holding_it_in_memory(spawn: Spawn) -> None:
    backend = spawn("diag", extra=("--max-line", str(1 << 20)))
    assert_alive(backend)
    before = peak_rss_kib(backend.proc.pid)
    chunk = b"x" * (1 << 20)
    backend.send_raw(b'{"id":"big","type":"ECHO","payload":{"blob":"')
    for _ in range(64):
        backend.send_raw(chunk)
    backend.send_raw(b'"}}\n')
    error = backend.next_message()
    assert error["error_code"] == "MESSAGE_TOO_LARGE"
    assert_alive(backend)
    growth_mib = (peak_rss_kib(backend.proc.pid) - before) / 1024
    assert growth_mib < 8, f"peak memory grew {growth_mib:.1f} MiB for a 64 MiB line"


def test_a_line_just_under_the_limit_is_served(spawn: Spawn) -> None:
    backend = spawn("diag", extra=("--max-line", "4096"))
    blob = "y" * 3900
    assert backend.ok("ECHO", {"blob": blob}) == {"blob": blob}


def test_the_last_line_without_newline_is_answered_at_eof(tmp_path: Path) -> None:
    result = subprocess.run(
        [*DESKBRIDGE, "stdio", "diag", "--data-dir", str(tmp_path)],
        input=b'{"id":"a","type":"PING"}\n{"id":"last","type":"PING"}',
        capture_output=True,
        timeout=30,
    )
    assert result.returncode == 0
    ids = [json.loads(line)["id"] for line in result.stdout.splitlines()]
    assert ids == ["a", "last"]


@linux_only
def test_ten_thousand_commands_unread_neither_deadlock_nor_grow_unbounded(tmp_path: Path) -> None:
    proc = subprocess.Popen(
        [*DESKBRIDGE, "stdio", "diag", "--data-dir", str(tmp_path)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    )
    try:
        assert proc.stdin is not None
        assert proc.stdout is not None
        batch = b"".join(b'{"id":"%d","type":"PING","payload":{}}\n' % n for n in range(10_000))
        writer = threading.Thread(target=lambda: (proc.stdin.write(batch), proc.stdin.flush()))  # type: ignore[union-attr]
        writer.start()
        writer.join(30)
        assert not writer.is_alive(), "writing 10 000 commands blocked: the backend stopped reading"
        time.sleep(0.5)
        peak_mib = peak_rss_kib(proc.pid) / 1024
        seen = set()
        for _ in range(10_000):
            seen.add(json.loads(proc.stdout.readline())["id"])
        assert seen == {str(n) for n in range(10_000)}
        assert peak_mib < 150, f"peak RSS {peak_mib:.0f} MiB"
    finally:
        proc.kill()
        proc.wait()


@linux_only
def test_a_flood_waiting_in_the_pipe_before_the_backend_starts_is_served(tmp_path: Path) -> None:
    """More commands than may be in flight, written before the backend opened stdin: the first read pauses
    reading before the door has finished opening, and must not lose the pipe."""
    read_end, write_end = os.pipe()
    fcntl.fcntl(write_end, fcntl.F_SETPIPE_SZ, 1 << 20)
    flood = 1_100
    os.write(write_end, b"".join(b'{"id":"%d","type":"SLEEP","payload":{"seconds":0.2}}\n' % n for n in range(flood)))
    proc = subprocess.Popen(
        [*DESKBRIDGE, "stdio", "diag", "--data-dir", str(tmp_path)],
        stdin=read_end,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    )
    os.close(read_end)
    try:
        assert proc.stdout is not None
        answered = {json.loads(proc.stdout.readline())["id"] for _ in range(flood)}
        assert answered == {str(n) for n in range(flood)}
        os.write(write_end, b'{"id":"after","type":"PING","payload":{}}\n')
        assert json.loads(proc.stdout.readline() or b"{}").get("id") == "after", "the backend stopped reading stdin"
    finally:
        os.close(write_end)
        proc.kill()
        proc.wait()


class TestShutdown:
    def test_eof_exits_zero_within_two_seconds_and_cancels_operations(self, spawn: Spawn) -> None:
        backend = spawn("diag")
        started = backend.ok("COUNT", {"to": 100_000, "interval": 0.01})
        blocking = backend.ok("COUNT", {"to": 100_000, "interval": 0.01, "blocking": True})
        backend.wait_event(lambda e: e["payload"].get("operation_id") == started["operation_id"])
        t0 = time.monotonic()
        assert backend.close() == 0
        assert time.monotonic() - t0 < 2.0
        terminal = {}
        while True:
            try:
                message = backend.next_message(timeout=1)
            except EOFError:
                break
            payload = message.get("payload", {})
            if payload.get("status") in {"completed", "failed", "cancelled"}:
                terminal[payload["operation_id"]] = payload["status"]
        for event in backend.events:
            if event["payload"].get("status") == "cancelled":
                terminal[event["payload"]["operation_id"]] = "cancelled"
        assert terminal == {started["operation_id"]: "cancelled", blocking["operation_id"]: "cancelled"}

    @pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
    def test_sigterm_exits_zero_within_two_seconds(self, spawn: Spawn) -> None:
        backend = spawn("diag")
        backend.ok("COUNT", {"to": 100_000, "interval": 0.01})
        t0 = time.monotonic()
        backend.proc.send_signal(signal.SIGTERM)
        assert backend.proc.wait(5) == 0
        assert time.monotonic() - t0 < 2.0

    @pytest.mark.skipif(sys.platform == "win32", reason="POSIX process tree")
    def test_the_death_of_the_parent_stops_the_backend(self, tmp_path: Path) -> None:
        argv = [*DESKBRIDGE, "stdio", "diag", "--data-dir", str(tmp_path)]
        launcher = (
            "import subprocess, sys, time\n"
            f"log = open({str(tmp_path / 'stderr.log')!r}, 'w+b')\n"
            f"p = subprocess.Popen({argv!r}, stderr=log)\n"
            f"while b'BACKEND_READY' not in open({str(tmp_path / 'stderr.log')!r}, 'rb').read(): time.sleep(0.02)\n"
            "print(p.pid, flush=True)\n"
            "time.sleep(60)\n"
        )
        parent = subprocess.Popen([sys.executable, "-c", launcher], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        try:
            assert parent.stdout is not None
            child = psutil.Process(int(parent.stdout.readline()))  # printed once the backend is ready
            parent.kill()
            parent.wait()
            child.wait(timeout=5)  # stdin is still open (we hold it): only the parent watch can stop it
        finally:
            parent.kill()
            parent.wait()


def test_events_a_command_raised_survive_a_kill_as_soon_as_it_is_answered(spawn: Spawn, tmp_path: Path) -> None:
    data_dir = tmp_path / "kill"
    for _ in range(5):
        backend = spawn("diag", data_dir=data_dir)
        before = backend.ready["last_seq"]
        assert backend.ok("EMIT", {"count": 500}) == {"emitted": 500}
        backend.proc.kill()
        backend.proc.wait()
        again = spawn("diag", data_dir=data_dir)
        assert again.ready["last_seq"] == before + 500
        again.kill()
