"""What ``DOWNLOAD_CLIP`` and ``BATCH_DOWNLOAD`` send: each one's result and the fields of its progress events.

Declared to the schema (``GET_SCHEMA``, the JavaScript client's types) and
built by :mod:`.manager`, so what a front end is told to expect is what it
gets. A field left :data:`msgspec.UNSET` is not sent. An operation's progress
is conflated (the latest value of each field wins), so which of the optional
fields an event carries depends on the events before it.
"""

from __future__ import annotations

from typing import Any, Literal

import msgspec
from msgspec import UNSET, UnsetType

from deskbridge.studio.downloads.allowance import AllowancePlan, AllowanceSummary
from deskbridge.studio.downloads.results import DownloadResult, FileProgress, Preparing
from deskbridge.studio.suno.models import Format


class ClipDownloaded(DownloadResult, kw_only=True, omit_defaults=True):
    """``DOWNLOAD_CLIP``'s result: the file's, and what was spent on it."""

    allowance: AllowanceSummary

    @classmethod
    def of(cls, result: DownloadResult, allowance: AllowanceSummary) -> ClipDownloaded:
        return cls(**msgspec.structs.asdict(result), allowance=allowance)


class DownloadProgress(msgspec.Struct, kw_only=True):
    """``DOWNLOAD_CLIP``'s progress fields: first what the allowance allows, then the file's bytes so far, or
    ``stage: "preparing"`` while Suno makes the file."""

    allowance: AllowancePlan | UnsetType = UNSET
    clip_id: str | UnsetType = UNSET
    stage: Literal["preparing", "downloading"] | UnsetType = UNSET
    """Said again on every tick: an operation's progress is its latest state."""
    file_name: str | UnsetType = UNSET
    downloaded: int | UnsetType = UNSET
    """Bytes of the file so far."""
    total: int | UnsetType = UNSET
    """The file's size in bytes; 0 while unknown."""
    progress: int | UnsetType = UNSET
    """Percent of the file; 0 while Suno prepares it."""
    speed: float | UnsetType = UNSET
    """Bytes per second since the file started."""
    format: Format | UnsetType = UNSET
    """The format Suno is preparing."""
    preparation: str | UnsetType = UNSET
    """What Suno said while preparing: ``processing``, or ``rate_limited``."""
    waited: float | UnsetType = UNSET
    """Seconds since the first poll of the preparation."""
    message: str | UnsetType = UNSET

    @classmethod
    def of(cls, progress: FileProgress | Preparing) -> DownloadProgress:
        if isinstance(progress, Preparing):
            return cls(
                clip_id=progress.clip_id,
                stage="preparing",
                progress=0,
                format=progress.format,
                preparation=progress.status,
                waited=progress.waited,
                message=progress.message,
            )
        return cls(
            clip_id=progress.clip_id,
            stage="downloading",
            file_name=progress.file_name,
            downloaded=progress.downloaded,
            total=progress.total,
            progress=progress.progress,
            speed=progress.speed,
        )


class BatchDownloaded(msgspec.Struct, kw_only=True):
    """``BATCH_DOWNLOAD``'s result: the clips by how they ended, each one's file, and what was spent."""

    total: int
    downloaded: int
    skipped: int
    failed: int
    files: list[DownloadResult]
    """One per clip, in the order the clips were given."""
    allowance: AllowanceSummary


class BatchCounters(msgspec.Struct, kw_only=True):
    """What every ``BATCH_DOWNLOAD_PROGRESS`` carries: the batch's counters as they stand."""

    total: int
    completed: int
    """Clips that ended: downloaded, skipped or failed."""
    downloaded: int
    skipped: int
    failed: int
    progress: int
    """Percent of the clips that ended."""
    bytes: int
    """Bytes of the batch's files so far."""
    speed: float
    """Bytes per second since the batch started."""


ClipStatus = Literal["downloading", "preparing", "downloaded", "skipped", "failed"]


class BatchDownloadProgress(BatchCounters, kw_only=True):
    """``BATCH_DOWNLOAD``'s progress fields: the counters; first what the allowance allows; in a clip's own events
    (one as it starts, while Suno prepares it, as it ends) that clip and, once it ended, its file."""

    allowance: AllowancePlan | UnsetType = UNSET
    index: int | UnsetType = UNSET
    """The clip's place in the batch, from 1."""
    clip_id: str | UnsetType = UNSET
    title: str | UnsetType = UNSET
    clip_status: ClipStatus | UnsetType = UNSET
    """The clip's own status (``status`` is the operation's)."""
    format: Format | UnsetType = UNSET
    waited: float | UnsetType = UNSET
    """Seconds Suno has been preparing the clip's file."""
    reason: str | UnsetType = UNSET
    """Why the clip failed, as a word (``authorization_required``...)."""
    details: dict[str, Any] | UnsetType = UNSET
    """The failure's numbers."""
    sidecar: str | UnsetType = UNSET
    authorized: bool | UnsetType = UNSET
    """Sent (true) when one of Suno's downloads was spent on the clip."""
    file_name: str | UnsetType = UNSET
    path: str | UnsetType = UNSET
    cover: bool | UnsetType = UNSET
    """Sent (true) when the file got its cover."""
    adopted: bool | UnsetType = UNSET
    """Sent (true) when the finished file was found in the folder: recorded, not fetched again."""
    error_code: str | UnsetType = UNSET
    error: str | UnsetType = UNSET
    warning: str | UnsetType = UNSET
    """What went wrong without failing the clip (a cover that could not be fetched)."""
    extras_problem: str | UnsetType = UNSET
    message: str | UnsetType = UNSET
