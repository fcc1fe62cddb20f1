"""``FETCH_CLIPS`` with ``use_create_page``: the clips Suno's create page lists, as the page itself got them.

Beside its form the create page lists the account's newest songs, including
those still being made, and refreshes the list from the feed. That answer,
caught as the page receives it, is the list: the page's own feed responses
say more than its DOM does (``reference/suno.md``). The page opens in a tab
of its own, so a song being created in the account's first tab is left alone.
"""

from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import msgspec

from deskbridge.errors import CommandError
from deskbridge.studio.browser.browsers import Browsers
from deskbridge.studio.config import BrowserSettings
from deskbridge.studio.errors import StudioError
from deskbridge.studio.suno.endpoints import Endpoints
from deskbridge.studio.suno.errors import SunoError
from deskbridge.studio.suno.models import Clip

if TYPE_CHECKING:
    from playwright.async_api import Response


class RecentClips:
    def __init__(self, browsers: Browsers, endpoints: Endpoints, settings: BrowserSettings) -> None:
        self._browsers = browsers
        self._endpoints = endpoints
        self._settings = settings

    async def __call__(self, account_name: str) -> list[Clip]:
        """The clips on the account's create page, newest first; its browser must be open."""
        from playwright.async_api import Error as PlaywrightError

        name, context = self._browsers.context(account_name)
        url = self._endpoints.site(self._endpoints.create_path)
        page = await context.new_page()
        try:
            async with page.expect_response(self._is_list, timeout=self._settings.session_wait * 1000) as listed:
                await page.goto(url, wait_until="commit")
            response = await listed.value
            status = response.status
            body = await response.body() if status == 200 else b""  # Chrome keeps no body of some errors
        except PlaywrightError as exc:
            raise CommandError(
                StudioError.SESSION_NOT_FOUND,
                f"the create page in the browser of {name!r} listed no clips "
                f"({exc.message.splitlines()[0]}): is someone signed in?",
                {"account_name": name},
            ) from None
        finally:
            await page.close()
        if status == 401:
            raise CommandError(StudioError.SESSION_NOT_FOUND, "Suno refused the create page's session: sign in again")
        if status != 200:
            raise SunoError(f"Suno answered HTTP {status} to the create page's list", status)
        try:
            return msgspec.json.decode(body, type=_Listed, strict=False).clips
        except msgspec.DecodeError as exc:
            raise SunoError(f"the create page's list was not what the studio expects: {exc}") from None

    def _is_list(self, response: Response) -> bool:
        """The page asking a feed (``feed/v2`` or ``feed/v3``) for the list."""
        return urlsplit(response.url).path in (self._endpoints.feed_path, self._endpoints.feed_v3_path)


class _Listed(msgspec.Struct):
    clips: list[Clip]
