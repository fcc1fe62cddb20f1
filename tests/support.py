"""Drive a backend the way a front end does: a child process and its pipes.

Nothing here imports deskbridge's internals; the tests see only bytes.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import os
import queue
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

DESKBRIDGE = [sys.executable, "-m", "deskbridge"]
SEED_JS = Path(__file__).parent / "seed" / "backend_service.js"
NODE = shutil.which("node", path=str(Path(sys.executable).parent)) or shutil.which("node")


def run_seed_backend_service(command: Sequence[str], env: Mapping[str, str]) -> None:
    """Seed 000's Electron ``BackendService`` (Node's ``child_process``) spawning ``command``: its account steps.

    The script creates an account, is refused the same one again, and lists them; every step is checked.
    """
    assert NODE is not None
    result = subprocess.run(
        [NODE, str(SEED_JS)],
        env={**env, "DESKBRIDGE_COMMAND": json.dumps(list(command))},
        capture_output=True,
        text=True,
        timeout=60,
    )
    steps = [json.loads(line) for line in result.stdout.splitlines()]
    assert steps[0] == {"step": "ready", "value": True}, result.stdout + result.stderr
    assert steps[1] == {"step": "accounts", "value": []}
    assert steps[2]["step"] == "created"
    assert steps[2]["value"]["name"] == "test_account"
    assert steps[3]["step"] == "duplicate"
    assert "test_account" in steps[3]["value"]
    assert [a["name"] for a in steps[4]["value"]] == ["test_account"]


class FakeClock:
    """A clock (``time`` and ``monotonic`` alike) that moves only when a test sets ``now``."""

    def __init__(self) -> None:
        self.now = 1_700_000_000.0

    def time(self) -> float:
        return self.now

    def monotonic(self) -> float:
        return self.now


class BackendProcess:
    """``deskbridge stdio <apps>`` with threads pumping stdout and stderr into queues.

    ``command`` runs another ``deskbridge`` (another venv's ``python -m deskbridge``, the frozen
    bundle); ``environ`` replaces this process's environment, which ``env`` otherwise extends.
    """

    def __init__(
        self,
        apps: list[str],
        data_dir: Path,
        *extra: str,
        env: dict[str, str] | None = None,
        command: Sequence[str] = DESKBRIDGE,
        environ: Mapping[str, str] = os.environ,
    ) -> None:
        self.data_dir = data_dir
        self.proc = subprocess.Popen(
            [*command, "stdio", *apps, "--data-dir", str(data_dir), *extra],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env={**environ, **(env or {})},
        )
        self.lines: queue.Queue[dict[str, Any] | None] = queue.Queue()
        self.stderr_lines: list[bytes] = []
        self.events: list[dict[str, Any]] = []
        self._ids = itertools.count(1)
        self._responses: dict[Any, dict[str, Any]] = {}
        threading.Thread(target=self._pump_stdout, daemon=True).start()
        self._stderr_ready = threading.Event()
        threading.Thread(target=self._pump_stderr, daemon=True).start()
        self.ready = self._wait_ready()

    def _pump_stdout(self) -> None:
        assert self.proc.stdout is not None
        for raw in self.proc.stdout:
            self.lines.put(json.loads(raw))
        self.lines.put(None)

    def _pump_stderr(self) -> None:
        assert self.proc.stderr is not None
        for raw in self.proc.stderr:
            self.stderr_lines.append(raw)
            self._stderr_ready.set()
        self._stderr_ready.set()

    def _wait_ready(self, timeout: float = 30) -> dict[str, Any]:
        if not self._stderr_ready.wait(timeout) or not self.stderr_lines:
            raise RuntimeError(f"backend gave no ready line (exit {self.proc.poll()})")
        first = json.loads(self.stderr_lines[0])
        if first.get("type") != "BACKEND_READY":
            raise RuntimeError(f"backend failed to start: {first}")
        return first

    def send_raw(self, data: bytes) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(data)
        self.proc.stdin.flush()

    def send(self, command_type: str, payload: Any = None, command_id: str | None = None) -> str:
        command_id = command_id or f"t-{next(self._ids)}"
        message = {"id": command_id, "type": command_type, "payload": {} if payload is None else payload}
        self.send_raw(json.dumps(message).encode() + b"\n")
        return command_id

    def next_message(self, timeout: float = 30) -> dict[str, Any]:
        """The next line from stdout; events are also recorded in ``self.events``."""
        message = self.lines.get(timeout=timeout)
        if message is None:
            try:
                code = self.proc.wait(5)
            except subprocess.TimeoutExpired:
                code = None
            said = b"".join(self.stderr_lines[-20:]).decode(errors="replace")
            raise EOFError(f"backend closed stdout (exit {code}); the end of its stderr:\n{said}")
        if "seq" in message:
            self.events.append(message)
        return message

    def response(self, command_id: Any, timeout: float = 30) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while command_id not in self._responses:
            message = self.next_message(max(0.01, deadline - time.monotonic()))
            if "seq" not in message:
                self._responses[message.get("id")] = message
        return self._responses.pop(command_id)

    def call(self, command_type: str, payload: Any = None, timeout: float = 30) -> dict[str, Any]:
        """Send one command and return its whole response message."""
        return self.response(self.send(command_type, payload), timeout)

    def ok(self, command_type: str, payload: Any = None, timeout: float = 30) -> Any:
        """Send one command that must succeed and return its ``data``."""
        response = self.call(command_type, payload, timeout)
        assert response["success"] is True, response
        assert response["type"] == f"{command_type}_RESPONSE", response
        return response["data"]

    def error(self, command_type: str, payload: Any = None, timeout: float = 30) -> dict[str, Any]:
        """Send one command that must fail and return the error response."""
        response = self.call(command_type, payload, timeout)
        assert response["success"] is False, response
        assert response["type"] == "ERROR_RESPONSE", response
        return response

    def wait_event(self, predicate: Callable[[dict[str, Any]], bool], timeout: float = 30) -> dict[str, Any]:
        """The first event (already seen or still to come) that matches."""
        for event in self.events:
            if predicate(event):
                return event
        deadline = time.monotonic() + timeout
        while True:
            message = self.next_message(max(0.01, deadline - time.monotonic()))
            if "seq" in message and predicate(message):
                return message
            if "seq" not in message:
                self._responses[message.get("id")] = message

    def close(self, timeout: float = 5) -> int:
        """Close stdin (a graceful shutdown) and return the exit code."""
        if self.proc.stdin and not self.proc.stdin.closed:
            with contextlib.suppress(BrokenPipeError):
                self.proc.stdin.close()
        try:
            return self.proc.wait(timeout)
        finally:
            self.kill()

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


def wait_until(
    condition: Callable[[], object], timeout: float = 15, what: str = "the condition", every: float = 0.01
) -> None:
    """Poll ``condition`` until it holds, instead of sleeping for a time a loaded machine may not keep to."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(every)


def start_failure(apps: list[str], data_dir: Path) -> tuple[int, dict[str, Any]]:
    """Start a backend that is expected to refuse: its exit status and its first stderr line."""
    done = subprocess.run(
        [*DESKBRIDGE, "stdio", *apps, "--data-dir", str(data_dir)],
        stdin=subprocess.DEVNULL, capture_output=True, timeout=60,
    )  # fmt: skip
    return done.returncode, json.loads(done.stderr.split(b"\n", 1)[0])


def stderr_json(lines: list[bytes]) -> list[dict[str, Any]]:
    out = []
    for raw in lines:
        with contextlib.suppress(ValueError):
            out.append(json.loads(raw))
    return out
