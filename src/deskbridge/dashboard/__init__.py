"""The dashboard: the page a person opens, served by the web door.

``GET /`` with ``text/html`` in ``Accept`` answers the page, behind the token
like every request (``/?token=...`` once: the page keeps it in
``sessionStorage`` and takes it out of the address bar). The scripts and
styles under ``/dashboard/`` hold no data and need no token; the Host and
Origin checks still apply. The page is a client like any other: the WebSocket
at ``/ws`` for events, ``POST /api/command`` for commands. Plain HTML, CSS and
ES modules: no build step, no Node at run time.
"""

from __future__ import annotations

import os
import sys
import threading
import webbrowser
from html import escape
from pathlib import Path
from string import Template
from typing import TYPE_CHECKING, Final
from urllib.parse import quote, urlsplit, urlunsplit

from starlette.responses import HTMLResponse

if TYPE_CHECKING:
    from deskbridge.backend import Backend

HERE: Final = Path(__file__).parent
ASSETS: Final = HERE / "static"
"""Served at :data:`PREFIX`."""
PREFIX: Final = "/dashboard"
LAUNCHER: Final = "dashboard.html"

_HEADERS: Final = {
    "content-security-policy": (
        "default-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
    ),
    "referrer-policy": "no-referrer",
    "x-content-type-options": "nosniff",
    "cache-control": "no-store",
    "vary": "accept",
}


def is_asset(path: str) -> bool:
    """A path under ``/dashboard/``: served without the token."""
    return path.startswith(PREFIX + "/")


def wants_page(accept: str) -> bool:
    """A browser navigating to ``/`` asks for HTML; API clients (``*/*``, ``application/json``) get JSON."""
    return "text/html" in accept.lower()


def page() -> HTMLResponse:
    return HTMLResponse((HERE / "index.html").read_bytes(), headers=_HEADERS)


def refusal(token_file: Path) -> HTMLResponse:
    """``/`` without the token: where to find it (the page's script retries with a token kept from before)."""
    text = Template((HERE / "unauthorized.html").read_text(encoding="utf-8"))
    body = text.substitute(token_file=escape(str(token_file)))
    return HTMLResponse(body, 401, headers={**_HEADERS, "www-authenticate": "Bearer"})


def address(url: str, token: str | None) -> str:
    """The page's address, with the token when there is one; a wildcard bind becomes loopback."""
    parts = urlsplit(url)
    netloc = f"127.0.0.1:{parts.port}" if parts.hostname in ("0.0.0.0", "::") else parts.netloc
    query = f"token={quote(token, safe='')}" if token else ""
    return urlunsplit((parts.scheme, netloc, "/", query, ""))


def announce(url: str, token: str | None, backend: Backend, *, open_browser: bool = False) -> None:
    """Print what is served where, and the dashboard's address with its token, on stdout (uvicorn's banner);
    with ``open_browser``, open the dashboard when there is a display.

    The browser is handed a file (``<data-dir>/dashboard.html``, mode 0600) that
    redirects to the address, not the address itself: a command line is visible
    to every user of the machine, the token file is not.
    """
    target = address(url, token)
    apps = ", ".join(app.name for app in backend.apps)
    demo = "DEMO (offline, made-up data): " if backend.demo else ""
    print(
        f"\n{demo}Serving {apps} on {address(url, None).rstrip('/')}\nDashboard: {target}\n"
        f"(data in {backend.data_dir}; Ctrl+C stops the server)\n",
        flush=True,
    )
    if not open_browser or not _has_display():
        return
    data_dir = backend.data_dir
    launcher = data_dir / LAUNCHER
    fd = os.open(launcher, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(f'<!doctype html><meta http-equiv="refresh" content="0;url={escape(target)}">')
    threading.Thread(target=webbrowser.open, args=(launcher.as_uri(),), daemon=True).start()


def _has_display() -> bool:
    if sys.platform in ("win32", "darwin"):
        return True
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))
