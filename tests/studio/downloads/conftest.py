"""The stdio studio the download command tests share: one backend per module, on the stand-in, with account ada."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from deskbridge_standins.suno import StandinControl
from tests.studio.standin_studio import FAST_PREPARATION, studio_on
from tests.support import BackendProcess


@pytest.fixture(scope="module")
def studio(standin: StandinControl, tmp_path_factory: pytest.TempPathFactory) -> Iterator[BackendProcess]:
    with studio_on(standin, tmp_path_factory.mktemp("downloads"), downloads=FAST_PREPARATION) as backend:
        backend.ok("CREATE_ACCOUNT", {"name": "ada"})
        yield backend


@pytest.fixture
def ada(studio: BackendProcess) -> str:
    """The account, with an empty download history."""
    studio.ok("CLEAR_DOWNLOAD_HISTORY", {"account_name": "ada"})
    return "ada"
