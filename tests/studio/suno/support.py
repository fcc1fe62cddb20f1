"""What the Suno and download tests share: a stand-in per test module, a fast sleep, a signed-in client.

The fixtures live here rather than in a ``conftest.py`` so that test modules
outside this directory (the downloader's) can bind them too.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest

from deskbridge.studio.suno.api import SunoClient, TokenSource
from deskbridge.studio.suno.retry import RetryPolicy
from deskbridge_standins.suno import StandinControl, StandinServer


class FastSleep:
    """An injected ``sleep`` that records every delay asked for and only yields to the loop."""

    def __init__(self) -> None:
        self.delays: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)
        await asyncio.sleep(0)


@pytest.fixture(scope="module")
def standin() -> Iterator[StandinControl]:
    """A stand-in Suno on 127.0.0.1 for the module, and a control client for it."""
    with StandinServer() as server:
        control = StandinControl(server.base_url)
        yield control
        control.close()


@pytest.fixture
def suno(standin: StandinControl) -> StandinControl:
    """The module's stand-in, reset: no clips, faults, sessions or recorded requests."""
    standin.reset()
    return standin


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=10) as client:
        yield client


@pytest.fixture
def sleep() -> FastSleep:
    return FastSleep()


def client_for(
    suno: StandinControl,
    http: httpx.AsyncClient,
    sleep: FastSleep,
    *,
    token: str | None = None,
    refresh_token: TokenSource | None = None,
) -> SunoClient:
    """A :class:`SunoClient` on the stand-in with a new session's token (or ``token``), retrying 4 times."""
    return SunoClient(
        http,
        suno.endpoints,
        token or suno.session()["jwt"],
        refresh_token=refresh_token,
        retry=RetryPolicy(attempts=4),
        sleep=sleep,
    )
