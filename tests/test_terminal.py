"""A terminal for people, JSON for programs: the same backend seen through a pseudo-terminal and through a pipe."""

from __future__ import annotations

import json
import os
import pty
import re
import select
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support import DESKBRIDGE, BackendProcess, stderr_json

CRASH = b'{"id": "c", "type": "CRASH", "payload": {"message": "kaboom"}}\n'


class Terminal:
    """The reading end of a pseudo-terminal a child writes its stderr to."""

    def __init__(self) -> None:
        self.master, self.slave = pty.openpty()
        self.text = ""

    def read_until(self, pattern: str, timeout: float = 30) -> re.Match[str]:
        deadline = time.monotonic() + timeout
        while (found := re.search(pattern, self.text, re.MULTILINE)) is None:
            left = deadline - time.monotonic()
            assert left > 0, f"no {pattern!r} in:\n{self.text}"
            if select.select([self.master], [], [], left)[0]:
                try:
                    self.text += os.read(self.master, 65536).decode("utf-8", "replace").replace("\r\n", "\n")
                except OSError:  # the child closed the terminal
                    assert re.search(pattern, self.text, re.MULTILINE), self.text
        return found


@pytest.fixture
def terminal() -> Iterator[Terminal]:
    term = Terminal()
    yield term
    os.close(term.master)


def test_on_a_terminal_the_ready_line_is_followed_by_a_sentence_and_logs_are_readable(
    terminal: Terminal, tmp_path: Path
) -> None:
    process = subprocess.Popen(
        [*DESKBRIDGE, "stdio", "diag", "--data-dir", str(tmp_path)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=terminal.slave,
    )  # fmt: skip
    os.close(terminal.slave)
    try:
        assert process.stdin is not None
        ready = json.loads(terminal.read_until(r"^\{.*\}$")[0])
        assert ready["type"] == "BACKEND_READY"  # the contract: still one JSON line, first
        sentence = terminal.read_until(r"^deskbridge \S+ ready: diag over stdio \(pid \d+, \d+ commands.*$")
        assert terminal.text.index(sentence[0]) > terminal.text.index('"BACKEND_READY"')
        process.stdin.write(CRASH)
        process.stdin.flush()
        terminal.read_until(r"^\d\d:\d\d:\d\d\.\d{3} ERROR   deskbridge\.router: CRASH failed$")
        trace = terminal.read_until(r"^Traceback \(most recent call last\):\n(  .*\n)+RuntimeError: kaboom$")
        assert "\\n" not in trace[0]  # real lines, as Python prints them
    finally:
        process.kill()
        process.wait()


def test_through_a_pipe_logs_stay_json_lines(tmp_path: Path) -> None:
    backend = BackendProcess(["diag"], tmp_path)
    try:
        backend.send_raw(CRASH)
        assert backend.response("c")["error_code"] == "INTERNAL_ERROR"
        assert backend.close() == 0
        assert all(line.startswith(b"{") for line in backend.stderr_lines)
        crash = next(entry for entry in stderr_json(backend.stderr_lines) if entry.get("message") == "CRASH failed")
        assert crash["level"] == "error"
        assert crash["exception"].startswith("Traceback (most recent call last):\n")
        assert not any(b"ready: diag" in line for line in backend.stderr_lines)
    finally:
        backend.kill()


def test_serve_prints_where_it_serves_and_the_dashboard_with_its_token(terminal: Terminal, tmp_path: Path) -> None:
    process = subprocess.Popen(
        [*DESKBRIDGE, "serve", "diag", "guardian", "--port", "0", "--data-dir", str(tmp_path)],
        stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=terminal.slave, text=True,
    )  # fmt: skip
    os.close(terminal.slave)
    try:
        assert process.stdout is not None
        ready = json.loads(terminal.read_until(r"^\{.*\}$")[0])
        terminal.read_until(rf"^deskbridge \S+ ready: diag, guardian on {re.escape(ready['url'])} ")
        lines = [process.stdout.readline().strip() for _ in range(3)]
        token = (tmp_path / "token").read_text().strip()
        assert lines[1] == f"Serving diag, guardian on http://127.0.0.1:{ready['port']}"
        assert lines[2] == f"Dashboard: http://127.0.0.1:{ready['port']}/?token={token}"
        assert token not in terminal.text  # the log and the ready sentence never carry it
    finally:
        process.terminate()
        process.wait(10)
