"""Making songs on Suno's create page, in the account's own browser, as a person would.

Suno guards generation with captchas, so songs are made through the page.
:class:`~.create_form.CreateForm` fills the form and reads it back; only a
form that holds what was asked is submitted. Before Create, ``c/check`` says
whether Suno wants a captcha: usually it passes unseen in a signed-in
browser, and only a challenge a person can see is reported
(``WARNING_UPDATE``) and waited for, or, in a headless browser that no
person can see, fails the song with what to do instead. The Create button
posts ``/api/generate/v2-web/``; that answer names the new clips, and the
page's own feed requests say when they are done: both are read from the
network, not the DOM. A full generation queue is waited out; only a refused
or broken generation makes a song fail.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Final, Protocol
from urllib.parse import quote, urlsplit

import msgspec

from deskbridge.changes import Changed
from deskbridge.errors import CommandError
from deskbridge.operations import Operation
from deskbridge.studio.creation.create_form import CreateForm, SongFailed, Wanted
from deskbridge.studio.creation.options import AdvancedOptions
from deskbridge.studio.errors import StudioError
from deskbridge.studio.library.history import RecordIn, RecordStatus
from deskbridge.studio.library.prompts import PromptIn
from deskbridge.studio.notices import Notices
from deskbridge.studio.suno.endpoints import Endpoints

if TYPE_CHECKING:
    from playwright.async_api import BrowserContext, Locator, Page, Response

CAPTCHA_WAIT: Final = 900.0
"""How long a person has to clear a captcha."""
SUBMIT_WAIT: Final = 60.0
"""How long the page may take to send the generate request when no challenge shows (an unseen one included)."""
QUEUE_FULL_WAITS: Final = (1.0, 2.0, 5.0, 10.0, 30.0, 60.0)
"""Pauses before pressing Create again while Suno says a generation is in progress (the last repeats)."""
QUEUE_FULL_MAX: Final = 30
CLIPS_WAIT: Final = 600.0
"""How long a generation may take before its song counts as failed."""
POLL: Final = 0.1
PAGE_TIMEOUT_MS: Final = 30_000
CLERK_WAIT_MS: Final = 10_000
"""How long a loaded page may take to show its Clerk session before ``c/check`` is left to the page."""
HEADLESS_CAPTCHA: Final = (
    "Suno shows a captcha, and this account's browser is headless, so nobody can solve it: "
    "sign in to Suno in the account's browser and run it headed (LAUNCH_BROWSER with headless false)"
)
CAPTCHA_CHECK: Final = """async ([url]) => {
  const token = await window.Clerk.session.getToken();
  const answer = await fetch(url, {method: "POST", body: JSON.stringify({ctype: "generation"}),
    headers: {"Authorization": "Bearer " + token, "Content-Type": "application/json"}});
  return answer.ok ? await answer.json() : {status: answer.status};
}"""
"""``c/check`` asked by the page itself, with its own session, as the create page does before Create."""


class Song(msgspec.Struct, kw_only=True, omit_defaults=True):
    """What became of one prompt."""

    prompt_index: int
    title: str
    status: str
    """``created`` or ``failed``."""
    clip_ids: list[str] = []
    error: str | None = None


class AccountBrowsers(Protocol):
    """What creation needs of the browsers: an account's, opened if closed, and whether a person can act in it."""

    async def opened(self, account_name: str) -> tuple[str, BrowserContext]: ...

    def is_headless(self, account_name: str) -> bool: ...

    def account_name(self, account_name: str) -> str: ...


class Creator(msgspec.Struct, dict=True):
    """Fills and submits an account's create page.

    Not frozen, and with a ``__dict__``: Playwright stores its wrapper of a bound-method callback (our
    ``expect_response`` predicate) on the method's instance.
    """

    browsers: AccountBrowsers
    endpoints: Endpoints
    notices: Notices
    add_record: Callable[[RecordIn], object]
    """Files a song's record in the creation history (blocking: called in a thread)."""
    changed: Changed
    """Each record written raises STATE_CHANGED, as ADD_CREATION_RECORD does."""

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

        A page that does not behave (a control Suno moved, a field that did not take, a closed tab)
        fails this song, not the batch.
        """
        from playwright.async_api import Error as PageError  # Playwright loads with the first browser

        try:
            if clip_ids is None:
                await self.fill(page, prompt, options)
                clip_ids = await self.submit(op, page, account, prompt.title)
            await self.finished(page, clip_ids)
        except (SongFailed, PageError) as exc:
            song = Song(prompt_index=index, title=prompt.title, status="failed", error=str(exc))
            self.notices.error(
                op, StudioError.SONG_CREATION_FAILED, f"{prompt.title or 'song'}: {exc}", prompt_index=index
            )
            records = [self._record(account, index, prompt, f"failed-{uuid.uuid4()}", "failed", queue_id, str(exc))]
            await _start_over(page)
        else:
            song = Song(prompt_index=index, title=prompt.title, status="created", clip_ids=clip_ids)
            records = [self._record(account, index, prompt, clip_id, "completed", queue_id) for clip_id in clip_ids]
        for record in records:
            await asyncio.to_thread(self.add_record, record)
            self.changed("creation_history", "recorded", id=record.song_id, account_name=record.account_name)
        return song

    async def page(self, account_name: str, workspace: str | None = None) -> Page:
        """The account's create page (in ``workspace`` if given), opening its browser (headless by config) if closed."""
        _, context = await self.browsers.opened(account_name)
        page = context.pages[0] if context.pages else await context.new_page()
        await page.goto(self.create_url(workspace), timeout=PAGE_TIMEOUT_MS)
        return page

    def create_url(self, workspace: str | None) -> str:
        """The create page; Suno files what it makes in the workspace its ``wid`` names."""
        url = self.endpoints.site(self.endpoints.create_path)
        return url if workspace is None else f"{url}?wid={quote(workspace, safe='')}"

    async def fill(self, page: Page, prompt: PromptIn, options: AdvancedOptions) -> Wanted:
        """Fill the form and read it back: :class:`SongFailed` naming a field that did not take."""
        config = self.endpoints.create_page
        if too_long := config.limits.over(prompt):  # a queue's prompt, checked only now
            raise SongFailed(f"{too_long[0][1]}, and nothing is cut")
        model = None if options.model is None else config.model_key(options.model)
        form = CreateForm(page, config)
        wanted = await form.fill(prompt, options, model)
        await form.check(wanted)
        return wanted

    async def submit(self, op: Operation, page: Page, account: str, title: str) -> list[str]:
        """Press Create until Suno accepts the generation (waiting out a captcha and a full queue); its clips' ids."""
        form = CreateForm(page, self.endpoints.create_page)
        headless = self.browsers.is_headless(account)
        for attempt in range(QUEUE_FULL_MAX):
            required = await self.captcha_required(page)
            create = await form.need("create")
            await _until_enabled(create, self.endpoints.create_page.control_wait)
            async with page.expect_response(self._is_generate, timeout=0) as answer:
                await create.click()
                full = await self._until_sent(op, page, answer.is_done, title, headless=headless, required=required)
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

    async def captcha_required(self, page: Page) -> bool | None:
        """What ``c/check`` says of the next generation: None when it cannot be asked (the page will ask itself)."""
        url = self.endpoints.api(self.endpoints.captcha_check_path)
        try:
            await page.wait_for_function(self.endpoints.selectors.clerk_ready, timeout=CLERK_WAIT_MS)
            answer = await page.evaluate(CAPTCHA_CHECK, [url])
        except Exception:  # a preflight only: Create still runs the page's own check
            return None
        required = answer.get("required") if isinstance(answer, dict) else None
        return required if isinstance(required, bool) else None

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

    async def _until_sent(
        self,
        op: Operation,
        page: Page,
        answered: Callable[[], bool],
        title: str,
        *,
        headless: bool,
        required: bool | None,
    ) -> bool:
        """Wait for the generate answer, or the queue-full dialog (True).

        A challenge a person can see, once it has stayed in sight ``challenge_grace`` seconds (a widget
        that checks and passes by itself shows only briefly), is a ``WARNING_UPDATE`` and a wait in a
        headed browser, and fails the song in a headless one; an unseen one (hidden, no size) is Suno
        checking quietly, and is waited out.
        """
        config = self.endpoints.create_page
        frames = page.locator(
            ", ".join(f'iframe[src*="{m}" i], iframe[title*="{m}" i]' for m in config.captcha_markers)
        )
        warned, deadline, seen = False, time.monotonic() + SUBMIT_WAIT, None
        while not answered():
            if await self._queue_full(page):
                return True
            if not warned:
                shown = await frames.filter(visible=True).count()
                seen = (seen or time.monotonic()) if shown else None
            if seen is not None and not warned and time.monotonic() - seen >= config.challenge_grace:
                if headless:
                    raise SongFailed(HEADLESS_CAPTCHA)
                warned, deadline = True, time.monotonic() + CAPTCHA_WAIT
                self.notices.warning(
                    op, "CAPTCHA_REQUIRED", f"Suno asks for a captcha before creating {title!r}: "
                    "solve it in the account's browser", title=title,
                )  # fmt: skip
            if time.monotonic() > deadline:
                raise SongFailed(self._nothing_sent(warned, headless=headless, required=required))
            await asyncio.sleep(POLL)
        return await self._queue_full(page)

    @staticmethod
    def _nothing_sent(warned: bool, *, headless: bool, required: bool | None) -> str:
        if warned:
            return f"nobody cleared the captcha within {CAPTCHA_WAIT:g} s"
        late = f"the page sent nothing within {SUBMIT_WAIT:g} s of Create"
        if required is None:
            return f"{late}, and it showed no Suno session to ask c/check with: is the account signed in?"
        return f"{late}; Suno asked for a captcha: {HEADLESS_CAPTCHA}" if required and headless else late

    async def _queue_full(self, page: Page) -> bool:
        config = self.endpoints.create_page
        return await page.locator(config.dialog).filter(has_text=config.queue_full_text).first.is_visible()

    async def _close_dialog(self, page: Page) -> None:
        config = self.endpoints.create_page
        dialog = page.locator(config.dialog).filter(has_text=config.queue_full_text)
        if await dialog.first.is_visible():
            await dialog.first.get_by_role("button").first.click()


async def _until_enabled(button: Locator, wait: float) -> None:
    """Wait for the page to enable its Create button for the form it now holds (it may take a moment)."""
    deadline = time.monotonic() + wait
    while not await button.is_enabled():
        if time.monotonic() > deadline:
            raise SongFailed("the Create button stays disabled: the page does not accept the form")
        await asyncio.sleep(POLL)


async def _start_over(page: Page) -> None:
    """Load the page afresh after a failed song, so nothing it left behind (a half-filled form, a challenge
    still waiting to submit) can reach Suno later."""
    from playwright.async_api import Error as PageError

    with contextlib.suppress(PageError):  # a closed tab: the next song reports it
        await page.reload(timeout=PAGE_TIMEOUT_MS)


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
