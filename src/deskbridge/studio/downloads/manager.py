"""``DOWNLOAD_CLIP`` and ``BATCH_DOWNLOAD`` as operations: the downloader's callbacks made into events and history.

The :class:`~deskbridge.studio.downloads.downloader.Downloader` does the work; this
module decides what the front end hears, what may be spent, and what the
studio remembers:

* Before anything is fetched, the clips that would spend one of Suno's
  downloads are counted (:meth:`.Downloader.needs_authorization`: locked,
  not in the history in any format, not unlocked by an earlier run), and if
  there are any, ``billing/info``'s ``download_usage`` is read. The
  operation's first progress event carries ``allowance``: ``needed``,
  ``will_authorize``, ``remaining``, ``limit``, ``used``, ``additional``;
  its result the same with ``authorized`` (:mod:`.allowance`). Nothing is
  authorized unless ``authorize`` (payload, else ``studio.downloads.authorize``)
  says so, and never past what remains.
* ``DOWNLOAD_CLIP`` reports ``DOWNLOAD_PROGRESS`` (``clip_id, file_name,
  downloaded, total, progress, speed``; ``stage: "preparing"`` while Suno
  makes the file), throttled like every operation, and ends with the
  file's result.
* ``BATCH_DOWNLOAD`` reports one ``BATCH_DOWNLOAD_PROGRESS`` per clip as it
  starts, while Suno prepares it (``clip_status: "preparing"``) and as it
  ends (never conflated: each clip's outcome reaches the front end), each
  with the batch's counters; between them, throttled snapshots of the
  counters as bytes arrive. A clip that fails is also an ``ERROR_UPDATE``
  (with its ``reason``); the others go on.
* With an account, the download history is read first (a clip already
  downloaded in this format is skipped by a batch) and a file is recorded,
  with its format, only once it is complete; an authorization is recorded
  the moment Suno grants it, so a batch killed and run again never pays
  twice. A batch clip whose finished file a killed run left unrecorded is
  adopted (``adopted: true``), not fetched again.

The clip's own status is ``clip_status`` in these events: ``status`` is the
operation's (``in_progress`` until the terminal event). Results and progress
are the typed values of :mod:`.reports`, the ones the schema declares.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final, Protocol, TypeAlias, TypeVar

import msgspec
from msgspec import UNSET, UnsetType

from deskbridge.changes import Changed
from deskbridge.errors import CommandError
from deskbridge.events import EventSink
from deskbridge.operations import Operation, Operations
from deskbridge.studio.config import StudioSettings
from deskbridge.studio.downloads.allowance import AllowanceGate
from deskbridge.studio.downloads.reports import (
    BatchCounters,
    BatchDownloaded,
    BatchDownloadProgress,
    ClipDownloaded,
    DownloadProgress,
)
from deskbridge.studio.downloads.results import (
    ClipOutcome,
    DownloadOptions,
    DownloadResult,
    FileProgress,
    Preparing,
    Tally,
)
from deskbridge.studio.errors import StudioError
from deskbridge.studio.library.download_history import DownloadedClip, RecordedDownloads
from deskbridge.studio.notices import Notices, current_operation
from deskbridge.studio.suno.models import Clip

if TYPE_CHECKING:
    from deskbridge.studio.api_http import ApiHttp
    from deskbridge.studio.downloads.downloader import Downloader, Unlocking
    from deskbridge.studio.suno.api import SunoClient

BATCH_DOWNLOAD_PROGRESS: Final = "BATCH_DOWNLOAD_PROGRESS"
DOWNLOAD_PROGRESS: Final = "DOWNLOAD_PROGRESS"
EXTRAS_FAILED: Final = "BACKUP_EXTRAS_FAILED"
"""The ``WARNING_UPDATE`` of a song saved without its sidecar or its creation time."""


class Request(msgspec.Struct, frozen=True):
    """What a download command asks for, its defaults filled from ``studio.downloads``."""

    options: DownloadOptions
    session_token: str | None
    account_name: str | None
    authorize: bool


class DownloadRecords(Protocol):
    """What downloading needs of the download history: what an account has on disk or unlocked, and filing both."""

    def downloaded(self, account_name: str, clip_ids: Sequence[str], file_format: str | None = ...) -> set[str]: ...

    def unlocked(self, account_name: str, clip_ids: Sequence[str]) -> set[str]: ...

    def record(self, account_name: str, clips: Sequence[DownloadedClip]) -> RecordedDownloads: ...

    def record_unlock(self, account_name: str, clip_id: str) -> None: ...


T = TypeVar("T")

SunoClients: TypeAlias = Callable[[str | None, str | None], Awaitable["SunoClient"]]
"""A command's Suno client: its session token, else its account's browser's (a call that needs one fails)."""


class Downloads:
    def __init__(
        self,
        operations: Operations,
        events: EventSink,
        notices: Notices,
        suno_client: SunoClients,
        history: DownloadRecords,
        settings: StudioSettings,
        http: ApiHttp,
        changed: Changed,
    ) -> None:
        self._operations = operations
        self._changed = changed
        """Each clip recorded raises STATE_CHANGED, as RECORD_DOWNLOADS does."""
        self._events = events
        self._notices = notices
        self._suno_client = suno_client
        self._history = history
        self._settings = settings
        self._http = http

    def request(
        self,
        *,
        session_token: str | None,
        account_name: str | None,
        file_format: str | None,
        with_thumbnail: bool,
        append_uuid: bool,
        authorize: bool | None,
        sidecar: bool | None,
        file_times: bool | None,
    ) -> Request:
        defaults = self._settings.downloads
        options = DownloadOptions(
            format=file_format or defaults.format,  # type: ignore[arg-type]
            with_thumbnail=with_thumbnail,
            append_uuid=append_uuid,
            sidecar=defaults.sidecar if sidecar is None else sidecar,
            file_times=defaults.file_times if file_times is None else file_times,
        )
        wanted = defaults.authorize if authorize is None else authorize
        return Request(options, session_token, account_name, wanted)

    async def clip(self, clip: Clip, original: dict[str, Any], output_dir: str, asked: Request) -> Operation:
        """``DOWNLOAD_CLIP``: checked now (output_dir, account), downloaded once the answer is out."""
        directory, _, unlocked = await asyncio.to_thread(self._prepare, output_dir, asked, [clip])

        async def work(op: Operation) -> ClipDownloaded:
            current_operation.set(op)
            downloader, unlocking = await self._start(asked, [clip], unlocked)
            _report(op, DownloadProgress(allowance=unlocking.gate.plan(), message=_plan_message(unlocking.gate)))
            try:
                result = await downloader.download(
                    clip,
                    directory,
                    options=asked.options,
                    unlocking=unlocking,
                    original=original,
                    on_progress=lambda progress: _report(op, DownloadProgress.of(progress)),
                    check=op.check,
                )
            except CommandError as exc:
                if exc.code is StudioError.DOWNLOAD_FAILED and isinstance(exc.details, dict):
                    exc.details["allowance"] = msgspec.to_builtins(unlocking.gate.summary())
                raise
            if asked.account_name is not None and result.path is not None:
                await asyncio.to_thread(self._record, asked.account_name, clip, Path(result.path), result)
            _tell_saved_with_problems(self._notices, op, clip.id, clip.title or clip.id, result)
            return ClipDownloaded.of(result, unlocking.gate.summary())

        data = {"clip_id": clip.id, "output_dir": str(directory), "format": asked.options.format}
        return self._operations.prepare("DOWNLOAD_CLIP", DOWNLOAD_PROGRESS, work, data)

    async def batch(
        self,
        clips: Sequence[Clip],
        originals: dict[str, dict[str, Any]],
        output_dir: str,
        asked: Request,
        *,
        delay: float,
        parallel: int | None,
    ) -> Operation:
        """``BATCH_DOWNLOAD``: checked now, then every clip not downloaded yet in this format, several at once."""
        directory, known, unlocked = await asyncio.to_thread(self._prepare, output_dir, asked, clips)

        async def work(op: Operation) -> BatchDownloaded:
            current_operation.set(op)
            to_fetch = [clip for clip in clips if clip.id not in known]
            downloader, unlocking = await self._start(asked, to_fetch, unlocked)
            report = _BatchReport(op, self._events, self._notices, len(clips), unlocking.gate)
            account = asked.account_name
            results = await downloader.download_batch(
                clips,
                directory,
                options=asked.options,
                unlocking=unlocking,
                originals=originals,
                delay=delay,
                parallel=parallel or self._settings.downloads.parallel,
                already_downloaded=known.__contains__,
                on_progress=report.clip,
                on_file_progress=report.file,
                on_complete=(lambda clip, path: self._record(account, clip, path, None)) if account else None,
                check=op.check,
            )
            return report.result(results)

        data = {
            "total": len(clips),
            "output_dir": str(directory),
            "already_downloaded": len(known),
            "format": asked.options.format,
        }
        return self._operations.prepare("BATCH_DOWNLOAD", BATCH_DOWNLOAD_PROGRESS, work, data)

    # -- internals ------------------------------------------------------------------

    def _prepare(
        self, output_dir: str, asked: Request, clips: Sequence[Clip]
    ) -> tuple[Path, frozenset[str], frozenset[str]]:
        """The output folder (made, writable), the clips already downloaded in this format, and those known to be
        unlocked (``ACCOUNT_NOT_FOUND``?)."""
        known: frozenset[str] = frozenset()
        unlocked: frozenset[str] = frozenset()
        if asked.account_name is not None:  # first: an unknown account creates no folder
            ids = [clip.id for clip in clips]
            known = frozenset(self._history.downloaded(asked.account_name, ids, asked.options.format))
            unlocked = frozenset(self._history.unlocked(asked.account_name, ids))
        from deskbridge.studio.downloads.folder import prepare_output_dir

        return prepare_output_dir(output_dir), known, unlocked

    async def _start(
        self, asked: Request, clips: Sequence[Clip], unlocked: frozenset[str]
    ) -> tuple[Downloader, Unlocking]:
        """The downloader, and what it may spend: the allowance is read when some clip would need it."""
        from deskbridge.studio.downloads.downloader import Downloader, Unlocking

        suno = await self._suno_client(asked.session_token, asked.account_name)
        downloads = self._settings.downloads
        downloader = Downloader(
            self._http(),
            suno,
            retry=self._settings.retry,
            prepare_interval=downloads.prepare_interval,
            prepare_timeout=downloads.prepare_timeout,
        )
        needed = sum(
            1 for clip in clips if downloader.needs_authorization(clip, asked.options.format, unlocked.__contains__)
        )
        usage = (await suno.billing()).download_usage if needed else None
        gate = AllowanceGate(usage, authorize=asked.authorize, needed=needed)
        account = asked.account_name
        on_unlocked = (lambda clip_id: self._history.record_unlock(account, clip_id)) if account else None
        return downloader, Unlocking(gate=gate, known=unlocked.__contains__, on_unlocked=on_unlocked)

    def _record(self, account: str, clip: Clip, path: Path, result: DownloadResult | None) -> None:
        file_format = result.format if result is not None else _format_of(path)
        entry = DownloadedClip(id=clip.id, title=clip.title or "", file_path=str(path), format=file_format)
        recorded = self._history.record(account, [entry])
        self._changed("download_history", "recorded", id=account, count=recorded.recorded)


class _BatchReport:
    """The events of each clip's start and end, with the counters the downloader keeps."""

    def __init__(self, op: Operation, events: EventSink, notices: Notices, total: int, gate: AllowanceGate) -> None:
        self._op = op
        self._events = events
        self._notices = notices
        self._total = total
        self._gate = gate
        self._tally = Tally()
        self._received: dict[str, int] = {}
        self._bytes = 0
        self._started = time.monotonic()
        _report(op, BatchDownloadProgress(**self._counts(), allowance=gate.plan(), message=_plan_message(gate)))

    def clip(self, outcome: ClipOutcome) -> None:
        """``on_progress``: a clip started or ended; an event of its own, never conflated."""
        self._tally = outcome.tally
        result = outcome.result
        label = outcome.title or outcome.clip_id
        position = f"#{outcome.index} of {self._total}"  # the clip's place in the batch; "completed" counts
        if result is None:
            event = self._clip_event(outcome, f"Downloading {position}: {label}")
        elif result.status == "failed":
            why = result.message or "the download failed"
            event = self._clip_event(outcome, f"Failed {position}: {label}: {why}", error=why)
            self._notices.error(
                self._op,
                StudioError.DOWNLOAD_FAILED,
                why,
                clip_id=outcome.clip_id,
                title=outcome.title,
                reason=result.reason,
            )
        elif result.status == "skipped":
            event = self._clip_event(outcome, f"Skipped {position} (already downloaded): {label}")
        else:
            found = " (its finished file was already in the folder: recorded, not fetched again)"
            message = f"Downloaded {position}{found if result.adopted else ''}: {label}"
            event = self._clip_event(
                outcome, message, warning=result.message or UNSET, extras_problem=result.extras_problem or UNSET
            )
            _tell_saved_with_problems(self._notices, self._op, outcome.clip_id, label, result)
        self._emit(event)
        _report(self._op, BatchDownloadProgress(**self._counts(), message=event.message))

    def file(self, progress: FileProgress | Preparing) -> None:
        """``on_file_progress``: bytes of one file arrived (the counters' snapshot, throttled), or Suno is still
        preparing it (an event of that clip's own)."""
        if isinstance(progress, Preparing):
            self._emit(
                BatchDownloadProgress(
                    **self._counts(),
                    clip_id=progress.clip_id,
                    format=progress.format,
                    waited=progress.waited,
                    clip_status="preparing",
                    message=progress.message,
                )
            )
            return
        self._bytes += progress.downloaded - self._received.get(progress.clip_id, 0)
        self._received[progress.clip_id] = progress.downloaded
        _report(self._op, BatchDownloadProgress(**self._counts()))

    def result(self, results: list[DownloadResult]) -> BatchDownloaded:
        """The terminal result; ``DOWNLOAD_FAILED`` when every clip tried failed."""
        tried = self._total - self._tally.skipped
        if tried and self._tally.failed == tried:
            raise CommandError(
                StudioError.DOWNLOAD_FAILED,
                f"none of the {tried} clips could be downloaded",
                msgspec.to_builtins({"files": results, "allowance": self._gate.summary()}),
            )
        return BatchDownloaded(
            total=self._total,
            downloaded=self._tally.downloaded,
            skipped=self._tally.skipped,
            failed=self._tally.failed,
            files=results,
            allowance=self._gate.summary(),
        )

    def _clip_event(
        self,
        outcome: ClipOutcome,
        message: str,
        *,
        error: str | UnsetType = UNSET,
        warning: str | UnsetType = UNSET,
        extras_problem: str | UnsetType = UNSET,
    ) -> BatchDownloadProgress:
        """A clip's own event: as it starts, or as it ends with what it tells of its file (the name and path it
        got, a cover, an adopted file, its format, an authorization spent on it, its sidecar; why it failed)."""
        result = outcome.result
        if result is None:
            return BatchDownloadProgress(
                **self._counts(),
                index=outcome.index,
                clip_id=outcome.clip_id,
                title=outcome.title,
                clip_status=outcome.status,
                message=message,
            )
        return BatchDownloadProgress(
            **self._counts(),
            index=outcome.index,
            clip_id=outcome.clip_id,
            title=outcome.title,
            clip_status=outcome.status,
            format=result.format,
            reason=_given(result.reason),
            details=_given(result.details),
            sidecar=_given(result.sidecar),
            authorized=result.authorized or UNSET,
            file_name=_given(result.file_name),
            path=_given(result.path),
            cover=result.cover or UNSET,
            adopted=result.adopted or UNSET,
            error_code=UNSET if error is UNSET else StudioError.DOWNLOAD_FAILED.value,
            error=error,
            warning=warning,
            extras_problem=extras_problem,
            message=message,
        )

    def _emit(self, event: BatchDownloadProgress) -> None:
        """One event of its own, never conflated with the operation's ticks."""
        fields = msgspec.to_builtins(event)
        self._events.progress(BATCH_DOWNLOAD_PROGRESS, {"operation_id": self._op.id, "status": "in_progress", **fields})

    def _counts(self) -> dict[str, Any]:
        """The counters as they stand: the fields every progress event starts with."""
        done = self._tally.completed
        elapsed = max(time.monotonic() - self._started, 1e-6)
        counters = BatchCounters(
            total=self._total,
            completed=done,
            downloaded=self._tally.downloaded,
            skipped=self._tally.skipped,
            failed=self._tally.failed,
            progress=done * 100 // self._total,
            bytes=self._bytes,
            speed=round(self._bytes / elapsed, 1),
        )
        return msgspec.structs.asdict(counters)


def _report(op: Operation, progress: DownloadProgress | BatchDownloadProgress) -> None:
    """A progress tick of the operation: the fields set, conflated with those before."""
    op.progress(**msgspec.to_builtins(progress))


def _given(value: T | None) -> T | UnsetType:
    """``value``, or not sent when it is None."""
    return UNSET if value is None else value


def _format_of(path: Path) -> Any:
    """The format of a file the batch adopted, by its extension (what the history keys it by)."""
    return path.suffix.removeprefix(".").lower() or "mp3"


def _plan_message(gate: AllowanceGate) -> str:
    plan = gate.plan()
    if not plan.needed:
        return "No clip needs one of Suno's downloads"
    left = "unknown" if plan.remaining is None else plan.remaining
    return f"{plan.needed} clips need one of Suno's downloads ({left} left); {plan.will_authorize} will be authorized"


def _tell_saved_with_problems(
    notices: Notices, op: Operation, clip_id: str, label: str, result: DownloadResult
) -> None:
    """A saved song's warnings: its cover could not be fetched (``message``), or its backup extras could not."""
    if result.message:
        notices.no_cover(op, clip_id, label, result.message)
    if result.extras_problem:
        notices.warning(op, EXTRAS_FAILED, result.extras_problem, clip_id=clip_id)
