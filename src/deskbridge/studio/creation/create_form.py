"""The create page's form, driven the way a person does: by roles and names, typing, keys, menus.

Every control is found through its list of ways in the config
(:class:`~deskbridge.studio.suno.create_page.Controls`), visible elements
only, so the hidden duplicate of the title is never filled. More Options is
opened only when one of its options is asked for; the lyrics are typed line
by line (a bulk insert of many lines becomes one paragraph in Suno's
editor); sliders move by keyboard. :meth:`CreateForm.check` then reads back
what the page holds, and a field that did not take fails the song before
Create is pressed.
"""

from __future__ import annotations

import asyncio
import time
from typing import TYPE_CHECKING, Final, cast

import msgspec

from deskbridge.studio.creation.options import AdvancedOptions
from deskbridge.studio.library.prompts import PromptIn
from deskbridge.studio.suno.create_page import CreatePage, Locate

if TYPE_CHECKING:
    from playwright._impl.internal_structures import AriaRole
    from playwright.async_api import Locator, Page

POLL: Final = 0.1


class SongFailed(Exception):
    """This prompt could not be made; the others may still be."""


class Found(msgspec.Struct):
    """Where a control was found (``locator``, through ``way``), or every way tried in vain."""

    control: str
    locator: Locator | None = None
    way: str | None = None
    tried: list[str] = msgspec.field(default_factory=list)


class Wanted(msgspec.Struct, frozen=True):
    """What the form should hold once filled, as the page shows it."""

    title: str
    style: str
    lines: list[str]
    exclude_styles: str | None
    weirdness: int | None
    style_influence: int | None
    vocal_gender: str | None
    model: str | None


def lyric_lines(lyrics: str) -> list[str]:
    """The lines of lyrics as the editor holds them: one per paragraph, trailing blanks and spaces dropped."""
    lines = [line.rstrip() for line in lyrics.replace("\r\n", "\n").replace("\r", "\n").split("\n")]
    while lines and not lines[-1]:
        lines.pop()
    return lines


class CreateForm:
    def __init__(self, page: Page, config: CreatePage) -> None:
        self.page = page
        self.config = config

    async def find(self, control: str, wait: float, **values: str) -> Found:
        """The first visible element one of the control's ways finds, waiting up to ``wait`` seconds for one."""
        ways = [way.filled(**values) for way in getattr(self.config.controls, control)]
        tried = [way.describe() for way in ways]
        deadline = time.monotonic() + wait
        while True:
            for index, way in enumerate(ways):
                if await self._visible(way).count():
                    # the page may have rendered while the ways were tried: an earlier way wins
                    for earlier in ways[:index]:
                        if await self._visible(earlier).count():
                            return Found(control, self._visible(earlier), earlier.describe(), tried)
                    return Found(control, self._visible(way), way.describe(), tried)
            if time.monotonic() >= deadline:
                return Found(control, tried=tried)
            await asyncio.sleep(POLL)

    def _visible(self, way: Locate) -> Locator:
        return self._locator(way).filter(visible=True).first

    async def need(self, control: str, **values: str) -> Locator:
        """The control, or :class:`SongFailed` naming it and every way tried."""
        found = await self.find(control, self.config.control_wait, **values)
        if found.locator is None:
            raise SongFailed(f"the create page has no {_label(control)} (tried {'; '.join(found.tried)})")
        return found.locator

    def _locator(self, way: Locate) -> Locator:
        page = self.page
        if way.role is not None:
            role = cast("AriaRole", way.role)
            return page.get_by_role(role, name=way.name, exact=way.exact) if way.name else page.get_by_role(role)
        if way.placeholder is not None:
            return page.get_by_placeholder(way.placeholder, exact=way.exact)
        if way.label is not None:
            return page.get_by_label(way.label, exact=way.exact)
        return page.locator(way.css or "")

    # -- filling -----------------------------------------------------------------

    async def fill(self, prompt: PromptIn, options: AdvancedOptions, model: str | None) -> Wanted:
        """Put the prompt and the options in the form; what it should now hold (``model``: a key or None)."""
        wanted = Wanted(
            title=prompt.title, style=prompt.style, lines=lyric_lines(prompt.lyrics),
            exclude_styles=options.exclude_styles, weirdness=options.weirdness,
            style_influence=options.creativity, vocal_gender=options.vocal_gender,
            model=None if model is None else self.config.model_name(model),
        )  # fmt: skip
        await self.advanced()
        await self._type_lyrics(wanted.lines)
        await (await self.need("styles")).fill(wanted.style)
        await (await self.need("title")).fill(wanted.title)
        if options.needs_more_options():
            await self.open_more_options()
            if wanted.exclude_styles is not None:
                await (await self.need("exclude_styles")).fill(wanted.exclude_styles)
            if wanted.weirdness is not None:
                await self._slide(await self.need("weirdness"), wanted.weirdness)
            if wanted.style_influence is not None:
                await self._slide(await self.need("style_influence"), wanted.style_influence)
            if wanted.vocal_gender is not None:
                voice = await self.need(f"vocal_{wanted.vocal_gender}")
                if not await _pressed(voice):  # a toggle: pressing it again would unset it
                    await voice.click()
        if wanted.model is not None:
            await self.choose_model(wanted.model)
        return wanted

    async def advanced(self) -> None:
        """Select the Advanced tab (the custom form) unless it is selected."""
        tab = await self.need("advanced_tab")
        if await tab.get_attribute("aria-selected") != "true":
            await tab.click()

    async def open_more_options(self) -> None:
        toggle = await self.need("more_options")
        if await toggle.get_attribute("aria-expanded") != "true":
            await toggle.click()

    async def open_model_menu(self) -> Locator:
        button = await self.need("model")
        if await button.get_attribute("aria-expanded") != "true":
            await button.click()
        return button

    async def choose_model(self, name: str) -> None:
        """Pick ``name`` from the model menu unless the model button already shows it."""
        button = await self.need("model")
        if (await button.inner_text()).strip() == name:
            return
        await self.open_model_menu()
        await (await self.need("model_item", model=name)).click()

    async def _type_lyrics(self, lines: list[str]) -> None:
        """Clear the editor, then type each line and press Enter between them (a paragraph each)."""
        editor = await self.need("lyrics")
        await editor.click()
        keyboard = self.page.keyboard
        await keyboard.press("ControlOrMeta+a")
        await keyboard.press("Delete")
        for index, line in enumerate(lines):
            if index:
                await keyboard.press("Enter")
            if line:
                await keyboard.insert_text(line)

    async def _slide(self, slider: Locator, percent: int) -> None:
        """Move a slider with its keys (Home, then PageUp by tens and ArrowRight by ones), as Suno's sliders allow."""
        await slider.focus()
        keyboard = self.page.keyboard
        await keyboard.press("Home")
        for _ in range(percent // 10):
            await keyboard.press("PageUp")
        for _ in range(percent % 10):
            await keyboard.press("ArrowRight")

    # -- checking ----------------------------------------------------------------

    async def check(self, wanted: Wanted) -> None:
        """Read every filled field back; :class:`SongFailed` naming the ones that did not take."""
        wrong: list[str] = []
        title = await (await self.need("title")).input_value()
        if title != wanted.title:
            wrong.append(f"the title shows {title!r} instead of {wanted.title!r}")
        style = await _text_of(await self.need("styles"))
        if style != wanted.style:
            wrong.append(f"the style shows {_short(style)!r} instead of {_short(wanted.style)!r}")
        lines = await self._lines()
        if lines != wanted.lines:
            wrong.append(_lines_differ(lines, wanted.lines))
        if wanted.exclude_styles is not None:
            exclude = await (await self.need("exclude_styles")).input_value()
            if exclude != wanted.exclude_styles:
                wrong.append(f"the exclude styles show {exclude!r} instead of {wanted.exclude_styles!r}")
        for control, percent in (("weirdness", wanted.weirdness), ("style_influence", wanted.style_influence)):
            if percent is not None:
                now = await (await self.need(control)).get_attribute("aria-valuenow")
                if now != str(percent):
                    wrong.append(f"the {_label(control)} shows {now} instead of {percent}")
        if wanted.vocal_gender is not None and not await _pressed(await self.need(f"vocal_{wanted.vocal_gender}")):
            wrong.append(f"the vocal gender is not {wanted.vocal_gender}")
        if wanted.model is not None:
            shown = (await (await self.need("model")).inner_text()).strip()
            if shown != wanted.model:
                wrong.append(f"the model shows {shown!r} instead of {wanted.model!r}")
        if wrong:
            raise SongFailed("the form did not take what was typed, so nothing was submitted: " + "; ".join(wrong))

    async def _lines(self) -> list[str]:
        editor = await self.need("lyrics")
        paragraphs = editor.locator(self.config.paragraph)
        if not await paragraphs.count():  # a plain textarea, as the page had before
            return lyric_lines(await _text_of(editor))
        return lyric_lines("\n".join(text.replace("\n", "") for text in await paragraphs.all_text_contents()))


async def _text_of(element: Locator) -> str:
    """The value of an input or textarea, the text of anything else."""
    text: str = await element.evaluate("el => ('value' in el) ? el.value : el.innerText")
    return text


async def _pressed(button: Locator) -> bool:
    """Whether a toggle button is on, however the page says it."""
    state: str | None = await button.evaluate(
        "el => el.getAttribute('aria-pressed') ?? el.getAttribute('aria-checked') ?? el.getAttribute('data-selected')"
    )
    return state == "true"


def _label(control: str) -> str:
    return {"create": "Create button", "model": "model menu button", "model_item": "model in the menu"}.get(
        control, control.replace("_", " ")
    )


def _short(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _lines_differ(held: list[str], wanted: list[str]) -> str:
    if len(held) != len(wanted):
        return f"the lyrics show {len(held)} line(s) instead of {len(wanted)}"
    index = next(i for i, (got, want) in enumerate(zip(held, wanted, strict=True)) if got != want)
    return f"lyrics line {index + 1} shows {_short(held[index])!r} instead of {_short(wanted[index])!r}"
