"""The dashboard under test: a real ``deskbridge serve`` and a page of a real headless Chromium on it.

Chromium is the system's (Debian's ``chromium``), driven by Playwright for Python with its
``executable_path``: no browser is downloaded. Screenshots land in ``artifacts/dashboard/``.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from playwright.sync_api import Locator, Page, expect

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


class Dashboard:
    """A server (``deskbridge serve studio guardian diag``) and a browser page on its dashboard."""

    def __init__(self, server: WebServer, page: Page) -> None:
        self.server = server
        self.page = page
        self.errors: list[str] = []
        page.on("pageerror", lambda error: self.errors.append(str(error)))
        page.on("dialog", lambda dialog: dialog.accept())  # "Delete alice?": yes

    def open(self, view: str = "", token: str | None = None) -> None:
        """The page with the parent's token, or ``token`` (the child's client token)."""
        self.page.goto(f"{self.server.url}/?token={token or self.server.token}#{view}")
        expect(self.connection).to_have_text("Live")

    @property
    def connection(self) -> Locator:
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
