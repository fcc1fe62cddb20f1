"""Downloading songs from Suno to disk: the engine behind ``DOWNLOAD_CLIP`` and ``BATCH_DOWNLOAD``.

::

    downloader = Downloader(http, suno_client, prepare_interval=2.0, prepare_timeout=180.0)
    options = DownloadOptions(format="wav", with_thumbnail=True, sidecar=True, file_times=True)
    unlocking = Unlocking(gate=AllowanceGate(usage, authorize=True, needed=3),   # what may be spent
                          known=unlocked_before, on_unlocked=remember)          # clip_id -> bool, clip_id -> None
    result = await downloader.download(clip, "/music", options=options, unlocking=unlocking,
                                       original=clip_as_suno_gave_it, on_progress=report, check=op.check)
    results = await downloader.download_batch(clips, "/music", options=options, unlocking=unlocking,
                                               originals=by_id, delay=2.0, parallel=4,
                                               already_downloaded=history_has,      # clip_id -> bool
                                               on_progress=batch_event,              # BATCH_DOWNLOAD_PROGRESS
                                               on_file_progress=report,              # DOWNLOAD_PROGRESS, Preparing
                                               on_complete=record_in_history,        # (clip, path)
                                               check=op.check)

A file is streamed to ``<name>.<format>.part`` and becomes
``<name>.<format>`` only once it is whole and checked: status 200 (206 on a
resume), as many bytes as announced, a content type its kind accepts, the
first bytes of its kind rather than an HTML page, a JSON error or another
kind (:mod:`.formats`), and whole: an MP3's last frame not cut
(:mod:`.audiocheck`'s check, made on the bytes as they come by
:mod:`.framechain`), a WAV's chunks or an M4A/MP4's boxes adding up to the
file. Without ``unlocking`` nothing is ever authorized; a locked clip goes
through the allowance's gate (:mod:`.allowance`) before Suno is asked to
unlock it, then Suno prepares the file (:mod:`.preparation`). A dropped connection
resumes with ``Range`` where it stopped; 429 and 5xx are retried with
backoff (:class:`~deskbridge.studio.suno.retry.RetryPolicy`); a CDN's first
403 is retried once (Suno's CDN does that); redirects are followed. An MP3's
ID3 tags and cover (:mod:`.tagging`) go at the start of the ``.part``,
before the audio (see :class:`PartFile`); the other formats are tagged once
whole; a sidecar ``.json`` and the song's creation time as the file's are
the backup's options (:mod:`.sidecar`); a failed or cancelled download leaves
no ``.part`` behind. ``DOWNLOAD_PROGRESS`` comes at most every
``PROGRESS_INTERVAL`` seconds per file, and once at the end.

The MP3s and covers come over aiohttp (:mod:`.http_fetch`: through httpx
the batch ran at a third of curl's speed), one session per call, shaped
after the ``httpx.AsyncClient`` given, which still carries Suno's API.

Names come from titles (:mod:`.filenames`): a clash gets `` (2)``, a symbolic
link planted at the target name is treated as taken, and no path can leave
``output_dir``. The ``.part`` is locked while it is written
(:mod:`~deskbridge.studio.library.locked_temp`): one that a killed backend left (a plain file whose
lock is free) is removed by the next download of that name, which keeps the
name; one being written now, here or by another process, is a name taken.
Clips whose ``audio_url`` is Suno's ``/api/forbidden`` placeholder go
through the authorized route, and a clip the caller says is already
downloaded is never authorized again (Suno meters authorizations).

The batch runs up to ``parallel`` downloads at once and starts them at
least ``delay`` seconds apart; clips already downloaded are skipped without a
request. A clip whose finished file is already in ``output_dir`` (a backend
killed between the rename and ``on_complete``) is adopted without a request
either: reported ``downloaded`` with ``adopted`` set, handed to
``on_complete``, never fetched again as ``Title (2).mp3``. Adopted are only
regular files (a link is never followed) under one of the names the clip
would get (its stem, then `` (2)``... up to the first free one, as
:func:`.reserve` walks them), whose ID3 ``WOAR`` is this clip's page exactly
as :mod:`.tagging` wrote it before the rename, and whose last MPEG frame is
whole (:func:`~.folder.finished_file`); anything else, another clip's file of the
same title included, is a name taken as before. ``DOWNLOAD_CLIP``
(:meth:`Downloader.download`) adopts nothing: it fetches what it is asked
for. A clip that fails is reported (``DOWNLOAD_FAILED`` and why) and the
others go on, also when the disk refuses its file (full, read-only, no
permission: :func:`~.failures.disk_failure`); ``on_complete`` runs only for files
that are complete and renamed, so a history fed by it never lists a file
that is not there. A dead session (``SESSION_NOT_FOUND``) or a
cancellation (``check`` raising, or the task being cancelled) stops the
whole batch.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final, TypeVar
from urllib.parse import urlsplit

import httpx
import msgspec
from mutagen import MutagenError

from deskbridge.errors import CommandError
from deskbridge.studio.downloads import sidecar
from deskbridge.studio.downloads.allowance import AllowanceGate
from deskbridge.studio.downloads.failures import disk_failure, failed, writing
from deskbridge.studio.downloads.filenames import song_stem
from deskbridge.studio.downloads.folder import finished_file, prepare_output_dir, publish, reserve
from deskbridge.studio.downloads.formats import KINDS, FileKind
from deskbridge.studio.downloads.part_file import CoverOutcome, PartFile
from deskbridge.studio.downloads.preparation import INTERVAL, TIMEOUT, Preparation
from deskbridge.studio.downloads.results import (
    ClipOutcome,
    DownloadOptions,
    DownloadResult,
    FileProgress,
    Preparing,
    Tally,
)
from deskbridge.studio.downloads.tagging import Cover, tag_file, write_tags
from deskbridge.studio.errors import StudioError
from deskbridge.studio.fields import invalid
from deskbridge.studio.suno.api import SunoClient
from deskbridge.studio.suno.errors import SunoError
from deskbridge.studio.suno.models import UNFINISHED, Clip, Format
from deskbridge.studio.suno.retry import RETRY_STATUSES, RetryPolicy

if TYPE_CHECKING:
    import aiohttp

Progress = Callable[[FileProgress | Preparing], None]
Known = Callable[[str], bool]
Outcomes = Callable[[ClipOutcome], None]
Check = Callable[[], None]
OnComplete = Callable[[Clip, Path], None]
Sleep = Callable[[float], Awaitable[None]]
T = TypeVar("T")

COVER_TYPES: Final = {b"\xff\xd8\xff": "image/jpeg", b"\x89PNG\r\n\x1a\n": "image/png"}
COVER_MAX_BYTES: Final = 10 * 1024 * 1024
_NO_ENCODING: Final = {"Accept-Encoding": "identity"}
PROGRESS_INTERVAL: Final = 0.25
"""Seconds between two ``DOWNLOAD_PROGRESS`` of one file (the last one is always sent)."""


class _Retry(Exception):
    """This try failed in a way that another try may not."""

    def __init__(self, reason: str, retry_after: str | None = None) -> None:
        super().__init__(reason)
        self.retry_after = retry_after


def _never(clip_id: str) -> bool:
    return False


def _no_check() -> None:
    return None


class Unlocking(msgspec.Struct):
    """What may be spent on a download: the allowance's gate, and what is known to be unlocked already."""

    gate: AllowanceGate
    known: Known = msgspec.field(default=_never)
    """Clips unlocked before (the download history in any format, an earlier run's authorizations)."""
    on_unlocked: Callable[[str], None] | None = None
    """Told each clip this download authorized, before its file is fetched: a run killed later never pays twice."""


_DEFAULTS: Final = DownloadOptions()


def _spend_nothing() -> Unlocking:
    """What a download may spend when nobody said: nothing."""
    return Unlocking(gate=AllowanceGate(None, authorize=False, needed=0))


async def _no_cover() -> CoverOutcome:
    return None, None


class _Meter:
    """Turns bytes received into ``DOWNLOAD_PROGRESS`` fields, at most every ``PROGRESS_INTERVAL`` and at the end."""

    def __init__(self, clip_id: str, file_name: str, report: Progress | None, clock: Callable[[], float]) -> None:
        self._clip_id = clip_id
        self._file_name = file_name
        self._report = report
        self._clock = clock
        self._started = self._last = clock()
        self._reported = -1

    def __call__(self, downloaded: int, total: int | None, *, final: bool = False) -> None:
        if self._report is None or downloaded == self._reported:
            return
        now = self._clock()
        if not final and now - self._last < PROGRESS_INTERVAL:
            return
        self._last, self._reported = now, downloaded
        elapsed = max(now - self._started, 1e-6)
        self._report(
            FileProgress(
                clip_id=self._clip_id,
                file_name=self._file_name,
                downloaded=downloaded,
                total=total or 0,
                progress=min(100, downloaded * 100 // total) if total else 0,
                speed=round(downloaded / elapsed, 1),
            )
        )


class Downloader:
    def __init__(
        self,
        http: httpx.AsyncClient,
        suno: SunoClient,
        *,
        retry: RetryPolicy | None = None,
        prepare_interval: float = INTERVAL,
        prepare_timeout: float = TIMEOUT,
        sleep: Sleep = asyncio.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._http = http
        self._suno = suno
        self._endpoints = suno.endpoints
        self._retry = retry or RetryPolicy()
        self._sleep = sleep
        self._clock = clock
        self._preparation = Preparation(
            suno, self._retry, sleep, clock, interval=prepare_interval, timeout=prepare_timeout
        )

    def needs_authorization(self, clip: Clip, fmt: Format, known: Known = _never) -> bool:
        """Whether downloading ``clip`` in ``fmt`` would spend one of Suno's downloads.

        Not when Suno says it is unlocked, when it is ``known`` (the history,
        an earlier run), nor for the MP3 of an old clip that the CDN still
        serves at its ``audio_url``.
        """
        if fmt == "mp3" and clip.audio_url and not self._endpoints.is_forbidden_audio(clip.audio_url):
            return False
        return clip.is_download_unlocked is not True and not known(clip.id)

    # -- the two commands ------------------------------------------------------

    async def download(
        self,
        clip: Clip,
        output_dir: str | Path,
        *,
        options: DownloadOptions = _DEFAULTS,
        unlocking: Unlocking | None = None,
        original: dict[str, Any] | None = None,
        on_progress: Progress | None = None,
        check: Check = _no_check,
    ) -> DownloadResult:
        """Download one clip; ``DOWNLOAD_FAILED`` (or ``CLIP_NOT_FOUND``, ``SESSION_NOT_FOUND``) if it cannot be.

        Without ``unlocking``, nothing is ever authorized.
        """
        directory = prepare_output_dir(output_dir)
        async with _files_session(self._http) as files:
            return await self._download(
                files, clip, directory, options, unlocking or _spend_nothing(), original, on_progress, check
            )

    async def download_batch(
        self,
        clips: Sequence[Clip],
        output_dir: str | Path,
        *,
        options: DownloadOptions = _DEFAULTS,
        unlocking: Unlocking | None = None,
        originals: Mapping[str, dict[str, Any]] | None = None,
        delay: float = 0.0,
        parallel: int = 4,
        already_downloaded: Known = _never,
        on_progress: Outcomes | None = None,
        on_file_progress: Progress | None = None,
        on_complete: OnComplete | None = None,
        check: Check = _no_check,
    ) -> list[DownloadResult]:
        """Download many clips; one :class:`DownloadResult` per clip, in the order given.

        ``on_progress`` gets a :class:`ClipOutcome` when a clip starts (no
        ``result`` yet) and one when it ends (``downloaded``, ``skipped`` or
        ``failed``), each with the batch's :class:`Tally` at that moment;
        ``on_file_progress`` gets each file's bytes as they come
        (:class:`FileProgress`), and :class:`Preparing` while Suno makes it.
        ``originals`` are the clips as Suno gave them (by id), for the sidecars.
        """
        if parallel < 1:
            raise invalid("$.parallel", "parallel must be at least 1")
        directory = prepare_output_dir(output_dir)
        spending = unlocking or _spend_nothing()
        results: list[DownloadResult | None] = [None] * len(clips)
        slots = asyncio.Semaphore(parallel)
        seen: set[str] = set()
        tally = Tally()

        def report(index: int, clip: Clip, result: DownloadResult | None) -> None:
            nonlocal tally
            if result is not None:
                results[index - 1] = result
                tally = tally.counted(result)
            if on_progress is not None:
                on_progress(
                    ClipOutcome(
                        index=index,
                        total=len(clips),
                        clip_id=clip.id,
                        title=clip.title or "",
                        tally=tally,
                        result=result,
                    )
                )

        async def one(files: aiohttp.ClientSession, index: int, clip: Clip) -> None:
            try:
                report(index, clip, None)
                original = originals.get(clip.id) if originals is not None else None
                try:
                    result = await self._download(
                        files, clip, directory, options, spending, original, on_file_progress, check
                    )
                except CommandError as exc:
                    if exc.code is StudioError.SESSION_NOT_FOUND:
                        raise
                    result = _failure(clip.id, options.format, exc)
                if on_complete is not None and result.path is not None:
                    on_complete(clip, Path(result.path))
            finally:
                slots.release()
            report(index, clip, result)

        next_start = self._clock()
        try:
            async with _files_session(self._http) as files, asyncio.TaskGroup() as group:
                for index, clip in enumerate(clips, 1):
                    check()
                    if clip.id in seen or already_downloaded(clip.id):
                        report(index, clip, DownloadResult(clip_id=clip.id, status="skipped", format=options.format))
                        continue
                    seen.add(clip.id)
                    original = originals.get(clip.id) if originals is not None else None
                    adopted = await asyncio.to_thread(self._adopt, clip, directory, options, original)
                    if adopted is not None:  # finished by a run killed before it was recorded
                        if on_complete is not None:
                            on_complete(clip, Path(str(adopted.path)))
                        report(index, clip, adopted)
                        continue
                    await slots.acquire()
                    wait = next_start - self._clock()
                    if wait > 0:
                        await self._sleep(wait)
                    next_start = self._clock() + delay
                    group.create_task(one(files, index, clip))
        except BaseExceptionGroup as failure:
            raise failure.exceptions[0] from None
        return [result for result in results if result is not None]

    # -- one clip ------------------------------------------------------------------

    def _adopt(
        self, clip: Clip, directory: Path, options: DownloadOptions, original: dict[str, Any] | None
    ) -> DownloadResult | None:
        """The clip as downloaded, if its finished file is already where it would go (:func:`.finished_file`);
        its sidecar and time are made if the run that wrote it was killed before them."""
        if clip.status in UNFINISHED:
            return None
        kind = KINDS[options.format]
        stem = song_stem(clip.title, clip.id, append_uuid=options.append_uuid)
        found = finished_file(directory, stem, self._endpoints.song_url(clip.id), kind)
        if found is None:
            return None
        path, size, cover = found
        extras: list[str] = []
        written = _keep_with(path, clip, original, options, extras)
        return DownloadResult(
            clip_id=clip.id,
            status="downloaded",
            file_name=path.name,
            path=str(path),
            bytes=size,
            cover=cover,
            adopted=True,
            format=options.format,
            sidecar=written,
            extras_problem="; ".join(extras) or None,
        )

    async def _download(
        self,
        files: aiohttp.ClientSession,
        clip: Clip,
        directory: Path,
        options: DownloadOptions,
        unlocking: Unlocking,
        original: dict[str, Any] | None,
        on_progress: Progress | None,
        check: Check,
    ) -> DownloadResult:
        if clip.status in UNFINISHED:
            raise failed(f"clip {clip.id} is not finished yet (status {clip.status})")
        kind = KINDS[options.format]
        try:
            url, authorized = await self._file_url(clip, kind, unlocking, on_progress)
        except SunoError as exc:
            raise failed(f"clip {clip.id}: {exc.message}") from None
        song_url = self._endpoints.song_url(clip.id)
        final, reserved = reserve(directory, song_stem(clip.title, clip.id, append_uuid=options.append_uuid), kind)
        part_path = reserved.path
        # The cover comes meanwhile: one round trip less per song.
        covering = asyncio.create_task(self._cover(files, clip) if options.with_thumbnail else _no_cover())
        # The lock on the .part goes last, once it is renamed or removed: until then no one reclaims it.
        with reserved, writing(final):  # closing the file, renaming or removing it
            try:
                with os.fdopen(reserved.writer(), "wb") as file:
                    part = PartFile(
                        part_path,
                        final,
                        file,
                        covering,
                        lambda path, cover: write_tags(path, clip, song_url, cover),
                        kind,
                    )
                    meter = _Meter(clip.id, final.name, on_progress, self._clock)
                    await self._retrying(
                        f"clip {clip.id}", lambda first: self._fetch_audio(files, url, part, meter, check, first)
                    )
                    cover, cover_problem = await part.finish()
                check()
                if kind.tags_first:
                    problem = part.frames.problem()
                else:
                    problem = await asyncio.to_thread(kind.problem_at, part_path)
                if problem is not None:
                    raise failed(f"clip {clip.id}: the file Suno sent is not a whole {kind.format.upper()}: {problem}")
                if not kind.tags_first:
                    await asyncio.to_thread(_tag_whole, part_path, final, kind, clip, song_url, cover)
                final = publish(part_path, final)
            finally:
                covering.cancel()
                part_path.unlink(missing_ok=True)
        extras: list[str] = []
        written = await asyncio.to_thread(_keep_with, final, clip, original, options, extras)
        return DownloadResult(
            clip_id=clip.id,
            status="downloaded",
            file_name=final.name,
            path=str(final),
            bytes=final.stat().st_size,
            cover=cover is not None,
            message=cover_problem,
            extras_problem="; ".join(extras) or None,
            format=kind.format,
            authorized=authorized,
            sidecar=written,
        )

    async def _file_url(
        self, clip: Clip, kind: FileKind, unlocking: Unlocking, on_progress: Progress | None
    ) -> tuple[str, bool]:
        """Where the file is, and whether an authorization was spent on it.

        The MP3 of an old clip comes from the CDN at its ``audio_url``; any
        other file through Suno's route: authorized first if it needs one and
        the allowance's gate lets it (``DOWNLOAD_FAILED`` with the reason
        otherwise), then prepared (:class:`~deskbridge.studio.downloads.preparation.Preparation`).
        """
        if kind.format == "mp3" and clip.audio_url and not self._endpoints.is_forbidden_audio(clip.audio_url):
            return _web_url(clip.audio_url, "audio_url"), False
        authorized = False
        if self.needs_authorization(clip, kind.format, unlocking.known):
            unlocking.gate.take(clip.id)
            answer = await self._suno.authorize_download(clip.id)
            if not answer.ok:
                raise unlocking.gate.refused(clip.id, answer)
            unlocking.gate.spent(answer)
            authorized = True
            if unlocking.on_unlocked is not None:
                unlocking.on_unlocked(clip.id)

        def waiting(status: str, waited: float) -> None:
            if on_progress is not None:
                what = "rate limited by Suno, waiting" if status == "rate_limited" else "Suno is preparing the file"
                on_progress(
                    Preparing(
                        clip_id=clip.id,
                        format=kind.format,
                        status=status,
                        waited=round(waited, 1),
                        message=f"Preparing the {kind.format.upper()} of {clip.title or clip.id} ({what})",
                    )
                )

        return _web_url(await self._preparation.url(clip.id, kind.format, waiting), "download_url"), authorized

    async def _retrying(self, what: str, attempt: Callable[[bool], Awaitable[T]]) -> T:
        """``attempt(first_try)`` until it succeeds, a fatal error, or the policy's last try."""
        from deskbridge.studio.downloads.http_fetch import CLIENT_ERROR, TRANSIENT  # loaded by _files_session already

        failures = 0
        while True:
            try:
                return await attempt(failures == 0)
            except (_Retry, *TRANSIENT) as exc:
                failures += 1
                reason = str(exc) or type(exc).__name__
                if failures >= self._retry.attempts:
                    raise failed(f"{what}: gave up after {failures} tries: {reason}") from None
                await self._sleep(self._retry.delay(failures, exc.retry_after if isinstance(exc, _Retry) else None))
            except CLIENT_ERROR as exc:
                raise failed(f"{what}: {str(exc) or type(exc).__name__}") from None

    async def _fetch_audio(
        self, files: aiohttp.ClientSession, url: str, part: PartFile, meter: _Meter, check: Check, first_try: bool
    ) -> None:
        """One try at the rest of the file: from where ``part`` stopped, or from scratch if the server insists."""
        headers = {**_NO_ENCODING, "Range": f"bytes={part.size}-"} if part.size else _NO_ENCODING
        async with files.get(url, headers=headers) as response:
            total = _expected_total(response, part, first_try)
            media_type = response.headers.get("content-type", "").split(";")[0].strip().lower()
            kind = part.kind
            if not kind.accepts(media_type):
                raise failed(f"the server sent {media_type}, not {kind.label}")
            async for chunk, _ in response.content.iter_chunks():
                check()
                sniffed = len(part.head) < kind.head_bytes
                part.write(chunk)
                if sniffed and len(part.head) >= kind.head_bytes and (what := kind.sniff(part.head)):
                    raise failed(f"the server sent {what}, not {kind.label}")
                meter(part.size, total)
        if part.size < kind.head_bytes and (what := kind.sniff(part.head)):
            raise failed(f"the server sent {what}, not {kind.label}")
        if total is not None and part.size != total:
            raise _Retry(f"got {part.size} of {total} bytes")
        meter(part.size, total, final=True)

    async def _cover(self, files: aiohttp.ClientSession, clip: Clip) -> CoverOutcome:
        """The cover art, or why there is none; a missing cover never fails a download."""
        if clip.cover_url is None:
            return None, None
        try:
            url = _web_url(clip.cover_url, "cover")
            cover = await self._retrying(f"cover of clip {clip.id}", lambda first: self._fetch_cover(files, url, first))
        except CommandError as exc:
            return None, exc.message
        return cover, None

    async def _fetch_cover(self, files: aiohttp.ClientSession, url: str, first_try: bool) -> Cover:
        async with files.get(url, headers=_NO_ENCODING) as response:
            _raise_for_retry(response, first_try)
            if response.status != 200:
                raise failed(f"the cover answered HTTP {response.status}")
            chunks: list[bytes] = []
            size = 0
            async for chunk, _ in response.content.iter_chunks():
                chunks.append(chunk)
                size += len(chunk)
                if size > COVER_MAX_BYTES:
                    raise failed("the cover is larger than 10 MB")
        data = b"".join(chunks)
        mime = next((mime for magic, mime in COVER_TYPES.items() if data.startswith(magic)), None)
        if mime is None:
            raise failed("the cover is neither a JPEG nor a PNG")
        return Cover(data, mime)


def _web_url(url: str, what: str) -> str:
    """``url`` if it is an http(s) URL with a host (nothing else is fetched), else ``DOWNLOAD_FAILED``."""
    try:
        parsed = urlsplit(url)
        web = parsed.scheme in ("http", "https") and bool(parsed.hostname)
    except ValueError:  # a port that is no number, a broken IPv6 address
        web = False
    if not web:
        raise failed(f"the clip's {what} is not a web address: {url[:200]!r}")
    return url


def _raise_for_retry(response: aiohttp.ClientResponse, first_try: bool) -> None:
    """Signal another try for "not now" answers, and for a CDN's first 403."""
    if response.status in RETRY_STATUSES or (response.status == 403 and first_try):
        raise _Retry(f"HTTP {response.status}", response.headers.get("retry-after"))


def _expected_total(response: aiohttp.ClientResponse, part: PartFile, first_try: bool) -> int | None:
    """The file's full size if the server said it; restarts ``part`` when the server sends the whole file again."""
    _raise_for_retry(response, first_try)
    if response.status == 206:
        first, _, total = response.headers.get("content-range", "").removeprefix("bytes ").partition("/")
        if first.split("-")[0] != str(part.size):
            part.restart()
            raise _Retry("the server resumed at another offset")
        return int(total) if total.isdigit() else None
    if response.status == 416:
        part.restart()
        raise _Retry("the server refused to resume")
    if response.status != 200:
        raise failed(f"the server answered HTTP {response.status}")
    part.restart()
    length = response.headers.get("content-length", "")
    return int(length) if length.isdigit() else None


def _files_session(http: httpx.AsyncClient) -> aiohttp.ClientSession:
    """The session files come over; aiohttp is imported with the first download, not with the backend: it is
    about a fifth of the backend's start (~90 ms)."""
    from deskbridge.studio.downloads.http_fetch import session_like

    return session_like(http)


def _failure(clip_id: str, fmt: Format, exc: CommandError) -> DownloadResult:
    """A batch clip that failed, with the reason and numbers its error carries."""
    details = exc.details if isinstance(exc.details, dict) else None
    reason = details.get("reason") if details is not None else None
    return DownloadResult(
        clip_id=clip_id,
        status="failed",
        message=exc.message,
        format=fmt,
        reason=reason if isinstance(reason, str) else None,
        details=details,
    )


def _tag_whole(part: Path, song: Path, kind: FileKind, clip: Clip, song_url: str, cover: Cover | None) -> None:
    """Tag a finished WAV, M4A or MP4 in place; the disk's errors are the disk's, anything else a bad file."""
    try:
        tag_file(part, kind.format, clip, song_url, cover)
    except MutagenError as exc:
        cause = exc.__context__
        if isinstance(cause, OSError) and cause.errno is not None:
            raise disk_failure(cause, song) from None
        raise failed(f"the file Suno sent cannot be tagged as {kind.label}: {exc}") from None


def _keep_with(
    song: Path, clip: Clip, original: dict[str, Any] | None, options: DownloadOptions, warnings: list[str]
) -> str | None:
    """The backup's extras: the sidecar (its path) and the file's time; a problem is a warning, never a failure."""
    written = None
    if options.sidecar:
        try:
            written = str(sidecar.write_sidecar(song, original if original is not None else msgspec.to_builtins(clip)))
        except OSError as exc:
            warnings.append(f"the sidecar of {song.name} could not be written: {exc.strerror or exc}")
    if options.file_times:
        try:
            sidecar.set_file_time(song, clip.created_at)
        except OSError as exc:
            warnings.append(f"the time of {song.name} could not be set: {exc.strerror or exc}")
    return written
