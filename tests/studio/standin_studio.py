"""A studio backend over stdio whose config points at the stand-in Suno: the Electron app's view of it.

The browser, fetch and download tests spawn ``deskbridge stdio studio
--config <file>`` with the stand-in's base URLs, the system's Chromium and
fast retries, and drive it with NDJSON only. One backend (and one browser)
serves a whole test module; the stand-in is reset before each test.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from deskbridge.errors import CommandError
from deskbridge.studio.browser.browsers import find_executable
from deskbridge_standins.suno import StandinControl
from tests.support import BackendProcess


def _chromium() -> str | None:
    try:
        return find_executable(None)
    except CommandError:
        return None


CHROMIUM = _chromium()
needs_chromium = pytest.mark.skipif(
    CHROMIUM is None, reason="no Chrome or Chromium on this machine (Debian: apt install chromium)"
)

FAST_RETRY = {"attempts": 4, "first_delay": 0.05, "max_delay": 2.0}
FAST_PREPARATION = {"prepare_interval": 0.05, "prepare_timeout": 10.0}
"""Suno's preparation of a file polled every 50 ms: the stand-in answers at once."""


def config_for(standin: StandinControl, **studio: Any) -> dict[str, Any]:
    """A config that sends the whole studio to the stand-in, with ``studio`` keys merged over the defaults."""
    endpoints = standin.endpoints
    suno = {
        "site_origin": endpoints.site_origin,
        "clerk_base": endpoints.clerk_base,
        "api_base": endpoints.api_base,
        "cdn_base": endpoints.cdn_base,
    }
    section: dict[str, Any] = {
        "suno": suno,
        "browser": {"executable": CHROMIUM, "session_wait": 1.0},
        "retry": FAST_RETRY,
        "page_delay": 0,
    }
    section.update(studio)
    return {"studio": section}


@contextmanager
def studio_on(
    standin: StandinControl, directory: Path, *, env: dict[str, str] | None = None, **studio: Any
) -> Iterator[BackendProcess]:
    """``deskbridge stdio studio`` configured for the stand-in, closed gracefully (its browsers too) at the end."""
    directory.mkdir(parents=True, exist_ok=True)
    config = directory / "config.json"
    config.write_text(json.dumps(config_for(standin, **studio)))
    backend = BackendProcess(["studio"], directory / "data", "--config", str(config), env=env)
    try:
        yield backend
    finally:
        backend.close(timeout=15)


def terminal(backend: BackendProcess, operation_id: str, timeout: float = 30) -> dict[str, Any]:
    """The payload of the operation's terminal event."""
    event = backend.wait_event(
        lambda e: (
            e.get("payload", {}).get("operation_id") == operation_id
            and e["payload"].get("status") in ("completed", "failed", "cancelled")
        ),
        timeout,
    )
    payload: dict[str, Any] = event["payload"]
    return payload


def events_of(backend: BackendProcess, operation_id: str, event_type: str | None = None) -> list[dict[str, Any]]:
    """Payloads of the events seen so far for one operation (of one type)."""
    return [
        e["payload"]
        for e in backend.events
        if e.get("payload", {}).get("operation_id") == operation_id and event_type in (None, e["type"])
    ]


def stderr_text(backend: BackendProcess) -> str:
    return b"".join(backend.stderr_lines).decode("utf-8", "replace")
