"""Downloading songs from Suno to disk: the engine behind ``DOWNLOAD_CLIP`` and ``BATCH_DOWNLOAD``.

::

    downloader = Downloader(http, suno_client)
    result = await downloader.download(clip, "/music", with_thumbnail=True, append_uuid=False,
                                       already_downloaded=False, on_progress=report, check=op.check)
    results = await downloader.download_batch(clips, "/music", with_thumbnail=True, append_uuid=False,
                                               delay=2.0, parallel=4,
                                               already_downloaded=history_has,      # clip_id -> bool
                                               on_progress=batch_event,              # BATCH_DOWNLOAD_PROGRESS
                                               on_file_progress=report,              # DOWNLOAD_PROGRESS
                                               on_complete=record_in_history,        # (clip, path)
                                               check=op.check)

A file is streamed to ``<name>.mp3.part`` and becomes ``<name>.mp3`` only
once it is whole and checked: status 200 (206 on a resume), as many bytes
as announced, an audio content type, MP3 bytes rather than an HTML page or
a JSON error, and a last frame that is not cut (:mod:`.audiocheck`'s check,
made on the bytes as they come by :mod:`.framechain`). A dropped connection
resumes with ``Range`` where it stopped; 429 and 5xx are retried with
backoff (:class:`~deskbridge.studio.suno.retry.RetryPolicy`); a CDN's first
403 is retried once (Suno's CDN does that); redirects are followed. The ID3
tags and cover (:mod:`.tagging`) go at the start of the ``.part``, before
the audio (see :class:`_PartFile`); a failed or cancelled download leaves
no ``.part`` behind. ``DOWNLOAD_PROGRESS`` comes at most every
``PROGRESS_INTERVAL`` seconds per file, and once at the end.

The MP3s and covers come over aiohttp (:mod:`.http_fetch`: through httpx
the batch ran at a third of curl's speed), one session per call, shaped
after the ``httpx.AsyncClient`` given, which still carries Suno's API.

Names come from titles (:mod:`.filenames`): a clash gets `` (2)``, a symbolic
link planted at the target name is treated as taken, and no path can leave
``output_dir``. The ``.part`` is locked while it is written
(:mod:`.locked_temp`): one that a killed backend left (a plain file whose
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
:func:`_reserve` walks them), whose ID3 ``WOAR`` is this clip's page exactly
as :mod:`.tagging` wrote it before the rename, and whose last MPEG frame is
whole (:func:`_finished_file`); anything else, another clip's file of the
same title included, is a name taken as before. ``DOWNLOAD_CLIP``
(:meth:`Downloader.download`) adopts nothing: it fetches what it is asked
for. A clip that fails is reported (``DOWNLOAD_FAILED`` and why) and the
others go on, also when the disk refuses its file (full, read-only, no
permission: :func:`_disk_failure`); ``on_complete`` runs only for files
that are complete and renamed, so a history fed by it never lists a file
that is not there. A dead session (``SESSION_NOT_FOUND``) or a
cancellation (``check`` raising, or the task being cancelled) stops the
whole batch.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import os
import stat
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO, Final, Literal, TypeVar
from urllib.parse import urlsplit

import httpx
import msgspec
from mutagen import MutagenError

from deskbridge.errors import CommandError, ErrorCode
from deskbridge.paths import contained
from deskbridge.studio import locked_temp, sidecar
from deskbridge.studio.allowance import AllowanceGate
from deskbridge.studio.fields import invalid
from deskbridge.studio.filenames import candidates, song_stem
from deskbridge.studio.formats import KINDS, FileKind
from deskbridge.studio.framechain import FrameChain
from deskbridge.studio.locked_temp import LockedTemp
from deskbridge.studio.preparation import INTERVAL, TIMEOUT, Preparation
from deskbridge.studio.suno.api import SunoClient
from deskbridge.studio.suno.errors import SunoError
from deskbridge.studio.suno.models import UNFINISHED, Clip, Format
from deskbridge.studio.suno.retry import RETRY_STATUSES, RetryPolicy
from deskbridge.studio.tagging import Cover, song_page, tag_file, write_tags

if TYPE_CHECKING:
    import aiohttp

Progress = Callable[[dict[str, Any]], None]
Check = Callable[[], None]
OnComplete = Callable[[Clip, Path], None]
Known = Callable[[str], bool]
Sleep = Callable[[float], Awaitable[None]]
Tagger = Callable[[Path, Cover | None], None]
_CoverOutcome = tuple[Cover | None, str | None]
T = TypeVar("T")

COVER_TYPES: Final = {b"\xff\xd8\xff": "image/jpeg", b"\x89PNG\r\n\x1a\n": "image/png"}
COVER_MAX_BYTES: Final = 10 * 1024 * 1024
_NO_ENCODING: Final = {"Accept-Encoding": "identity"}
PROGRESS_INTERVAL: Final = 0.25
"""Seconds between two ``DOWNLOAD_PROGRESS`` of one file (the last one is always sent)."""
_READ_ONLY: Final = (
    os.O_RDONLY
    | getattr(os, "O_NOFOLLOW", 0)
    | getattr(os, "O_NONBLOCK", 0)  # a FIFO swapped in after the look must not hang the open
    | getattr(os, "O_BINARY", 0)
    | getattr(os, "O_CLOEXEC", 0)
)
_READ_CHUNK: Final = 1024 * 1024


class DownloadResult(msgspec.Struct, kw_only=True, omit_defaults=True):
    clip_id: str
    status: Literal["downloaded", "skipped", "failed"]
    file_name: str | None = None
    path: str | None = None
    bytes: int = 0
    cover: bool = False
    message: str | None = None
    """Why it failed, or what went wrong without failing it (a cover that could not be fetched)."""
    adopted: bool = False
    """Its finished file was found in the output folder, not in the history: recorded, not fetched again."""
    format: Format = "mp3"
    reason: str | None = None
    """Why it failed, as a word: ``authorization_required``, ``allowance_exhausted``, ``preparation_failed``..."""
    details: dict[str, Any] | None = None
    """The failure's numbers (what the allowance was), as ``DOWNLOAD_FAILED``'s details carry them."""
    authorized: bool = False
    """This download spent an authorization (one of Suno's downloads, unless Suno said it was free)."""
    sidecar: str | None = None
    """The ``.json`` written next to the file, with the clip as Suno gave it."""


class DownloadOptions(msgspec.Struct, frozen=True, kw_only=True):
    """How each file of a download is made."""

    format: Format = "mp3"
    with_thumbnail: bool = True
    append_uuid: bool = False
    sidecar: bool = False
    """Write ``<file>.json`` with the clip as Suno gave it."""
    file_times: bool = False
    """Give each file the song's creation time as its modification time."""


@dataclass
class Unlocking:
    """What may be spent on a download: the allowance's gate, and what is known to be unlocked already."""

    gate: AllowanceGate
    known: Known = field(default=lambda clip_id: False)
    """Clips unlocked before (the download history in any format, an earlier run's authorizations)."""
    on_unlocked: Callable[[str], None] | None = None
    """Told each clip this download authorized, before its file is fetched: a run killed later never pays twice."""


class _Retry(Exception):
    """This try failed in a way that another try may not."""

    def __init__(self, reason: str, retry_after: str | None = None) -> None:
        super().__init__(reason)
        self.retry_after = retry_after


def _failed(message: str) -> CommandError:
    return CommandError(ErrorCode.DOWNLOAD_FAILED, message)


def _disk_failure(exc: OSError, song: Path) -> CommandError:
    """``DOWNLOAD_FAILED`` saying why the disk refused ``song``: it fails that clip, never the whole batch."""
    name, folder = song.name, song.parent
    if exc.errno == errno.ENOSPC:
        return _failed(f"no space left on the disk for {name}")
    if exc.errno == errno.EDQUOT:
        return _failed(f"the disk quota is used up: no room for {name}")
    if exc.errno == errno.EROFS:
        return _failed(f"the disk of {folder} is read-only: cannot write {name}")
    if exc.errno in (errno.EACCES, errno.EPERM):
        return _failed(f"no permission to write {name} in {folder}")
    return _failed(f"cannot write {name} in {folder}: {exc.strerror or exc}")


@contextlib.contextmanager
def _writing(song: Path) -> Iterator[None]:
    """Where ``song`` is written, closed, renamed or removed: an ``OSError`` is the disk's (:func:`_disk_failure`)."""
    try:
        yield
    except OSError as exc:
        raise _disk_failure(exc, song) from None


def _never(clip_id: str) -> bool:
    return False


def _no_check() -> None:
    return None


_DEFAULTS: Final = DownloadOptions()


def _spend_nothing() -> Unlocking:
    """What a download may spend when nobody said: nothing."""
    return Unlocking(gate=AllowanceGate(None, authorize=False, needed=0))


async def _no_cover() -> _CoverOutcome:
    return None, None


def _id3_length(head: bytes) -> int | None:
    """Bytes of the ID3v2 tag ``head`` starts with: 0 if none, ``None`` while fewer than 10 bytes cannot tell."""
    if len(head) < 10:
        return None if b"ID3".startswith(head[:3]) else 0
    if not head.startswith(b"ID3"):
        return 0
    size = (head[6] << 21) | (head[7] << 14) | (head[8] << 7) | head[9]
    return 10 + size + (10 if head[5] & 0x10 else 0)


def prepare_output_dir(output_dir: str | Path) -> Path:
    """``output_dir`` created if missing and resolved; ``INVALID_PAYLOAD`` at ``$.output_dir`` if it is relative or
    cannot be written to."""
    directory = Path(output_dir).expanduser()
    if not directory.is_absolute():
        raise invalid("$.output_dir", f"output_dir must be an absolute path, not {str(output_dir)!r}")
    try:
        directory.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=directory):
            pass
    except OSError as exc:
        raise invalid(
            "$.output_dir", f"output_dir {str(directory)!r} cannot be written to: {exc.strerror or exc}"
        ) from None
    return directory.resolve()


class _PartFile:
    """The ``.part`` file: the song's ID3 tag first, then the server's bytes as they come.

    Mutagen puts a tag before audio by moving all of it, i.e. reading and
    writing the whole file again: cheap in the page cache (~0.1 ms per MB),
    not on a slow disk or a network share. So the tag goes in first, into a
    file that holds at most the server's own tag, which ``write_tags`` merges
    with ours as it would at the start of the whole file, and every byte is
    written once and never read back. The server's bytes that come before
    the cover wait in memory. ``size``, ``head`` and ``frames`` are about the
    server's bytes: where a ``Range`` resumes, how the file starts, and
    whether its last frame is whole. A disk error fails the clip at once
    (:func:`_disk_failure`), before any retry could resume past bytes that
    were never written.
    """

    def __init__(
        self,
        path: Path,
        song: Path,
        file: BinaryIO,
        covering: asyncio.Task[_CoverOutcome],
        tag: Tagger,
        kind: FileKind,
    ) -> None:
        self.path = path
        self.song = song
        self.file = file
        self.kind = kind
        self.size = 0
        self.head = b""
        self.frames = FrameChain()
        self._covering = covering
        self._tag = tag
        self._held: list[bytes] | None = [] if kind.tags_first else None

    def write(self, chunk: bytes) -> None:
        self.size += len(chunk)
        if self.kind.tags_first:
            self.frames.feed(chunk)
        if len(self.head) < 16:
            self.head += chunk[: 16 - len(self.head)]
        if self._held is None:
            try:
                self.file.write(chunk)
            except OSError as exc:
                raise _disk_failure(exc, self.song) from None
            return
        self._held.append(chunk)
        if self._covering.done() and (lead := _id3_length(self.head)) is not None and self.size >= lead:
            self._write_tags(lead)

    async def finish(self) -> _CoverOutcome:
        """Tag the file if the cover came after the last byte; the cover, and why there is none."""
        outcome = await self._covering
        if self.kind.tags_first and self._held is not None:
            lead = _id3_length(self.head)
            self._write_tags(self.size if lead is None else min(lead, self.size))
        return outcome

    def restart(self) -> None:
        """Back to an empty file, for a server that sends the whole file again."""
        if self.size or self._held is None:
            with _writing(self.song):
                self.file.seek(0)
                self.file.truncate()
        self.size = 0
        self.head = b""
        self.frames = FrameChain()
        self._held = [] if self.kind.tags_first else None

    def _write_tags(self, lead: int) -> None:
        """The server's tag (its first ``lead`` bytes), our tag over it, then the bytes held."""
        held, self._held = self._held or [], None
        with _writing(self.song):
            if lead:
                data = b"".join(held)
                held = [data[lead:]]
                self.file.write(data[:lead])
                self.file.flush()
            self._tag_file()
            self.file.seek(0, os.SEEK_END)
            for chunk in held:
                self.file.write(chunk)

    def _tag_file(self) -> None:
        """Our tag into the file; mutagen wraps the disk's errors (an ``OSError`` with an errno) in its own."""
        try:
            self._tag(self.path, self._covering.result()[0])
        except MutagenError as exc:
            cause = exc.__context__
            if isinstance(cause, OSError) and cause.errno is not None:
                raise _disk_failure(cause, self.song) from None
            raise _failed(f"the ID3 tag at the start of the file cannot be read: {exc}") from None


class _Meter:
    """Turns bytes received into ``DOWNLOAD_PROGRESS`` fields, at most every ``PROGRESS_INTERVAL`` and at the end."""

    def __init__(self, clip_id: str, file_name: str, report: Progress | None, clock: Callable[[], float]) -> None:
        self._fields = {"clip_id": clip_id, "file_name": file_name}
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
            {
                **self._fields,
                "downloaded": downloaded,
                "total": total or 0,
                "progress": min(100, downloaded * 100 // total) if total else 0,
                "speed": round(downloaded / elapsed, 1),
            }
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
        on_progress: Progress | None = None,
        on_file_progress: Progress | None = None,
        on_complete: OnComplete | None = None,
        check: Check = _no_check,
    ) -> list[DownloadResult]:
        """Download many clips; one :class:`DownloadResult` per clip, in the order given.

        ``on_progress`` gets one ``BATCH_DOWNLOAD_PROGRESS`` payload when a clip
        starts (``downloading``) and one when it ends (``downloaded``,
        ``skipped``, or ``failed`` with ``error`` and ``message``), with its
        ``index`` (from 1), the batch ``total``, ``completed`` and ``progress`` %;
        ``on_file_progress`` gets the bytes as they come, and ``preparing``
        while Suno makes a file. ``originals`` are the clips as Suno gave them
        (by id), for the sidecars.
        """
        if parallel < 1:
            raise invalid("$.parallel", "parallel must be at least 1")
        directory = prepare_output_dir(output_dir)
        spending = unlocking or _spend_nothing()
        results: list[DownloadResult | None] = [None] * len(clips)
        slots = asyncio.Semaphore(parallel)
        seen: set[str] = set()
        done = 0

        def report(index: int, clip: Clip, result: DownloadResult | None) -> None:
            nonlocal done
            if result is not None:
                results[index - 1] = result
                done += 1
            if on_progress is None:
                return
            event: dict[str, Any] = {
                "index": index,
                "total": len(clips),
                "clip_id": clip.id,
                "title": clip.title or "",
                "status": "downloading" if result is None else result.status,
                "completed": done,
                "progress": done * 100 // len(clips),
            }
            if result is not None:
                event.update(msgspec.to_builtins(result))
                if result.status == "failed":
                    event["error"] = ErrorCode.DOWNLOAD_FAILED.value
            on_progress(event)

        async def one(files: aiohttp.ClientSession, index: int, clip: Clip) -> None:
            try:
                report(index, clip, None)
                original = originals.get(clip.id) if originals is not None else None
                try:
                    result = await self._download(
                        files, clip, directory, options, spending, original, on_file_progress, check
                    )
                except CommandError as exc:
                    if exc.code is ErrorCode.SESSION_NOT_FOUND:
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
                    adopted = await asyncio.to_thread(self._adopt, clip, directory, options)
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

    def _adopt(self, clip: Clip, directory: Path, options: DownloadOptions) -> DownloadResult | None:
        """The clip as downloaded, if its finished file is already where it would go (:func:`_finished_file`)."""
        if clip.status in UNFINISHED:
            return None
        kind = KINDS[options.format]
        stem = song_stem(clip.title, clip.id, append_uuid=options.append_uuid)
        found = _finished_file(directory, stem, self._endpoints.song_url(clip.id), kind)
        if found is None:
            return None
        path, size, cover = found
        return DownloadResult(
            clip_id=clip.id,
            status="downloaded",
            file_name=path.name,
            path=str(path),
            bytes=size,
            cover=cover,
            adopted=True,
            format=options.format,
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
            raise _failed(f"clip {clip.id} is not finished yet (status {clip.status})")
        kind = KINDS[options.format]
        try:
            url, authorized = await self._file_url(clip, kind, unlocking, on_progress)
        except SunoError as exc:
            raise _failed(f"clip {clip.id}: {exc.message}") from None
        song_url = self._endpoints.song_url(clip.id)
        final, reserved = _reserve(directory, song_stem(clip.title, clip.id, append_uuid=options.append_uuid), kind)
        part_path = reserved.path
        # The cover comes meanwhile: one round trip less per song.
        covering = asyncio.create_task(self._cover(files, clip) if options.with_thumbnail else _no_cover())
        # The lock on the .part goes last, once it is renamed or removed: until then no one reclaims it.
        with reserved, _writing(final):  # closing the file, renaming or removing it
            try:
                with os.fdopen(reserved.writer(), "wb") as file:
                    part = _PartFile(
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
                    raise _failed(f"clip {clip.id}: the file Suno sent is not a whole {kind.format.upper()}: {problem}")
                if not kind.tags_first:
                    await asyncio.to_thread(_tag_whole, part_path, final, kind, clip, song_url, cover)
                final = _publish(part_path, final)
            finally:
                covering.cancel()
                part_path.unlink(missing_ok=True)
        warnings = [cover_problem] if cover_problem else []
        written = await asyncio.to_thread(_keep_with, final, clip, original, options, warnings)
        return DownloadResult(
            clip_id=clip.id,
            status="downloaded",
            file_name=final.name,
            path=str(final),
            bytes=final.stat().st_size,
            cover=cover is not None,
            message="; ".join(warnings) or None,
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
        otherwise), then prepared (:class:`~deskbridge.studio.preparation.Preparation`).
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
                    {
                        "clip_id": clip.id,
                        "stage": "preparing",
                        "format": kind.format,
                        "waited": round(waited, 1),
                        "message": f"Preparing the {kind.format.upper()} of {clip.title or clip.id} ({what})",
                    }
                )

        return _web_url(await self._preparation.url(clip.id, kind.format, waiting), "download_url"), authorized

    async def _retrying(self, what: str, attempt: Callable[[bool], Awaitable[T]]) -> T:
        """``attempt(first_try)`` until it succeeds, a fatal error, or the policy's last try."""
        from deskbridge.studio.http_fetch import CLIENT_ERROR, TRANSIENT  # loaded by _files_session already

        failures = 0
        while True:
            try:
                return await attempt(failures == 0)
            except (_Retry, *TRANSIENT) as exc:
                failures += 1
                reason = str(exc) or type(exc).__name__
                if failures >= self._retry.attempts:
                    raise _failed(f"{what}: gave up after {failures} tries: {reason}") from None
                await self._sleep(self._retry.delay(failures, exc.retry_after if isinstance(exc, _Retry) else None))
            except CLIENT_ERROR as exc:
                raise _failed(f"{what}: {str(exc) or type(exc).__name__}") from None

    async def _fetch_audio(
        self, files: aiohttp.ClientSession, url: str, part: _PartFile, meter: _Meter, check: Check, first_try: bool
    ) -> None:
        """One try at the rest of the file: from where ``part`` stopped, or from scratch if the server insists."""
        headers = {**_NO_ENCODING, "Range": f"bytes={part.size}-"} if part.size else _NO_ENCODING
        async with files.get(url, headers=headers) as response:
            total = _expected_total(response, part, first_try)
            media_type = response.headers.get("content-type", "").split(";")[0].strip().lower()
            kind = part.kind
            if not kind.accepts(media_type):
                raise _failed(f"the server sent {media_type}, not {kind.label}")
            async for chunk, _ in response.content.iter_chunks():
                check()
                sniffed = len(part.head) < kind.head_bytes
                part.write(chunk)
                if sniffed and len(part.head) >= kind.head_bytes and (what := kind.sniff(part.head)):
                    raise _failed(f"the server sent {what}, not {kind.label}")
                meter(part.size, total)
        if part.size < kind.head_bytes and (what := kind.sniff(part.head)):
            raise _failed(f"the server sent {what}, not {kind.label}")
        if total is not None and part.size != total:
            raise _Retry(f"got {part.size} of {total} bytes")
        meter(part.size, total, final=True)

    async def _cover(self, files: aiohttp.ClientSession, clip: Clip) -> _CoverOutcome:
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
                raise _failed(f"the cover answered HTTP {response.status}")
            chunks: list[bytes] = []
            size = 0
            async for chunk, _ in response.content.iter_chunks():
                chunks.append(chunk)
                size += len(chunk)
                if size > COVER_MAX_BYTES:
                    raise _failed("the cover is larger than 10 MB")
        data = b"".join(chunks)
        mime = next((mime for magic, mime in COVER_TYPES.items() if data.startswith(magic)), None)
        if mime is None:
            raise _failed("the cover is neither a JPEG nor a PNG")
        return Cover(data, mime)


def _web_url(url: str, what: str) -> str:
    """``url`` if it is an http(s) URL with a host (nothing else is fetched), else ``DOWNLOAD_FAILED``."""
    try:
        parsed = urlsplit(url)
        web = parsed.scheme in ("http", "https") and bool(parsed.hostname)
    except ValueError:  # a port that is no number, a broken IPv6 address
        web = False
    if not web:
        raise _failed(f"the clip's {what} is not a web address: {url[:200]!r}")
    return url


def _raise_for_retry(response: aiohttp.ClientResponse, first_try: bool) -> None:
    """Signal another try for "not now" answers, and for a CDN's first 403."""
    if response.status in RETRY_STATUSES or (response.status == 403 and first_try):
        raise _Retry(f"HTTP {response.status}", response.headers.get("retry-after"))


def _expected_total(response: aiohttp.ClientResponse, part: _PartFile, first_try: bool) -> int | None:
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
        raise _failed(f"the server answered HTTP {response.status}")
    part.restart()
    length = response.headers.get("content-length", "")
    return int(length) if length.isdigit() else None


def _reserve(directory: Path, stem: str, kind: FileKind) -> tuple[Path, LockedTemp]:
    """The first free ``<name>.<extension>`` and its ``.part``, created exclusively (never through a link) and
    locked.

    A ``.part`` without its finished file is free if it is a dead download's (a
    regular file that no one, in this process or another, holds locked:
    :func:`.locked_temp.reclaim` removes it), so a download killed half-way
    leaves its name to the next one; any other ``.part`` (a download running
    now, a link) makes the name taken.
    """
    for name in candidates(stem):
        final = directory / f"{name}{kind.extension}"
        part = directory / f"{name}{kind.extension}.part"
        if os.path.lexists(final) or (os.path.lexists(part) and not locked_temp.reclaim(part)):
            continue
        try:
            contained(directory, part.name)
            reserved = locked_temp.create(part)
        except ValueError:
            raise _failed(f"refusing to write {part.name!r} outside {directory}") from None
        except OSError as exc:
            raise _disk_failure(exc, final) from None
        if reserved is not None:
            return final, reserved
    raise _failed(f"every name like {stem!r} is taken in {directory}")


def _finished_file(directory: Path, stem: str, song_url: str, kind: FileKind) -> tuple[Path, int, bool] | None:
    """A finished file of the song whose page is ``song_url``, under a name :func:`_reserve` would try for ``stem``.

    The names are walked as :func:`_reserve` walks them, up to the first
    free one (no file, no ``.part``): where the song would go now.
    Found: ``(path, bytes, has a cover)``. A link, a folder, a file of
    another song (another song page in its tags, or none), a file whose
    tags cannot be read or that is not whole (:attr:`.FileKind.problem`),
    and any error leave the name taken.
    """
    for name in candidates(stem):
        final = directory / f"{name}{kind.extension}"
        try:
            seen = os.lstat(final)
        except FileNotFoundError:
            if os.path.lexists(final.with_name(f"{final.name}.part")):
                continue
            return None
        except OSError:  # a name too long, a folder that cannot be searched: the download says why
            return None
        if stat.S_ISREG(seen.st_mode) and (found := _song_file(final, seen, song_url, kind)) is not None:
            return final, *found
    return None


def _song_file(path: Path, seen: os.stat_result, song_url: str, kind: FileKind) -> tuple[int, bool] | None:
    """``(bytes, has a cover)`` if ``path`` (the regular file ``seen``, never followed) is a whole file of
    ``song_url``: its tags name that page only (:func:`.tagging.song_page`) and it is whole
    (:attr:`.FileKind.problem`: an MP3's frames, a container's boxes or chunks)."""
    try:
        descriptor = os.open(path, _READ_ONLY)
    except OSError:
        return None
    with os.fdopen(descriptor, "rb") as file:
        try:
            opened = os.fstat(descriptor)
            if not stat.S_ISREG(opened.st_mode) or (opened.st_dev, opened.st_ino) != (seen.st_dev, seen.st_ino):
                return None  # swapped between the look and the open
            pages, cover = song_page(file, kind.format)
            if pages != {song_url}:
                return None
            file.seek(0)
            if kind.problem(file) is not None:
                return None
        except Exception:  # whatever a file makes mutagen raise: not provably ours, and no batch stops for it
            return None
    return opened.st_size, cover


def _publish(part: Path, final: Path) -> Path:
    """Rename the finished ``.part``; if its name was taken meanwhile, the next free one."""
    stem, extension = final.name.removesuffix(final.suffix), final.suffix
    for name in candidates(stem):
        target = final.with_name(f"{name}{extension}")
        reserved = target != final and os.path.lexists(target.with_name(target.name + ".part"))
        if not reserved and not os.path.lexists(target):
            part.replace(target)
            return target
    raise _failed(f"every name like {stem!r} is taken in {final.parent}")


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
            raise _disk_failure(cause, song) from None
        raise _failed(f"the file Suno sent cannot be tagged as {kind.label}: {exc}") from None


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


def _files_session(http: httpx.AsyncClient) -> aiohttp.ClientSession:
    """The session files come over; aiohttp is imported with the first download, not with the backend: it is
    about a fifth of the backend's start (~90 ms)."""
    from deskbridge.studio.http_fetch import session_like

    return session_like(http)
