"""The stdio studio the download command tests share: one backend per module, on the stand-in, with account ada.

Every download event a test here sees is held to the schema the backend declares (:mod:`tests.declared`): each
scenario, a failure's too, checks that the declared result and progress types are what is sent.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from deskbridge_standins.suno import StandinControl
from tests.declared import Declared
from tests.studio.standin_studio import FAST_PREPARATION, studio_on
from tests.support import BackendProcess

OPERATION_OF = {"DOWNLOAD_PROGRESS": "DOWNLOAD_CLIP", "BATCH_DOWNLOAD_PROGRESS": "BATCH_DOWNLOAD"}
"""Each download event type, and the operation whose declared types its payloads are held to."""


@pytest.fixture(scope="module")
def studio(standin: StandinControl, tmp_path_factory: pytest.TempPathFactory) -> Iterator[BackendProcess]:
    with studio_on(standin, tmp_path_factory.mktemp("downloads"), downloads=FAST_PREPARATION) as backend:
        backend.ok("CREATE_ACCOUNT", {"name": "ada"})
        yield backend


@pytest.fixture(scope="module")
def declared(studio: BackendProcess) -> Declared:
    return Declared(studio.ok("GET_SCHEMA"))


@pytest.fixture(autouse=True)
def sends_what_it_declares(request: pytest.FixtureRequest) -> Iterator[None]:
    """After a test on the shared studio: the download events it saw conform to the declared types."""
    if "studio" not in request.fixturenames:
        yield
        return
    studio: BackendProcess = request.getfixturevalue("studio")
    declared: Declared = request.getfixturevalue("declared")
    seen = len(studio.events)
    yield
    for event_type, command in OPERATION_OF.items():
        declared.check(command, [event["payload"] for event in studio.events[seen:] if event["type"] == event_type])


@pytest.fixture
def ada(studio: BackendProcess) -> str:
    """The account, with an empty download history."""
    studio.ok("CLEAR_DOWNLOAD_HISTORY", {"account_name": "ada"})
    return "ada"
