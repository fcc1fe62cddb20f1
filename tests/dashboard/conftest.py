"""Fixtures: one headless Chromium per session; a fresh server and page per test."""

from __future__ import annotations

import json
import shutil
import subprocess
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, sync_playwright

from tests.dashboard.support import CHROMIUM, CHROMIUM_ARGS, SLEEP, Dashboard
from tests.webserver import WebServer


@pytest.fixture(scope="package")
def browser() -> Iterator[Browser]:
    """One Chromium for the dashboard tests, gone when they end: Playwright's sync API keeps an
    event loop running in the main thread while it lives, which later ``asyncio.run()`` calls refuse."""
    if CHROMIUM is None:
        pytest.skip("no Chromium found (Debian: apt-get install chromium): this test drives a real browser")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture
def game_name() -> str:
    """The process name the guardian watches in these tests (a copy of ``sleep`` runs under it)."""
    return f"Game{uuid.uuid4().hex[:8]}"


@pytest.fixture
def game(tmp_path: Path, game_name: str) -> Iterator[Callable[[], subprocess.Popen[bytes]]]:
    """``game()`` starts a process the guardian takes for the game (a copy of ``sleep``)."""
    program = tmp_path / game_name
    shutil.copy(SLEEP, program)
    started: list[subprocess.Popen[bytes]] = []

    def start() -> subprocess.Popen[bytes]:
        started.append(subprocess.Popen([str(program), "600"]))
        return started[-1]

    yield start
    for process in started:
        process.kill()
        process.wait()


@pytest.fixture
def dashboard(tmp_path: Path, browser: Browser, game_name: str) -> Iterator[Callable[..., Dashboard]]:
    """``dashboard(width, height, *serve_options, studio=section)``: a fresh server (with that ``studio`` config)
    and a page (not opened yet) of that size."""
    config = tmp_path / "config.json"
    config.write_text(
        json.dumps(
            {
                "monitor": {"process_names": [game_name], "close_also": [], "poll_interval": 0.1},
                "children": {"alice": {"daily_limit_minutes": 90}, "bob": {"daily_limit_minutes": 60}},
                "active_child": "alice",
            }
        )
    )
    made: list[Dashboard] = []

    def make(width: int = 1280, height: int = 800, *options: str, studio: dict[str, Any] | None = None) -> Dashboard:
        if studio is not None:
            config.write_text(json.dumps({**json.loads(config.read_text()), "studio": studio}))
        server = WebServer(["studio", "guardian", "diag"], tmp_path / "data", "--config", str(config), *options)
        context = browser.new_context(viewport={"width": width, "height": height})
        made.append(Dashboard(server, context.new_page()))
        return made[-1]

    yield make
    for board in made:
        board.page.context.close()
        board.server.kill()
    for board in made:
        assert board.errors == [], f"uncaught errors in the page: {board.errors}"
