"""Making songs on Suno's create page, in the account's own browser, as a person would.

Suno guards generation with captchas, so songs are made through the page:
the lyrics editor is contenteditable (typed into, never given a ``.value``),
the sliders move only under a real mouse drag, and the Create button posts
``/api/generate/v2-web/``. That request's answer names the new clips, and
the page's own feed requests say when they are done: both are read from the
network, not the DOM. A captcha or a full generation queue is reported as a
``WARNING_UPDATE`` and waited out; only a refused or broken generation makes
a song fail. Every selector and path comes from :mod:`.suno.endpoints`.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, Any, Final
from urllib.parse import urlsplit

import msgspec

from deskbridge.errors import CommandError
from deskbridge.operations import Operation
from deskbridge.studio.browser.browsers import Browsers
from deskbridge.studio.errors import StudioError
from deskbridge.studio.library.history import CreationHistory, RecordIn, RecordStatus
from deskbridge.studio.library.prompts import PromptIn
from deskbridge.studio.notices import Notices
from deskbridge.studio.suno.endpoints import Endpoints

if TYPE_CHECKING:
    from playwright.async_api import Page, Response

MODELS: Final = {
    "v3.5": "chirp-v3-5",
    "v4": "chirp-v4",
    "v4.5": "chirp-auk",
    "v4.5+": "chirp-bluejay",
    "v5": "chirp-crow",
    "v5.5": "chirp-fenix",
}
"""The names people use for Suno's models, and the keys the page sends as ``mv``."""
CAPTCHA_WAIT: Final = 900.0
"""How long a person has to clear a captcha."""
SUBMIT_WAIT: Final = 60.0
"""How long the page may take to send the generate request when no captcha shows (a signed-out page never does)."""
QUEUE_FULL_WAITS: Final = (1.0, 2.0, 5.0, 10.0, 30.0, 60.0)
"""Pauses before pressing Create again while Suno says a generation is in progress (the last repeats)."""
QUEUE_FULL_MAX: Final = 30
CLIPS_WAIT: Final = 600.0
"""How long a generation may take before its song counts as failed."""
POLL: Final = 0.1
PAGE_TIMEOUT_MS: Final = 30_000

Percent = Annotated[int, msgspec.Meta(ge=0, le=100)]
ModelName = Annotated[str, msgspec.Meta(min_length=1, max_length=40)]


class AdvancedOptions(msgspec.Struct, kw_only=True, omit_defaults=True, forbid_unknown_fields=True):
    """The create page's advanced options; what is left out keeps the page's own setting."""

    weirdness: Percent | None = None
    creativity: Percent | None = None
    """Shown by Suno as "Style influence"."""
    model: ModelName | None = None
    """A name (``v4.5``) or a key (``chirp-auk``)."""
    exclude_styles: str | None = None

    def model_key(self) -> str | None:
        return None if self.model is None else MODELS.get(self.model.lower(), self.model)


class Song(msgspec.Struct, kw_only=True, omit_defaults=True):
    """What became of one prompt."""

    prompt_index: int
    title: str
    status: str
    """``created`` or ``failed``."""
    clip_ids: list[str] = []
    error: str | None = None


class SongFailed(Exception):
    """This prompt could not be made; the others may still be."""


@dataclass
class Creator:
    """Fills and submits an account's create page (not frozen: Playwright tags the callbacks it is given)."""

    browsers: Browsers
    endpoints: Endpoints
    notices: Notices
    history: CreationHistory

    async def song(
        self,
        op: Operation,
        page: Page,
        account: str,
        index: int,
        prompt: PromptIn,
        options: AdvancedOptions,
        queue_id: str | None = None,
        clip_ids: list[str] | None = None,
    ) -> Song:
        """Make one prompt's song (or await ``clip_ids``, made earlier) and record it in the creation history.

        A page that does not behave (a selector Suno renamed, a closed tab) fails this song, not the batch.
        """
        from playwright.async_api import Error as PageError  # Playwright loads with the first browser

        try:
            if clip_ids is None:
                await self.fill(page, prompt, options)
                clip_ids = await self.submit(op, page, prompt.title)
            await self.finished(page, clip_ids)
        except (SongFailed, PageError) as exc:
            song = Song(prompt_index=index, title=prompt.title, status="failed", error=str(exc))
            self.notices.error(
                op, StudioError.SONG_CREATION_FAILED, f"{prompt.title or 'song'}: {exc}", prompt_index=index
            )
            records = [self._record(account, index, prompt, f"failed-{uuid.uuid4()}", "failed", queue_id, str(exc))]
        else:
            song = Song(prompt_index=index, title=prompt.title, status="created", clip_ids=clip_ids)
            records = [self._record(account, index, prompt, clip_id, "completed", queue_id) for clip_id in clip_ids]
        for record in records:
            await asyncio.to_thread(self.history.add, record)
        return song

    async def page(self, account_name: str) -> Page:
        """The account's create page, opening the account's browser (headless by config) if it is closed."""
        if not self.browsers.is_open(account_name):
            await self.browsers.launch(account_name, None)
        _, context = self.browsers.context(account_name)
        page = context.pages[0] if context.pages else await context.new_page()
        await page.goto(self.endpoints.site(self.endpoints.create_path), timeout=PAGE_TIMEOUT_MS)
        return page

    async def fill(self, page: Page, prompt: PromptIn, options: AdvancedOptions) -> None:
        """Put the prompt and the options in the form, each the way the page accepts input."""
        chosen = self.endpoints.selectors
        await page.get_by_text(chosen.advanced_tab, exact=True).first.click()
        lyrics = page.locator(", ".join(chosen.lyrics)).first
        await lyrics.click()
        await page.keyboard.press("ControlOrMeta+a")
        await page.keyboard.press("Delete")
        if prompt.lyrics:
            await page.keyboard.insert_text(prompt.lyrics)
        await page.locator(chosen.styles).locator("textarea, input, [contenteditable]").first.fill(prompt.style)
        await page.locator(f'input[placeholder*="{chosen.title_placeholder}"]').first.fill(prompt.title)
        if options.exclude_styles is not None:
            field = f'input[placeholder*="{chosen.exclude_styles}"], textarea[placeholder*="{chosen.exclude_styles}"]'
            await page.locator(field).first.fill(options.exclude_styles)
        if options.weirdness is not None:
            await self._drag(page, chosen.weirdness_labels, options.weirdness)
        if options.creativity is not None:
            await self._drag(page, chosen.style_influence_labels, options.creativity)
        if (model := options.model_key()) is not None:
            await page.locator(chosen.model_picker).first.select_option(value=model)

    async def submit(self, op: Operation, page: Page, title: str) -> list[str]:
        """Press Create until Suno accepts the generation (waiting out captchas and a full queue); its clips' ids."""
        for attempt in range(QUEUE_FULL_MAX):
            async with page.expect_response(self._is_generate, timeout=0) as answer:
                await page.get_by_role("button", name=self.endpoints.selectors.submit_text, exact=True).click()
                full = await self._until_sent(op, page, answer.is_done, title)
            response = await answer.value if answer.is_done() else None
            if full or response is None or response.status == 429:
                wait = QUEUE_FULL_WAITS[min(attempt, len(QUEUE_FULL_WAITS) - 1)]
                self.notices.warning(
                    op, "QUEUE_FULL", f"Suno has a generation in progress; trying {title!r} again in {wait:g} s",
                    title=title, retry_in=wait,
                )  # fmt: skip
                await self._close_dialog(page)
                await asyncio.sleep(wait)
                continue
            if not response.ok:
                raise SongFailed(f"Suno refused the generation: HTTP {response.status} {await _detail(response)}")
            clips = (await response.json()).get("clips") or []
            ids = [str(clip["id"]) for clip in clips if isinstance(clip, dict) and clip.get("id")]
            if not ids:
                raise SongFailed("Suno accepted the generation but named no clips")
            return ids
        raise SongFailed(f"Suno's generation queue stayed full after {QUEUE_FULL_MAX} tries")

    async def finished(self, page: Page, clip_ids: list[str]) -> None:
        """Wait until the page's feed requests show every clip complete; a clip in error fails the song."""
        pending, deadline = set(clip_ids), time.monotonic() + CLIPS_WAIT
        while pending:
            left = deadline - time.monotonic()
            if left <= 0:
                raise SongFailed(f"the new clips were not ready after {CLIPS_WAIT:g} s")
            response = await page.wait_for_event("response", self._is_feed, timeout=left * 1000)
            for clip in _clips_in(await _json(response)):
                if clip.get("id") in pending and clip.get("status") == "error":
                    raise SongFailed(f"Suno could not make clip {clip['id']}")
                if clip.get("id") in pending and clip.get("status") == "complete":
                    pending.discard(clip["id"])

    # -- internals ------------------------------------------------------------------

    @staticmethod
    def _record(
        account: str,
        index: int,
        prompt: PromptIn,
        song_id: str,
        status: RecordStatus,
        queue_id: str | None,
        error: str | None = None,
    ) -> RecordIn:
        return RecordIn(
            song_id=song_id, title=prompt.title, prompt_index=index, account_name=account, status=status,
            lyrics=prompt.lyrics, style=prompt.style, tags=prompt.tags, queue_id=queue_id, error=error,
        )  # fmt: skip

    def _is_generate(self, response: Response) -> bool:
        return response.request.method == "POST" and response.url.split("?", 1)[0].endswith(
            self.endpoints.generate_path
        )

    def _is_feed(self, response: Response) -> bool:
        """Any of the feed routes (``feed/v2``, ``feed/v3``, ``feed/?ids=``) the page polls, answered."""
        path = urlsplit(response.url).path
        feeds = (self.endpoints.feed_path, self.endpoints.feed_v3_path, self.endpoints.feed_ids_path)
        return response.ok and path in feeds

    async def _drag(self, page: Page, labels: tuple[str, ...], percent: int) -> None:
        """A real mouse drag from the slider's middle to ``percent`` of its width (the page ignores scripted values)."""
        chosen = self.endpoints.selectors
        slider = page.locator(", ".join(f'{chosen.slider}[aria-label*="{label}" i]' for label in labels)).first
        await slider.scroll_into_view_if_needed()
        box = await slider.bounding_box()
        if box is None:
            raise SongFailed(f"the {labels[0]} slider is not on the page")
        middle = box["y"] + box["height"] / 2
        await page.mouse.move(box["x"] + box["width"] / 2, middle)
        await page.mouse.down()
        await page.mouse.move(box["x"] + box["width"] * percent / 100, middle, steps=5)
        await page.mouse.up()

    async def _until_sent(self, op: Operation, page: Page, answered: Callable[[], bool], title: str) -> bool:
        """Wait for the generate answer, or the queue-full dialog (True); a captcha meanwhile waits for a person."""
        markers = self.endpoints.selectors.captcha_markers
        frames = page.locator(", ".join(f'iframe[src*="{m}" i], iframe[title*="{m}" i]' for m in markers))
        warned, deadline = False, time.monotonic() + SUBMIT_WAIT
        while not answered():
            if await self._queue_full(page):
                return True
            if not warned and await frames.count():
                warned, deadline = True, time.monotonic() + CAPTCHA_WAIT
                self.notices.warning(
                    op, "CAPTCHA_REQUIRED", f"Suno asks for a captcha before creating {title!r}: "
                    "solve it in the account's browser (LAUNCH_BROWSER with headless false)", title=title,
                )  # fmt: skip
            if time.monotonic() > deadline:
                late = f"nobody cleared the captcha within {CAPTCHA_WAIT:g} s"
                raise SongFailed(late if warned else f"the page sent nothing within {SUBMIT_WAIT:g} s of Create")
            await asyncio.sleep(POLL)
        return await self._queue_full(page)

    async def _queue_full(self, page: Page) -> bool:
        chosen = self.endpoints.selectors
        return await page.locator(chosen.dialog).filter(has_text=chosen.queue_full_text).first.is_visible()

    async def _close_dialog(self, page: Page) -> None:
        dialog = page.locator(self.endpoints.selectors.dialog).filter(has_text=self.endpoints.selectors.queue_full_text)
        if await dialog.first.is_visible():
            await dialog.first.get_by_role("button").first.click()


def _clips_in(body: Any) -> list[dict[str, Any]]:
    """The clips of any feed answer: a list (``feed/?ids=``) or ``{clips: [...]}`` (``feed/v2``, ``v3``)."""
    clips = body.get("clips") if isinstance(body, dict) else body
    return [clip for clip in clips if isinstance(clip, dict)] if isinstance(clips, list) else []


async def _json(response: Response) -> Any:
    try:
        return await response.json()
    except Exception:  # a feed answer the page could not use either: wait for the next one
        return None


async def _detail(response: Response) -> str:
    body = await _json(response)
    return str(body.get("detail", "")) if isinstance(body, dict) else ""


def batch_failed(songs: list[Song]) -> CommandError:
    return CommandError(
        StudioError.BATCH_CREATION_FAILED,
        f"none of the {len(songs)} songs could be made",
        {"songs": msgspec.to_builtins(songs)},
    )
