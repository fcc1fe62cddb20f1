"""Hostile local load: what a program on the same PC, a frozen front end or an unlucky disk does to a backend.

Each test drives the real door the way the probe that found the defect did,
at a size that still shows it (a ratio or a bound rather than a stopwatch),
and records its figures for docs/reliability.md (``tests/robustness/cases.py``).
"""

from __future__ import annotations

import json
import shutil
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from deskbridge.transports.web.http_limits import BODY_TIMEOUT, HEAD_TIMEOUT
from tests.robustness.support import record, rss_kib
from tests.support import DESKBRIDGE, BackendProcess, start_failure, wait_until
from tests.webserver import WebServer

Spawn = Callable[..., BackendProcess]
Serve = Callable[..., WebServer]


# -- the data dir's lock ----------------------------------------------------------------------------


def test_deleting_the_lock_file_lets_no_second_backend_in(spawn: Spawn, tmp_path: Path) -> None:
    """The lock that counts is on the app's directory, which cannot be unlinked from under the first backend."""
    data = tmp_path / "data"
    first = spawn("diag", data_dir=data)
    (data / "diag" / ".lock").unlink()
    status, refusal = start_failure(["diag"], data)
    record("load.lock", second_backend_exit_status=status)
    assert status == 1, "a second backend started on a data dir in use"
    assert refusal["type"] == "BACKEND_ERROR"
    assert "is in use by" in refusal["error"]
    assert first.ok("EMIT", {"count": 3}) == {"emitted": 3}, "the first one serves on"


def test_a_seq_clash_in_the_log_is_reported_as_such_never_as_a_full_disk(spawn: Spawn, tmp_path: Path) -> None:
    """Another writer took the next seq: EVENTS_NOT_STORED says which constraint failed, not 'room on the disk'."""
    data = tmp_path / "data"
    backend = spawn("diag", data_dir=data)
    head = backend.ready["last_seq"]
    with sqlite3.connect(data / "events" / "diag.db") as foreign:
        foreign.execute("INSERT INTO events VALUES (?, 'FOREIGN', 0, x'7b7d', 0)", (head + 1,))
    answer = backend.error("EMIT", {"count": 1})
    record("load.lock", seq_clash_answer=answer["error"][:160])
    assert answer["error_code"] == "EVENTS_NOT_STORED"
    assert "UNIQUE constraint failed" in answer["error"]
    assert "disk" not in answer["error"]
    assert backend.ok("PING")["pong"] is True


# -- a front end that stops reading -----------------------------------------------------------------


def test_a_stdout_nobody_reads_holds_a_bounded_backlog_and_loses_nothing(tmp_path: Path) -> None:
    """1000 operations report while the front end reads nothing: the backend's memory stays put (events past
    the budget are left in the log), then every event arrives once, in order, as the front end reads again."""
    config = tmp_path / "config.json"
    config.write_text(json.dumps({"stdio": {"outbox_bytes": 64 * 1024}}))
    stderr = tmp_path / "stderr"
    with stderr.open("wb") as log:
        backend = subprocess.Popen(
            [*DESKBRIDGE, "stdio", "diag", "--data-dir", str(tmp_path / "data"), "--config", str(config)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=log,
        )  # fmt: skip
    try:
        assert backend.stdin is not None
        assert backend.stdout is not None
        wait_until(lambda: b"BACKEND_READY" in stderr.read_bytes(), 30, "the ready line")
        operations = 1000
        count = {"to": 40, "interval": 0.1}
        lines = (json.dumps({"id": f"c{i}", "type": "COUNT", "payload": count}) + "\n" for i in range(operations))
        backend.stdin.write("".join(lines).encode())
        backend.stdin.flush()
        time.sleep(1.0)
        early, early_at = rss_kib(backend.pid), time.time()
        time.sleep(3.0)
        late, late_at = rss_kib(backend.pid), time.time()
        received: list[dict[str, Any]] = []
        ended: set[str] = set()
        for raw in backend.stdout:  # reading again
            message = json.loads(raw)
            if "seq" in message:
                received.append(message)
                if message["payload"]["status"] == "completed":
                    ended.add(message["payload"]["operation_id"])
                    if len(ended) == operations:
                        break
    finally:
        backend.kill()
        backend.wait()
    seqs = [event["seq"] for event in received]
    in_window = sum(len(json.dumps(e)) for e in received if early_at * 1000 <= e["timestamp"] <= late_at * 1000)
    grown = (late - early) * 1024
    record(
        "load.stdio-unread",
        events=len(seqs),
        event_bytes_while_unread=in_window,
        rss_growth_while_unread_kib=late - early,
    )
    assert in_window > 1_000_000, f"only {in_window} bytes of events in the window: the test shows nothing"
    assert grown < in_window / 3, f"RSS grew {grown} bytes while {in_window} bytes of events were not read"
    assert seqs == list(range(seqs[0], seqs[0] + len(seqs))), "every event once, in order"


# -- a log that lost its last commits ---------------------------------------------------------------


def test_a_restored_data_dir_never_tells_a_client_it_missed_nothing(spawn: Spawn, tmp_path: Path) -> None:
    """A backup restored over the data dir takes back seqs a client saw; the events that follow reuse them. A
    client resuming from one of them is told ``recovered: false`` (a new epoch), not shown a stranger's events
    under its old numbers."""
    data, backup = tmp_path / "data", tmp_path / "backup"
    first = spawn("diag", data_dir=data)
    first.ok("EMIT", {"count": 5})
    assert first.close() == 0
    shutil.copytree(data, backup)
    second = spawn("diag", data_dir=data)
    second.ok("EMIT", {"count": 5})
    seen = second.wait_event(lambda event: event["seq"] == 10)
    assert second.close() == 0
    shutil.rmtree(data)
    shutil.copytree(backup, data)
    restored = spawn("diag", data_dir=data)
    restored.ok("EMIT", {"type": "AFTER_THE_RESTORE", "count": 7})  # seqs 6-12 again
    page = restored.ok("GET_EVENTS", {"epoch": second.ready["epoch"], "after": seen["seq"] - 2})
    record("load.restored-log", recovered=page["recovered"], new_epoch=page["epoch"] != second.ready["epoch"])
    assert page["recovered"] is False, "told it missed nothing while seqs 6-8 now name other events"
    assert page["after"] == 0
    assert page["epoch"] != second.ready["epoch"]
    assert [event["type"] for event in page["events"]].count("AFTER_THE_RESTORE") == 7


def peak_rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    raise RuntimeError(f"no VmHWM for {pid}")


def test_a_huge_emit_goes_out_in_bursts_instead_of_all_in_memory(spawn: Spawn, tmp_path: Path) -> None:
    """diag's EMIT of 100 000 events (about 10 MB) is committed and delivered a burst at a time: the backend's
    peak memory grows by a fraction of it (all at once, it grew by three times its size)."""
    config = tmp_path / "config.json"
    config.write_text(json.dumps({"stdio": {"outbox_bytes": 256 * 1024}}))
    backend = spawn("diag", extra=("--config", str(config)))
    backend.ok("PING")
    before = peak_rss_kib(backend.proc.pid)
    assert backend.ok("EMIT", {"count": 100_000}, timeout=120) == {"emitted": 100_000}
    grown = peak_rss_kib(backend.proc.pid) - before
    record("load.emit", events=100_000, peak_rss_growth_kib=grown)
    assert grown < 8 * 1024, f"the peak RSS grew {grown} KiB for 100 000 events"
    assert backend.wait_event(lambda event: event["data"]["index"] == 99_999)


# -- descriptors held by requests that never end ----------------------------------------------------


def serve_with_descriptors(data_dir: Path, limit: int) -> tuple[subprocess.Popen[bytes], dict[str, Any]]:
    """``deskbridge serve diag`` whose process may open at most ``limit`` descriptors; its ready line."""

    def lower_limit() -> None:
        import resource  # POSIX only

        resource.setrlimit(resource.RLIMIT_NOFILE, (limit, limit))

    server = subprocess.Popen(
        [*DESKBRIDGE, "serve", "diag", "--port", "0", "--data-dir", str(data_dir)],
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, preexec_fn=lower_limit,
    )  # fmt: skip
    assert server.stderr is not None
    ready = json.loads(server.stderr.readline())
    assert ready["type"] == "BACKEND_READY", ready
    threading.Thread(target=server.stderr.read, daemon=True).start()  # keep its log flowing
    return server, ready


@pytest.mark.skipif(sys.platform == "win32", reason="descriptor limits are POSIX")
def test_half_sent_requests_cannot_starve_the_server_of_descriptors(tmp_path: Path) -> None:
    """400 connections without a token send half a request head and stop, against a server allowed 256
    descriptors (20 more send half a body): a client with the token is still served at once (the oldest
    unfinished heads make room), and the heads and bodies that never end are closed after their timeout."""
    server, ready = serve_with_descriptors(tmp_path / "data", 256)
    hostile: list[socket.socket] = []
    try:
        for _ in range(400):
            sock = socket.create_connection(("127.0.0.1", ready["port"]), timeout=5)
            sock.sendall(b"GET /api/status HTTP/1.1\r\nHost: 127.0.0.1\r\n")
            hostile.append(sock)
        token = (tmp_path / "data" / "token").read_text().strip()
        for _ in range(20):  # and bodies that stop coming, from a client with the token
            sock = socket.create_connection(("127.0.0.1", ready["port"]), timeout=5)
            head = f"POST /api/command HTTP/1.1\r\nHost: 127.0.0.1:{ready['port']}\r\nAuthorization: Bearer {token}\r\n"
            sock.sendall(f"{head}Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n{{".encode())
            hostile.append(sock)
        started = time.monotonic()
        answer = httpx.get(f"{ready['url']}/api/status", headers={"Authorization": f"Bearer {token}"}, timeout=10)
        served_after = time.monotonic() - started
        assert answer.status_code == 200
        time.sleep(max(HEAD_TIMEOUT, BODY_TIMEOUT) + 1)
        still_open = sum(not closed_by_peer(sock) for sock in hostile)
        record("load.half-requests", served_after_s=round(served_after, 2), heads_open_after_timeout=still_open)
        assert still_open == 0, f"{still_open} of 420 unfinished requests are still open after their timeout"
        assert httpx.get(f"{ready['url']}/api/status", headers={"Authorization": f"Bearer {token}"}).status_code == 200
    finally:
        for sock in hostile:
            sock.close()
        server.kill()
        server.wait()


def closed_by_peer(sock: socket.socket) -> bool:
    """The server closed it (having said something or not)."""
    sock.settimeout(0.01)
    try:
        while sock.recv(65536):
            pass
    except TimeoutError:
        return False
    except OSError:
        pass
    return True


# -- refusals that do not fit a close frame ---------------------------------------------------------


def test_a_refusal_longer_than_a_close_frame_still_sends_its_code(serve: Serve) -> None:
    """A close reason holds 123 bytes: a refusal quoting a long path or a 4300-digit cursor is cut to fit and
    sent with its code (4400: do not retry), never a traceback and a 1006 that says 'retry forever'."""
    server = serve("diag")
    base = f"ws://127.0.0.1:{server.port}"
    codes = []
    for url in (f"{base}/{'x' * 200}?token={server.token}", f"{base}/ws?token={server.token}&after={'9' * 4300}"):
        with pytest.raises(ConnectionClosed) as closed, connect(url) as ws:
            ws.recv(timeout=5)
        assert closed.value.rcvd is not None, "no close frame: the client saw 1006"
        codes.append(closed.value.rcvd.code)
        assert len(closed.value.rcvd.reason.encode()) <= 123
    record("load.close-reasons", close_codes=codes)
    assert codes == [4400, 4400]
    assert not [line for line in server.stderr_lines if "Traceback" in line or '"exception"' in line]


# -- who is connected -------------------------------------------------------------------------------


def test_the_status_lists_each_kind_of_connection_of_a_client_on_its_own_and_forgets_pollers_by_time(
    serve: Serve, tmp_path: Path
) -> None:
    """A poller that left is unlisted once ``poll_idle`` (here 1 s) has passed, with no other traffic; forgetting
    it leaves the same client_id's live WebSocket listed, whoever polls next."""
    config = tmp_path / "config.json"
    config.write_text(json.dumps({"web": {"poll_idle": 1}}))
    server = serve("diag", extra=("--config", str(config)))

    def status() -> dict[str, str]:
        with server.http() as http:
            return {client["client_id"]: client["door"] for client in http.get("/api/status").json()["clients"]}

    with server.http() as http, connect(f"{server.ws_url}?token={server.token}&client_id=desk") as ws:
        ws.recv(timeout=5)  # SUBSCRIBED
        for client_id in ("desk", "gone"):
            assert http.get("/api/events", params={"client_id": client_id}).status_code == 200
        assert status() == {"desk": "ws", "gone": "poll"}
        time.sleep(1.5)
        left_alone = status()
        http.get("/api/events", params={"client_id": "other"})
        after_another_poll = status()
    record("load.pollers", listed_after_idle=sorted(left_alone))
    assert left_alone == {"desk": "ws"}, "a poller that left is still 'connected' (nobody else polled)"
    assert after_another_poll == {"desk": "ws", "other": "poll"}, "forgetting a poller unlisted its WebSocket"
