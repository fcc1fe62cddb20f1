"""Suno sessions: the JWT of an account's signed-in browser, kept fresh, and API clients that use it.

The token comes from the page itself, as Suno's own scripts get it:
``window.Clerk.session.getToken()``, once ``window.Clerk.session`` exists.
It is cached with its expiry (read from the JWT) and read again when less
than ``studio.browser.token_margin`` seconds remain, when the browser it
came from is gone, or when Suno refused it. A page that shows no session
is sent to the sign-in page once (a tab left elsewhere, a site that was
down at launch) before the answer is ``SESSION_NOT_FOUND``.

Tokens live in memory only: never logged, never written outside the
profile (where the browser keeps its own cookies).
"""

from __future__ import annotations

import asyncio
from datetime import datetime
from functools import partial
from typing import TYPE_CHECKING, Any, Final

import msgspec

from deskbridge.clock import Clock
from deskbridge.errors import CommandError
from deskbridge.studio.browser.browsers import Browsers
from deskbridge.studio.config import StudioSettings
from deskbridge.studio.errors import StudioError
from deskbridge.studio.library import names
from deskbridge.studio.suno import tokens

if TYPE_CHECKING:
    from playwright.async_api import BrowserContext, Page

    from deskbridge.studio.api_http import ApiHttp
    from deskbridge.studio.suno.api import SunoClient, TokenSource

NO_TOKEN: Final = "eyJhbGciOiJub25lIn0.eyJleHAiOjB9."
"""Stands for "no token yet": a JWT that expired in 1970, so a client asks its refresher before any call
and never sends it."""
_NO_SESSION: Final = "no session: give session_token, or the account_name of an account whose browser is open"


class SessionToken(msgspec.Struct):
    account_name: str
    session_token: str
    expires_at: str | None
    """Local time, ``YYYY-MM-DD HH:MM:SS``; ``null`` when the token does not say."""
    expires_in: int | None
    """Seconds left."""


class SessionCheck(msgspec.Struct, kw_only=True, omit_defaults=True):
    account_name: str
    valid: bool
    reason: str | None = None
    expires_at: str | None = None
    expires_in: int | None = None
    billing: dict[str, Any] | None = None
    """Suno's answer to the authenticated call: credits, plan, download usage."""


class _Cached(msgspec.Struct, frozen=True):
    context: BrowserContext
    jwt: str
    expires: float | None


class _NoSession(Exception):
    """This page shows no signed-in session (the message says why)."""


class Sessions:
    def __init__(self, browsers: Browsers, settings: StudioSettings, http: ApiHttp, clock: Clock) -> None:
        self._browsers = browsers
        self._settings = settings
        self._endpoints = settings.endpoints
        self._http = http
        self._clock = clock
        self._cache: dict[str, _Cached] = {}
        self._locks: dict[str, asyncio.Lock] = {}

    async def session_token(self, account_name: str) -> SessionToken:
        """``GET_SESSION_TOKEN``: the account's JWT and when it expires."""
        name, cached = await self._token(account_name)
        expires_at, expires_in = self._expiry(cached.expires)
        return SessionToken(name, cached.jwt, expires_at, expires_in)

    async def verify(self, account_name: str) -> SessionCheck:
        """``VERIFY_SESSION``: a token that has not expired, and Suno accepting it for one authenticated call."""
        try:
            name, cached = await self._token(account_name)
            if cached.expires is not None and cached.expires <= self._clock.time():
                raise CommandError(StudioError.SESSION_NOT_FOUND, "the browser's session token has expired")
            billing = await self._client(cached.jwt, partial(self._refreshed, name)).check_session()
            _, cached = await self._token(name)  # the call may have refreshed it
        except CommandError as exc:
            if exc.code is not StudioError.SESSION_NOT_FOUND:
                raise
            return SessionCheck(account_name=self._browsers.account_name(account_name), valid=False, reason=exc.message)
        expires_at, expires_in = self._expiry(cached.expires)
        return SessionCheck(
            account_name=name, valid=True, expires_at=expires_at, expires_in=expires_in, billing=billing
        )

    async def client(self, session_token: str | None, account_name: str | None, *, required: bool) -> SunoClient:
        """A Suno client for a command: its ``session_token``, else the token of the account's open browser.

        With an account, a refused or expiring token is replaced from the
        account's browser (once per refusal); without one, a refusal is
        ``SESSION_NOT_FOUND``. ``required``: fail now when there is no token;
        otherwise fail only if a call needs one (a download from the CDN does not).
        """
        token = session_token
        refresh: TokenSource = _no_refresh
        if account_name is not None:
            name = await asyncio.to_thread(self._browsers.account_name, account_name)
            refresh = partial(self._refreshed, name)
            if token is None and self._browsers.is_open(name):
                token = (await self._token(name))[1].jwt
        if token is None and required:
            raise CommandError(StudioError.SESSION_NOT_FOUND, _NO_SESSION)
        return self._client(token or NO_TOKEN, refresh)

    # -- internals ------------------------------------------------------------------

    def _client(self, token: str, refresh: TokenSource) -> SunoClient:
        from deskbridge.studio.suno.api import SunoClient  # with httpx: at the first call to Suno, not at start

        return SunoClient(
            self._http(),
            self._endpoints,
            token,
            refresh_token=refresh,
            retry=self._settings.retry,
            page_delay=self._settings.page_delay,
            clock=self._clock.time,
        )

    async def _refreshed(self, account_name: str) -> str:
        return (await self._token(account_name, refresh=True))[1].jwt

    async def _token(self, account_name: str, *, refresh: bool = False) -> tuple[str, _Cached]:
        name, context = self._browsers.context(account_name)
        key = names.name_key(name)
        async with self._locks.setdefault(key, asyncio.Lock()):
            cached = self._cache.get(key)
            if refresh or cached is None or not self._usable(cached, context):
                self._cache.pop(key, None)  # a refused or stale token is not handed out again
                jwt = await self._read(name, context)
                cached = self._cache[key] = _Cached(context, jwt, tokens.expires_at(jwt))
        return name, cached

    def _usable(self, cached: _Cached, context: BrowserContext) -> bool:
        left = None if cached.expires is None else cached.expires - self._clock.time()
        return cached.context is context and left is not None and left >= self._settings.browser.token_margin

    async def _read(self, name: str, context: BrowserContext) -> str:
        """A token from a Suno tab of the browser, opening the sign-in page if no tab shows a session."""
        origin = self._endpoints.site_origin
        page = next((p for p in context.pages if p.url == origin or p.url.startswith(origin + "/")), None)
        reason = "no Suno page is open"
        if page is not None:
            try:
                return await self._from_clerk(page)
            except _NoSession as exc:
                reason = str(exc)
        try:
            page = page or await context.new_page()
            await self._sign_in_page(page)
            return await self._from_clerk(page)
        except _NoSession as exc:
            reason = str(exc)
        raise CommandError(
            StudioError.SESSION_NOT_FOUND,
            f"no one is signed in to Suno in the browser of {name!r} ({reason}): "
            "LAUNCH_BROWSER with headless false and sign in",
            {"account_name": name},
        )

    async def _sign_in_page(self, page: Page) -> None:
        from playwright.async_api import Error as PlaywrightError

        url = self._endpoints.site(self._endpoints.sign_in_path)
        try:
            await page.goto(url, wait_until="domcontentloaded", timeout=self._wait_ms)
        except PlaywrightError as exc:
            raise _NoSession(f"cannot open {url}: {exc.message.splitlines()[0]}") from None

    async def _from_clerk(self, page: Page) -> str:
        from playwright.async_api import Error as PlaywrightError

        selectors = self._endpoints.selectors
        try:
            await page.wait_for_function(selectors.clerk_ready, timeout=self._wait_ms)
            jwt = await page.evaluate(selectors.clerk_token)
        except PlaywrightError as exc:
            first = exc.message.splitlines()[0] if exc.message else type(exc).__name__
            raise _NoSession(first.split(": ", 1)[-1]) from None
        if not isinstance(jwt, str) or not jwt:
            raise _NoSession("Clerk gave no token")
        return jwt

    @property
    def _wait_ms(self) -> float:
        return self._settings.browser.session_wait * 1000

    def _expiry(self, expires: float | None) -> tuple[str | None, int | None]:
        if expires is None:
            return None, None
        local = datetime.fromtimestamp(expires).isoformat(sep=" ", timespec="seconds")
        return local, max(0, int(expires - self._clock.time()))


async def _no_refresh() -> str:
    """The refresher of a client without an account: nothing can replace a refused token."""
    raise CommandError(
        StudioError.SESSION_NOT_FOUND, f"Suno refused the session token, or none was given; {_NO_SESSION}"
    )
