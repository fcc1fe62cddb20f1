"""What the robustness tests share: recorded figures, process metrics, small file systems to fill or freeze.

Figures go to ``artifacts/reliability/<case>.json`` (or
``$DESKBRIDGE_RELIABILITY_DIR``, see :func:`tests.robustness.cases.figures_dir`);
``tools/reliability.py`` runs the cases and renders them into docs/reliability.md.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import queue
import subprocess
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, settings

from tests.robustness.cases import figures_dir
from tests.support import BackendProcess

FUZZ_RANDOM = bool(os.environ.get("DESKBRIDGE_FUZZ_RANDOM"))
"""By default the fuzzers draw the same inputs every run, so that CI fails on a change rather than on luck;
``DESKBRIDGE_FUZZ_RANDOM=1`` lets them explore (with more examples: see each module)."""
FUZZ_SETTINGS = settings(deadline=None, derandomize=not FUZZ_RANDOM, suppress_health_check=list(HealthCheck))
if not FUZZ_RANDOM:  # replaying saved failures would undo the point of a fixed draw; exploring keeps them
    FUZZ_SETTINGS = settings(FUZZ_SETTINGS, database=None)
"""The hypothesis settings every fuzz test starts from: ``@settings(FUZZ_SETTINGS, max_examples=N)``."""


def record(case: str, **figures: Any) -> None:
    """Keep the figures ``case`` measured (merged with what it recorded earlier in this run)."""
    directory = figures_dir()
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{case}.json"
    known: dict[str, Any] = {}
    with contextlib.suppress(OSError, ValueError):
        known = json.loads(path.read_text())
    path.write_text(json.dumps({**known, **figures}, indent=1, sort_keys=True) + "\n")


# -- backends ------------------------------------------------------------------------------


def drain(backend: BackendProcess, quiet: float = 1.0) -> list[dict[str, Any]]:
    """What a killed backend left in its stdout pipe: those messages did reach the client.

    Events also land in ``backend.events``. Stops at the end of the stream, or
    when nothing came for ``quiet`` seconds (a line cut by the kill stops the pump).
    """
    messages: list[dict[str, Any]] = []
    with contextlib.suppress(EOFError, queue.Empty):
        while True:
            messages.append(backend.next_message(timeout=quiet))
    return messages


def events_on_disk(backend: BackendProcess, after: int = 0) -> list[dict[str, Any]]:
    """Every event in the backend's log after ``after``, read with ``GET_EVENTS`` page by page."""
    events: list[dict[str, Any]] = []
    while True:
        page = backend.ok("GET_EVENTS", {"after": after, "limit": 10_000})
        events += page["events"]
        after = page["last_seq"]
        if not page["more"]:
            return events


def process_gone(pid: int) -> bool:
    """No such process, or a zombie nobody reaped yet (it has exited)."""
    try:
        status = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError, IndexError):
        return True
    return status in ("Z", "X")


# -- processes ------------------------------------------------------------------------------


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for {pid}")


def open_fds(pid: int) -> int:
    return len(os.listdir(f"/proc/{pid}/fd"))


def percentile(values: Sequence[float], q: float) -> float:
    """The nearest-rank percentile (``q`` in 0-100) of ``values``."""
    ordered = sorted(values)
    if not ordered:
        return math.nan
    return ordered[max(0, math.ceil(q / 100 * len(ordered)) - 1)]


def gaps_and_duplicates(seqs: Sequence[int], head: int) -> tuple[int, int]:
    """How many of 1..``head`` are missing from ``seqs``, and how many ``seqs`` came more than once."""
    return len(set(range(1, head + 1)) - set(seqs)), len(seqs) - len(set(seqs))


# -- file systems ------------------------------------------------------------------------------


def _mount(*argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["mount", *argv], capture_output=True, text=True, check=False)


@contextlib.contextmanager
def tmpfs(path: Path, size: str) -> Iterator[Path]:
    """A tmpfs of ``size`` (``2m``) mounted on ``path`` for the block; the test skips where mounting is not allowed."""
    path.mkdir(parents=True, exist_ok=True)
    if os.name != "posix" or os.geteuid() != 0:
        pytest.skip("mounting a small tmpfs needs root (Linux): run the suite as root or in a container")
    done = _mount("-t", "tmpfs", "-o", f"size={size},mode=0700", "tmpfs", str(path))
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.strip()}")
    try:
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], capture_output=True, check=False)


def remount(path: Path, mode: str) -> None:
    """Make the tmpfs at ``path`` read-only (``ro``) or writable again (``rw``)."""
    done = _mount("-o", f"remount,{mode}", str(path))
    if done.returncode != 0:
        pytest.skip(f"cannot remount {path} {mode}: {done.stderr.strip()}")
