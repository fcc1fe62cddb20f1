"""A real ``deskbridge serve`` and a real headless Chromium (Debian's, driven by Playwright) on its dashboard.

Screenshots land in ``artifacts/dashboard/`` at the repository root.
"""

from __future__ import annotations

import json
import shutil
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

from tests.webserver import WebServer

_CANDIDATES = ("/usr/bin/chromium", *(shutil.which(name) for name in ("chromium", "chromium-browser", "google-chrome")))
CHROMIUM = next((found for found in _CANDIDATES if found and Path(found).exists()), None)
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts" / "dashboard"
SLEEP = shutil.which("sleep") or "/bin/sleep"

needs_chromium = pytest.mark.skipif(
    CHROMIUM is None, reason="no Chromium found (Debian: apt-get install chromium): these tests drive a real browser"
)


class Dashboard:
    """A server (``deskbridge serve studio guardian diag``) and a browser page on its dashboard."""

    def __init__(self, server: WebServer, page: Page) -> None:
        self.server = server
        self.page = page
        self.errors: list[str] = []
        page.on("pageerror", lambda error: self.errors.append(str(error)))
        page.on("dialog", lambda dialog: dialog.accept())  # "Delete alice?": yes

    def open(self, view: str = "") -> None:
        self.page.goto(f"{self.server.url}/?token={self.server.token}#{view}")
        expect(self.connection).to_have_text("Live")

    @property
    def connection(self) -> Any:
        return self.page.locator("#connection")

    def go(self, section: str) -> None:
        self.page.get_by_role("navigation", name="Sections").get_by_role("link", name=section).click()

    def shot(self, name: str) -> Path:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        path = ARTIFACTS / f"{name}.png"
        self.page.evaluate("window.scrollTo(0, 0)")
        self.page.screenshot(path=path, full_page=True)
        return path

    def call(self, command: str, payload: dict[str, Any] | None = None) -> Any:
        answer = self.server.call(command, payload)
        assert answer["success"], answer
        return answer["data"]


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture
def game_name() -> str:
    """The process name the guardian watches in these tests (a copy of ``sleep`` runs under it)."""
    return f"Game{uuid.uuid4().hex[:8]}"


@pytest.fixture
def dashboard(tmp_path: Path, browser: Browser, game_name: str) -> Iterator[Callable[..., Dashboard]]:
    """``dashboard(width, height)``: a fresh server and a page (not opened yet) of that size."""
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

    def make(width: int = 1280, height: int = 800) -> Dashboard:
        server = WebServer(["studio", "guardian", "diag"], tmp_path / "data", "--config", str(config))
        context = browser.new_context(viewport={"width": width, "height": height})
        made.append(Dashboard(server, context.new_page()))
        return made[-1]

    yield make
    for board in made:
        board.page.context.close()
        board.server.kill()
    for board in made:
        assert board.errors == [], f"uncaught errors in the page: {board.errors}"
