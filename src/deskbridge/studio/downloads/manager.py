"""``DOWNLOAD_CLIP`` and ``BATCH_DOWNLOAD`` as operations: the downloader's callbacks made into events and history.

The :class:`~deskbridge.studio.downloads.downloader.Downloader` does the work; this
module decides what the front end hears and what the studio remembers:

* ``DOWNLOAD_CLIP`` reports ``DOWNLOAD_PROGRESS`` (``clip_id, file_name,
  downloaded, total, progress, speed``), throttled like every operation, and
  ends with the file's result.
* ``BATCH_DOWNLOAD`` reports one ``BATCH_DOWNLOAD_PROGRESS`` per clip as it
  starts and as it ends (never conflated: each clip's outcome reaches the
  front end), each with the batch's counters; between them, throttled
  snapshots of the counters as bytes arrive. A clip that fails is also an
  ``ERROR_UPDATE``; the others go on.
* With an account, the download history is read first (a clip already
  downloaded is skipped by a batch and never authorized again) and a clip is
  recorded only once its file is complete. A batch clip whose finished file
  a killed run left unrecorded is adopted (``adopted: true``), not fetched again.

The clip's own status is ``clip_status`` in these events: ``status`` is the
operation's (``in_progress`` until the terminal event).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

import msgspec

from deskbridge.errors import CommandError
from deskbridge.events import EventSink
from deskbridge.operations import Operation, Operations
from deskbridge.studio.browser.sessions import Sessions
from deskbridge.studio.config import StudioSettings
from deskbridge.studio.downloads.results import ClipOutcome, DownloadResult, FileProgress, Tally
from deskbridge.studio.errors import StudioError
from deskbridge.studio.library.download_history import DownloadedClip, DownloadHistory
from deskbridge.studio.notices import Notices, current_operation
from deskbridge.studio.suno.models import Clip

if TYPE_CHECKING:
    from deskbridge.studio.api_http import ApiHttp
    from deskbridge.studio.downloads.downloader import Downloader

BATCH_DOWNLOAD_PROGRESS: Final = "BATCH_DOWNLOAD_PROGRESS"
DOWNLOAD_PROGRESS: Final = "DOWNLOAD_PROGRESS"


class Downloads:
    def __init__(
        self,
        operations: Operations,
        events: EventSink,
        notices: Notices,
        sessions: Sessions,
        history: DownloadHistory,
        settings: StudioSettings,
        http: ApiHttp,
    ) -> None:
        self._operations = operations
        self._events = events
        self._notices = notices
        self._sessions = sessions
        self._history = history
        self._settings = settings
        self._http = http

    async def clip(
        self,
        clip: Clip,
        output_dir: str,
        *,
        session_token: str | None,
        account_name: str | None,
        with_thumbnail: bool,
        append_uuid: bool,
    ) -> Operation:
        """``DOWNLOAD_CLIP``: checked now (output_dir, account), downloaded once the answer is out."""
        directory, known = await asyncio.to_thread(self._prepare, output_dir, account_name, [clip])

        async def work(op: Operation) -> dict[str, Any]:
            current_operation.set(op)
            downloader = await self._downloader(session_token, account_name)
            result = await downloader.download(
                clip,
                directory,
                with_thumbnail=with_thumbnail,
                append_uuid=append_uuid,
                already_downloaded=clip.id in known,
                on_progress=lambda file: op.progress(**msgspec.structs.asdict(file)),
                check=op.check,
            )
            if account_name is not None and result.path is not None:
                await asyncio.to_thread(self._record, account_name, clip, Path(result.path))
            if result.message:  # the song is saved; its cover could not be fetched
                self._notices.no_cover(op, clip.id, clip.title or clip.id, result.message)
            return msgspec.to_builtins(result)  # type: ignore[no-any-return]

        data = {"clip_id": clip.id, "output_dir": str(directory)}
        return self._operations.prepare("DOWNLOAD_CLIP", DOWNLOAD_PROGRESS, work, data)

    async def batch(
        self,
        clips: Sequence[Clip],
        output_dir: str,
        *,
        session_token: str | None,
        account_name: str | None,
        with_thumbnail: bool,
        append_uuid: bool,
        delay: float,
        parallel: int | None,
    ) -> Operation:
        """``BATCH_DOWNLOAD``: checked now, then every clip not downloaded yet, several at once."""
        directory, known = await asyncio.to_thread(self._prepare, output_dir, account_name, clips)

        async def work(op: Operation) -> dict[str, Any]:
            current_operation.set(op)
            report = _BatchReport(op, self._events, self._notices, len(clips))
            downloader = await self._downloader(session_token, account_name)
            results = await downloader.download_batch(
                clips,
                directory,
                with_thumbnail=with_thumbnail,
                append_uuid=append_uuid,
                delay=delay,
                parallel=parallel or self._settings.downloads.parallel,
                already_downloaded=known.__contains__,
                on_progress=report.clip,
                on_file_progress=report.file,
                on_complete=(lambda clip, path: self._record(account_name, clip, path)) if account_name else None,
                check=op.check,
            )
            return report.result(results)

        data = {"total": len(clips), "output_dir": str(directory), "already_downloaded": len(known)}
        return self._operations.prepare("BATCH_DOWNLOAD", BATCH_DOWNLOAD_PROGRESS, work, data)

    # -- internals ------------------------------------------------------------------

    def _prepare(self, output_dir: str, account_name: str | None, clips: Sequence[Clip]) -> tuple[Path, frozenset[str]]:
        """The output folder (made, writable) and the clips the account already has (``ACCOUNT_NOT_FOUND``?)."""
        known: frozenset[str] = frozenset()
        if account_name is not None:  # first: an unknown account creates no folder
            new = {clip["id"] for clip in self._history.new_clips(account_name, [{"id": clip.id} for clip in clips])}
            known = frozenset(clip.id for clip in clips if clip.id not in new)
        from deskbridge.studio.downloads.folder import prepare_output_dir

        return prepare_output_dir(output_dir), known

    async def _downloader(self, session_token: str | None, account: str | None) -> Downloader:
        suno = await self._sessions.client(session_token, account, required=False)
        from deskbridge.studio.downloads.downloader import Downloader

        return Downloader(self._http(), suno, retry=self._settings.retry)

    def _record(self, account: str, clip: Clip, path: Path) -> None:
        self._history.record(account, [DownloadedClip(id=clip.id, title=clip.title or "", file_path=str(path))])


class _BatchReport:
    """The events of each clip's start and end, with the counters the downloader keeps."""

    def __init__(self, op: Operation, events: EventSink, notices: Notices, total: int) -> None:
        self._op = op
        self._events = events
        self._notices = notices
        self._total = total
        self._tally = Tally()
        self._received: dict[str, int] = {}
        self._bytes = 0
        self._started = time.monotonic()
        op.progress(**self._counters())

    def clip(self, outcome: ClipOutcome) -> None:
        """``on_progress``: a clip started or ended; an event of its own, never conflated."""
        self._tally = outcome.tally
        result = outcome.result
        fields: dict[str, Any] = {
            "index": outcome.index,
            "clip_id": outcome.clip_id,
            "title": outcome.title,
            "clip_status": outcome.status,
        }
        if result is not None:
            fields.update(_file_fields(result))
        label = outcome.title or outcome.clip_id
        position = f"#{outcome.index} of {self._total}"  # the clip's place in the batch; "completed" counts
        if result is None:
            message = f"Downloading {position}: {label}"
        elif result.status == "failed":
            why = result.message or "the download failed"
            fields.update(error_code=StudioError.DOWNLOAD_FAILED.value, error=why)
            message = f"Failed {position}: {label}: {why}"
            self._notices.error(
                self._op, StudioError.DOWNLOAD_FAILED, why, clip_id=outcome.clip_id, title=outcome.title
            )
        elif result.status == "skipped":
            message = f"Skipped {position} (already downloaded): {label}"
        else:
            found = " (its finished file was already in the folder: recorded, not fetched again)"
            message = f"Downloaded {position}{found if result.adopted else ''}: {label}"
            if result.message:
                fields["warning"] = result.message
                self._notices.no_cover(self._op, outcome.clip_id, label, result.message)
        counters = self._counters()
        self._events.progress(
            BATCH_DOWNLOAD_PROGRESS,
            {"operation_id": self._op.id, "status": "in_progress", **counters, **fields, "message": message},
        )
        self._op.progress(**counters, message=message)

    def file(self, progress: FileProgress) -> None:
        """``on_file_progress``: bytes of one file arrived; the counters' snapshot, throttled."""
        self._bytes += progress.downloaded - self._received.get(progress.clip_id, 0)
        self._received[progress.clip_id] = progress.downloaded
        self._op.progress(**self._counters())

    def result(self, results: list[DownloadResult]) -> dict[str, Any]:
        """The terminal result; ``DOWNLOAD_FAILED`` when every clip tried failed."""
        files = msgspec.to_builtins(results)
        tried = self._total - self._tally.skipped
        if tried and self._tally.failed == tried:
            raise CommandError(
                StudioError.DOWNLOAD_FAILED, f"none of the {tried} clips could be downloaded", {"files": files}
            )
        return {"total": self._total, **msgspec.structs.asdict(self._tally), "files": files}

    def _counters(self) -> dict[str, Any]:
        done = self._tally.completed
        elapsed = max(time.monotonic() - self._started, 1e-6)
        return {
            "total": self._total,
            "completed": done,
            **msgspec.structs.asdict(self._tally),
            "progress": done * 100 // self._total,
            "bytes": self._bytes,
            "speed": round(self._bytes / elapsed, 1),
        }


def _file_fields(result: DownloadResult) -> dict[str, Any]:
    """What a clip's end event tells of its file: the name and path it got, a cover, an adopted file."""
    fields: dict[str, Any] = {}
    if result.file_name is not None:
        fields["file_name"] = result.file_name
    if result.path is not None:
        fields["path"] = result.path
    if result.cover:
        fields["cover"] = True
    if result.adopted:
        fields["adopted"] = True
    return fields
