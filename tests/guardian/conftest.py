from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.guardian.support import FakeClock, FakeProcesses, Harness, paris
from tests.support import BackendProcess

SLEEP = shutil.which("sleep") or "/bin/sleep"


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(paris(2025, 8, 11, 10, 0))


@pytest.fixture
def processes(clock: FakeClock) -> FakeProcesses:
    return FakeProcesses(clock)


@pytest.fixture
def harness(tmp_path: Path, clock: FakeClock, processes: FakeProcesses) -> Callable[..., Harness]:
    """``harness(config)``: a guardian driven by hand (no thread, no process table of the OS)."""

    def make(config: dict[str, Any] | None = None) -> Harness:
        return Harness(tmp_path / "guardian.db", config or {}, clock, processes)

    return make


class Games:
    """Real processes that look like the game: copies of ``sleep`` under chosen names."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.started: list[subprocess.Popen[bytes]] = []

    @staticmethod
    def unique(prefix: str = "Game") -> str:
        return f"{prefix}{uuid.uuid4().hex[:8]}"

    def program(self, name: str, source: str = SLEEP) -> Path:
        path = self.root / name
        if not path.exists():
            shutil.copy(source, path)
        return path

    def alias(self, name: str, target: Path) -> Path:
        """A symlink: launched through it, the process is *named* ``name`` but its executable is ``target``."""
        path = self.root / name
        path.symlink_to(target)
        return path

    def launch(self, path: Path, *args: str) -> subprocess.Popen[bytes]:
        process = subprocess.Popen([str(path), *(args or ("600",))], start_new_session=True)
        self.started.append(process)
        return process

    def start(self, name: str) -> subprocess.Popen[bytes]:
        return self.launch(self.program(name))

    def stop(self, process: subprocess.Popen[bytes]) -> None:
        process.kill()
        process.wait()

    def cleanup(self) -> None:
        for process in self.started:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)  # the whole group: a game's children too
            process.wait()


@pytest.fixture
def games(tmp_path: Path) -> Iterator[Games]:
    root = tmp_path / "bin"
    root.mkdir()
    made = Games(root)
    yield made
    made.cleanup()


@pytest.fixture
def guardian_backend(tmp_path: Path, spawn: Callable[..., BackendProcess]) -> Callable[..., BackendProcess]:
    """``guardian_backend(config)``: ``deskbridge stdio guardian --config`` polling every 0.1 s."""

    def start(config: dict[str, Any], data_dir: Path | None = None) -> BackendProcess:
        monitor = {"poll_interval": 0.1, **config.get("monitor", {})}
        path = tmp_path / f"guardian-{uuid.uuid4().hex[:6]}.json"
        path.write_text(json.dumps({**config, "monitor": monitor}))
        return spawn("guardian", data_dir=data_dir, extra=("--config", str(path)))

    return start
