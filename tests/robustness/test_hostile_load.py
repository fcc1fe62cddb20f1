"""Hostile local load: what a program on the same PC, a frozen front end or an unlucky disk does to a backend.

Each test drives the real door the way the probe that found the defect did,
at a size that still shows it (a ratio or a bound rather than a stopwatch),
and records its figures for docs/reliability.md (``tests/robustness/cases.py``).
"""

from __future__ import annotations

import json
import sqlite3
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tests.robustness.support import record
from tests.support import DESKBRIDGE, BackendProcess

Spawn = Callable[..., BackendProcess]


def start_failure(apps: list[str], data_dir: Path) -> tuple[int, dict[str, Any]]:
    """Start a backend that is expected to refuse: its exit status and its first stderr line."""
    done = subprocess.run(
        [*DESKBRIDGE, "stdio", *apps, "--data-dir", str(data_dir)],
        stdin=subprocess.DEVNULL, capture_output=True, timeout=60,
    )  # fmt: skip
    return done.returncode, json.loads(done.stderr.split(b"\n", 1)[0])


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
