from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from tests.support import BackendProcess


@pytest.fixture
def studio(spawn: Callable[..., BackendProcess]) -> BackendProcess:
    """``deskbridge stdio studio`` on a fresh data dir."""
    return spawn("studio")


@pytest.fixture
def profiles(tmp_path: Path) -> Path:
    """Where the studio keeps browser profiles for the ``studio`` fixture's data dir."""
    return tmp_path / "data" / "studio" / "profiles"
