"""The system's Chrome or Chromium, one persistent profile per account, driven through Playwright.

Suno signs in through Clerk and guards song creation with captchas, so the
studio works through a real browser whose profile keeps each account signed
in. :class:`Browsers` opens an account's profile
(``launch_persistent_context``; the installed browser, never a downloaded
one), remembers the context, and closes it on ``CLOSE_BROWSER``, when the
user closes its last window, or at shutdown.

Chrome allows one process per profile (its ``SingletonLock``): a profile
held by another live browser is ``PROFILE_LOCKED``; a lock left by a crashed
process on this host is cleared first. The account is held while the
browser starts, so no rename or delete can move the profile before Chrome
has taken its own lock. Playwright's async API runs on the backend's event
loop; it is imported and started only when the first browser is launched.
"""

from __future__ import annotations

import asyncio
import logging
import os
import re
import sys
from collections.abc import Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from pathlib import Path
from typing import TYPE_CHECKING, Final, Protocol

import msgspec

from deskbridge.errors import CommandError
from deskbridge.studio.config import BrowserSettings
from deskbridge.studio.errors import StudioError
from deskbridge.studio.library import names
from deskbridge.studio.library.accounts import ProfilePath
from deskbridge.studio.library.profiles import SINGLETON_LOCK, lock_holder

if TYPE_CHECKING:
    from playwright.async_api import BrowserContext, Playwright

log = logging.getLogger("deskbridge.studio.browser.browsers")

ON_PATH: Final = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "chrome")
BASE_ARGS: Final = (
    "--no-first-run",
    "--no-default-browser-check",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-blink-features=AutomationControlled",
)
"""Quiet (no first-run pages, no updates or sync in the background) and not flagged as automated."""
HIDDEN_DEFAULTS: Final = ("--enable-automation", "--password-store=basic", "--use-mock-keychain")
"""Playwright switches the studio leaves out: the "controlled by automated software" bar (and
``navigator.webdriver``), and a cookie encryption of its own. With the system's keyring, as a plain
Chrome uses, a profile signed in by hand in a plain Chrome stays signed in for the studio."""
SINGLETON_ENTRIES: Final = (SINGLETON_LOCK, "SingletonSocket", "SingletonCookie")
CLOSE_TIMEOUT: Final = 5.0
_REASON_MAX: Final = 800
_REASON_LINES: Final = 4
_BROWSER_OUTPUT: Final = re.compile(r"^(?:  - )?\[pid=\d+\]\[(?:err|out)\] (.*)$", re.MULTILINE)
"""A line the browser itself printed, in Playwright's launch log (once under "Browser logs", again under "Call log")."""
_CHROME_PREFIX: Final = re.compile(r"^\[[\d:/.]+:[A-Z]+:[^\]]*\] ")
"""Chrome's own log prefix: ``[pid:tid:date:LEVEL:file:line] ``."""


class Launched(msgspec.Struct, kw_only=True, omit_defaults=True):
    account_name: str
    profile_path: str
    headless: bool
    executable: str
    url: str
    already_open: bool
    page_error: str | None = None
    """Why the first page could not be opened; the browser runs anyway."""


class Closed(msgspec.Struct):
    account_name: str
    closed: bool


def _launch_failed(reason: str) -> CommandError:
    return CommandError(StudioError.BROWSER_LAUNCH_FAILED, f"cannot start the browser: {reason}")


def find_executable(
    configured: str | None, *, environ: Mapping[str, str] = os.environ, platform: str = sys.platform
) -> str:
    """The browser to run: ``configured`` (a path or a command), else Chrome or Chromium on PATH or where installed."""
    import shutil  # here, not at the top: shutil loads bz2, lzma and zlib, which the studio's start does not need

    search_path = environ.get("PATH", "")
    if configured:
        found = shutil.which(os.path.expanduser(configured), path=search_path)
        if found is None:
            raise _launch_failed(f"studio.browser.executable is {configured!r}, which is not an executable file")
        return found
    for name in ON_PATH:
        found = shutil.which(name, path=search_path)
        if found is not None:
            return found
    for candidate in _install_paths(platform, environ):
        if os.access(candidate, os.X_OK) and candidate.is_file():
            return str(candidate)
    raise _launch_failed(
        "no Chrome or Chromium found on PATH or in the usual places; install one or set studio.browser.executable"
    )


def _install_paths(platform: str, environ: Mapping[str, str]) -> list[Path]:
    if platform == "win32":
        roots = [environ.get(key) for key in ("PROGRAMFILES", "PROGRAMFILES(X86)", "LOCALAPPDATA")]
        apps = (Path("Google/Chrome/Application/chrome.exe"), Path("Chromium/Application/chrome.exe"))
        return [Path(root) / app for root in roots if root for app in apps]
    if platform == "darwin":
        bundles = ("Google Chrome.app/Contents/MacOS/Google Chrome", "Chromium.app/Contents/MacOS/Chromium")
        return [
            folder / bundle for folder in (Path("/Applications"), Path.home() / "Applications") for bundle in bundles
        ]
    return [Path("/snap/bin/chromium"), Path("/opt/google/chrome/chrome")]


def launch_args(extra: Sequence[str]) -> list[str]:
    """The switches the studio starts browsers with; ``--no-sandbox`` only as root, where Chrome refuses without."""
    as_root = hasattr(os, "geteuid") and os.geteuid() == 0
    return [*BASE_ARGS, *(["--no-sandbox"] if as_root else []), *extra]


def clear_stale_lock(profile: Path) -> None:
    """Remove Chrome's singleton entries if they name a process that is dead on this host.

    :func:`lock_holder` says no live browser holds the profile; a lock link
    still there was left by a crash, and Chrome would refuse or hesitate.
    """
    if sys.platform == "win32" or lock_holder(profile) is not None or not (profile / SINGLETON_LOCK).is_symlink():
        return
    for entry in SINGLETON_ENTRIES:
        (profile / entry).unlink(missing_ok=True)
    log.info("removed the stale browser lock of %s (its process is gone)", profile)


def _reason(message: str) -> str:
    """Playwright's error in a line: what went wrong and the browser's first words, not the launch command."""
    said: list[str] = []
    for match in _BROWSER_OUTPUT.finditer(message):
        line = _CHROME_PREFIX.sub("", match[1]).strip()
        if line and line not in said:
            said.append(line)
    first = message.partition("\n")[0].split(": ", 1)[-1]
    return " | ".join([first, *said[:_REASON_LINES]])[:_REASON_MAX]


class _Open(msgspec.Struct):
    name: str
    profile: Path
    context: BrowserContext
    headless: bool
    executable: str


class AccountProfiles(Protocol):
    """What a browser needs of the accounts: each one's profile dir, held while it starts, and its lock."""

    def profile(self, name: str, field: str = ...) -> ProfilePath: ...

    def holding(self, name: str, field: str) -> AbstractAsyncContextManager[ProfilePath]: ...

    def refuse_if_locked(self, name: str) -> None: ...


class Browsers:
    """The browsers the studio has open, one per account (keyed by the name ignoring case)."""

    def __init__(self, settings: BrowserSettings, accounts: AccountProfiles, start_url: str) -> None:
        self._settings = settings
        self._accounts = accounts
        self._start_url = start_url
        self._open: dict[str, _Open] = {}
        self._account_locks: dict[str, asyncio.Lock] = {}
        self._playwright: Playwright | None = None
        self._starting = asyncio.Lock()

    async def launch(self, account_name: str, headless: bool | None) -> Launched:
        """Open the account's profile (again, if it is open in the other mode); the one already open otherwise."""
        wanted = self._settings.headless if headless is None else headless
        name = await asyncio.to_thread(self.account_name, account_name)
        async with self._lock(name):
            current = self._open.get(names.name_key(name))
            if current is not None and current.headless == wanted:
                return self._launched(current, already_open=True)
            if current is not None:
                await self._close(current)
            async with self._accounts.holding(name, "$.account_name") as profile:
                opened = await self._start(profile.name, Path(profile.profile_path), wanted)
            page_error = await self._open_start_page(opened.context)
        return self._launched(opened, already_open=False, page_error=page_error)

    async def close(self, account_name: str) -> Closed:
        name = await asyncio.to_thread(self.account_name, account_name)
        async with self._lock(name):
            current = self._open.get(names.name_key(name))
            if current is not None:
                await self._close(current)
        return Closed(name, current is not None)

    def context(self, account_name: str) -> tuple[str, BrowserContext]:
        """The account's stored name and its open browser; ``SESSION_NOT_FOUND`` when none is open."""
        name = self.account_name(account_name)
        current = self._open.get(names.name_key(name))
        if current is None:
            raise CommandError(
                StudioError.SESSION_NOT_FOUND,
                f"no browser is open for {name!r}: LAUNCH_BROWSER first",
                {"account_name": name},
            )
        return name, current.context

    async def opened(self, account_name: str) -> tuple[str, BrowserContext]:
        """The account's stored name and its browser, launched (headless by config) if it is closed."""
        if not self.is_open(account_name):
            await self.launch(account_name, None)
        return self.context(account_name)

    def account_name(self, account_name: str) -> str:
        """The account's name as stored (``ACCOUNT_NOT_FOUND`` if there is none)."""
        return self._accounts.profile(account_name, "$.account_name").name

    def is_open(self, account_name: str) -> bool:
        """Whether the studio has a browser open for the account (any spelling of its name)."""
        return names.name_key(account_name) in self._open

    def is_headless(self, account_name: str) -> bool:
        """Whether the account's open browser has no window, so no person can act in it."""
        current = self._open.get(names.name_key(account_name))
        return current is not None and current.headless

    async def close_all(self) -> None:
        """Close every browser, then Playwright (at shutdown)."""
        for current in list(self._open.values()):
            await self._close(current)
        if self._playwright is not None:
            playwright, self._playwright = self._playwright, None
            try:
                await asyncio.wait_for(playwright.stop(), CLOSE_TIMEOUT)
            except Exception as exc:  # the driver may already be gone; nothing is left to save
                log.warning("stopping Playwright failed: %s", exc)

    # -- internals ------------------------------------------------------------------

    def _lock(self, name: str) -> asyncio.Lock:
        return self._account_locks.setdefault(names.name_key(name), asyncio.Lock())

    async def _start(self, name: str, profile: Path, headless: bool) -> _Open:
        from playwright.async_api import Error as PlaywrightError

        executable = await asyncio.to_thread(self._prepare, name, profile)
        playwright = await self._start_playwright()
        try:
            context = await playwright.chromium.launch_persistent_context(
                str(profile),
                executable_path=executable,
                headless=headless,
                args=launch_args(self._settings.args),
                ignore_default_args=list(HIDDEN_DEFAULTS),
                no_viewport=not headless,
                timeout=self._settings.launch_timeout * 1000,
            )
        except PlaywrightError as exc:
            self._accounts.refuse_if_locked(name)  # another browser took the profile meanwhile?
            raise _launch_failed(f"{executable}: {_reason(exc.message)}") from None
        opened = _Open(name, profile, context, headless, executable)
        self._open[names.name_key(name)] = opened
        context.on("close", lambda _: self._forget(opened))
        log.info("opened the browser of %s (%s)", name, "headless" if headless else "headed")
        return opened

    def _prepare(self, name: str, profile: Path) -> str:
        """Refuse a profile a live browser holds, clear a stale lock; the executable to run."""
        self._accounts.refuse_if_locked(name)
        executable = find_executable(self._settings.executable)
        try:
            profile.mkdir(mode=0o700, parents=True, exist_ok=True)
            clear_stale_lock(profile)
        except OSError as exc:
            raise _launch_failed(f"cannot prepare the profile {profile}: {exc.strerror or exc}") from None
        return executable

    async def _start_playwright(self) -> Playwright:
        async with self._starting:
            if self._playwright is None:
                from playwright.async_api import Error as PlaywrightError
                from playwright.async_api import async_playwright

                try:
                    self._playwright = await async_playwright().start()
                except (PlaywrightError, OSError) as exc:
                    raise _launch_failed(f"Playwright cannot start: {exc}") from None
            return self._playwright

    async def _open_start_page(self, context: BrowserContext) -> str | None:
        """Point the first tab at Suno; a failure is reported, not fatal (GET_SESSION_TOKEN tries again)."""
        from playwright.async_api import Error as PlaywrightError

        try:
            page = context.pages[0] if context.pages else await context.new_page()
            await page.goto(self._start_url, wait_until="commit", timeout=self._settings.session_wait * 1000)
        except PlaywrightError as exc:
            return _reason(exc.message)
        return None

    async def _close(self, current: _Open) -> None:
        self._forget(current)
        try:
            await asyncio.wait_for(current.context.close(), CLOSE_TIMEOUT)
        except Exception as exc:  # already closed by the user, or hung: Playwright's stop kills it
            log.warning("closing the browser of %s failed: %s", current.name, exc)
        log.info("closed the browser of %s", current.name)

    def _forget(self, current: _Open) -> None:
        key = names.name_key(current.name)
        if self._open.get(key) is current:
            del self._open[key]

    def _launched(self, current: _Open, *, already_open: bool, page_error: str | None = None) -> Launched:
        return Launched(
            account_name=current.name,
            profile_path=str(current.profile),
            headless=current.headless,
            executable=current.executable,
            url=self._start_url,
            already_open=already_open,
            page_error=page_error,
        )
