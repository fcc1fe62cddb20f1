"""Bugs the robustness suite found in the core, each pinned by the input that found it.

Add a case here when a fuzz, fault or soak finding is fixed: the input, at the
lowest layer that showed it, and at the door a user would have hit.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
import subprocess
import sys
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Final

import pytest

from deskbridge import protocol
from deskbridge.errors import ErrorCode
from deskbridge.events import EventLog
from deskbridge.logs import redact
from deskbridge.router import Commands, Router
from tests.robustness.support import remount, tmpfs
from tests.support import DESKBRIDGE, BackendProcess

Spawn = Callable[..., BackendProcess]


def nested(depth: int) -> bytes:
    return b"[" * depth + b"]" * depth


HOSTILE_LINES: Final = {
    # msgspec raises RecursionError past the interpreter's recursion limit; nothing caught it
    "array nested 5000 deep": nested(5000),
    "object nested 3000 deep": b'{"a":' * 3000 + b"1" + b"}" * 3000,
    "payload nested 5000 deep": b'{"id":"n","type":"ECHO","payload":' + nested(5000) + b"}",
    # the lenient id reader echoed a string that cannot be encoded: UnicodeEncodeError
    "lone surrogate as the id": b'{"id":"\\ud800","type":"PING"}',
}
hostile = pytest.mark.parametrize("line", HOSTILE_LINES.values(), ids=HOSTILE_LINES.keys())


def error_of(body: bytes) -> dict[str, Any]:
    response: dict[str, Any] = json.loads(body)
    assert response["type"] == "ERROR_RESPONSE", response
    assert response["success"] is False, response
    return response


@hostile
def test_parse_command_answers_a_hostile_line_instead_of_raising(line: bytes) -> None:
    rejected = protocol.parse_command(line)
    assert isinstance(rejected, protocol.Rejected)
    response = error_of(rejected.response)
    assert response["error_code"] == ErrorCode.PARSE_ERROR
    assert response["id"] is None


@hostile
def test_the_router_answers_a_hostile_line_instead_of_raising(line: bytes, tmp_path: Path) -> None:
    commands = Commands()
    commands.add("ECHO", lambda payload: payload, inline=True)

    async def main() -> list[bytes]:
        events = EventLog(tmp_path / "events.db", schedule=lambda callback: None)
        with ThreadPoolExecutor(1) as executor:
            router = Router(commands, asyncio.get_running_loop(), executor, events)
            replies: list[bytes] = []
            router.dispatch(line, replies.append)
            return replies

    (reply,) = asyncio.run(main())
    assert error_of(reply)["error_code"] == ErrorCode.PARSE_ERROR


def test_a_hostile_line_on_stdio_is_answered_and_the_backend_goes_on(spawn: Spawn) -> None:
    """Before the fix, the first of these lines closed the backend's input: it answered nothing more and exited."""
    backend = spawn("diag")
    for line in HOSTILE_LINES.values():
        backend.send_raw(line + b"\n")
        assert error_of(json.dumps(backend.next_message()).encode())["error_code"] == ErrorCode.PARSE_ERROR
    assert backend.ok("PING")["pong"] is True


def fill(log: EventLog) -> None:
    """Append and commit events until the disk is full (a commit is refused)."""
    for _ in range(1000):
        for _ in range(100):
            log.append({"type": "FILL", "data": "x" * 200})
        if not log.flush():
            return
    raise AssertionError("the disk never filled")


def test_a_full_disk_holds_unstored_events_and_stores_them_when_there_is_room(tmp_path: Path) -> None:
    """The failed COMMIT had already rolled back; the ROLLBACK after it raised "no transaction is active",
    which hid "database or disk is full". Then the batch was dropped; now it waits, in order, unseen."""
    with tmpfs(tmp_path / "disk", "1m") as disk:
        log = EventLog(disk / "events.db", schedule=lambda callback: None)
        delivered: list[int] = []
        log.subscribe(lambda bodies: delivered.extend(json.loads(body)["seq"] for body in bodies))
        try:
            fill(log)
            assert isinstance(log.failure, sqlite3.OperationalError)
            assert "full" in str(log.failure)
            kept, held = log.committed_seq, log.last_seq
            assert held > kept
            assert delivered == list(range(1, kept + 1)), "an event that is not stored was delivered"
            more = log.append({"type": "WHILE_FULL"})
            assert log.flush() is False, "while the store refuses, only retry() tries again"
            assert log.retry() is False
            remount(disk, "rw,size=20m")
            assert log.retry() is True
            assert log.failure is None
            after = log.append({"type": "AFTER"})
            assert log.flush() is True
            stored = [json.loads(body)["seq"] for body in log.read(0, 1_000_000)]
        finally:
            log.close()
    assert more == held + 1
    assert after == held + 2
    assert stored == list(range(1, held + 3))
    assert delivered == stored


@pytest.mark.skipif(sys.platform == "win32", reason="the POSIX null device")
@pytest.mark.parametrize("end", ["stdin", "stdout"])
def test_a_null_device_as_stdin_or_stdout_is_served_not_aborted(end: str, tmp_path: Path) -> None:
    """A front end may hand the backend ``/dev/null`` (Node's ``stdio: 'ignore'``). It is a character device,
    so the door gave it to the loop's pipe transport, which cannot poll it: uvloop aborted (SIGABRT, 134)."""
    command = b'{"id": "1", "type": "PING"}\n'
    done = subprocess.run(
        [*DESKBRIDGE, "stdio", "diag", "--data-dir", str(tmp_path / "data")],
        input=None if end == "stdin" else command,
        stdin=subprocess.DEVNULL if end == "stdin" else None,
        stdout=subprocess.DEVNULL if end == "stdout" else subprocess.PIPE,
        stderr=subprocess.PIPE,
        timeout=30,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert json.loads(done.stderr.split(b"\n", 1)[0])["type"] == "BACKEND_READY"


@pytest.mark.parametrize(
    "line",
    [
        "< authorization: Basic c2VjcmV0LXRva2Vu",  # uvicorn's DEBUG log of a WebSocket handshake
        "Authorization: Token c2VjcmV0LXRva2Vu",
        '{"authorization": "Digest c2VjcmV0LXRva2Vu"}',
        "authorization=c2VjcmV0LXRva2Vu",
    ],
)
def test_an_authorization_header_of_any_scheme_is_masked_in_the_log(line: str) -> None:
    """Only ``Bearer`` values were masked: a token sent with another scheme reached the DEBUG log whole."""
    assert "c2VjcmV0LXRva2Vu" not in redact(line)
