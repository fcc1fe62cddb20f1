"""CHECK_CREATE_PAGE: does the create page still have every control the studio needs? A table, in a minute.

The check opens the account's create page in a tab of its own (a batch in
the account's first tab goes on undisturbed), selects the Advanced tab,
opens More Options and the model menu, and looks for every control through
its ways in the config, pressing nothing that submits. Each row says which
way found the control, or every way tried in vain: when Suno changes the
page, that row names the control to fix in ``studio.suno.create_page``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

import msgspec

from deskbridge.studio.creation.create_form import CreateForm, Found
from deskbridge.studio.creation.creator import PAGE_TIMEOUT_MS, Creator

if TYPE_CHECKING:
    from playwright.async_api import Page

FIRST_WAIT: Final = 20.0
"""How long the page may take to show its first control after loading."""


class ControlCheck(msgspec.Struct):
    control: str
    found: bool
    selector: str | None
    """The way that found it."""
    tried: list[str]
    """Every way in the config, in order."""


class PageCheck(msgspec.Struct):
    account_name: str
    url: str
    ok: bool
    missing: list[str]
    controls: list[ControlCheck]
    captcha_required: bool | None
    """What ``c/check`` says of the next generation (None: it could not be asked)."""
    error: str | None = None
    """Why the page could not be checked at all (it did not load)."""


class PageChecker(msgspec.Struct, frozen=True):
    creator: Creator

    async def check(self, account_name: str, workspace: str | None) -> PageCheck:
        name, context = await self.creator.browsers.opened(account_name)
        page = await context.new_page()
        try:
            return await self._check(page, name, self.creator.create_url(workspace))
        finally:
            await page.close()

    async def _check(self, page: Page, name: str, url: str) -> PageCheck:
        from playwright.async_api import Error as PageError  # Playwright loads with the first browser

        try:
            await page.goto(url, timeout=PAGE_TIMEOUT_MS)
        except PageError as exc:
            why = f"the create page did not load: {str(exc).splitlines()[0]}"
            return PageCheck(name, url, False, [], [], None, why)
        rows = await self._controls(page)
        missing = [row.control for row in rows if not row.found]
        return PageCheck(name, url, not missing, missing, rows, await self.creator.captcha_required(page))

    async def _controls(self, page: Page) -> list[ControlCheck]:
        config = self.creator.endpoints.create_page
        form = CreateForm(page, config)
        rows: list[ControlCheck] = []

        async def look(control: str, label: str | None = None, **values: str) -> Found:
            found = await form.find(control, FIRST_WAIT if not rows else config.control_wait, **values)
            rows.append(ControlCheck(label or control, found.locator is not None, found.way, found.tried))
            return found

        if (await look("advanced_tab")).locator is not None:
            await form.advanced()
        for control in ("lyrics", "styles", "title"):
            await look(control)
        if (await look("more_options")).locator is not None:
            await form.open_more_options()
        for control in ("exclude_styles", "weirdness", "style_influence", "vocal_male", "vocal_female"):
            await look(control)
        if (await look("model")).locator is not None:
            await form.open_model_menu()
            for name in config.models:
                await look("model_item", f"model_item {name}", model=name)
            await page.keyboard.press("Escape")
        await look("create")
        return rows
