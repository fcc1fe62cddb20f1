from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.support import BackendProcess


@pytest.fixture
def spawn(tmp_path: Path) -> Iterator[Callable[..., BackendProcess]]:
    """Start ``deskbridge stdio <apps>`` on a fresh data dir (or one you pass); killed at the end."""
    started: list[BackendProcess] = []

    def start(
        *apps: str, data_dir: Path | None = None, extra: tuple[str, ...] = (), env: dict[str, str] | None = None
    ) -> BackendProcess:
        backend = BackendProcess(list(apps) or ["studio"], data_dir or tmp_path / "data", *extra, env=env)
        started.append(backend)
        return backend

    yield start
    for backend in started:
        backend.kill()
