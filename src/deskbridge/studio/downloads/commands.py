"""The downloads wing's commands: ``DOWNLOAD_CLIP`` and ``BATCH_DOWNLOAD``.

Payload fields are seed 000's; fields it lacks (``account_name``,
``parallel``) are optional. Both answer at once with an ``operation_id``
(docs/studio.md); :class:`~.manager.Downloads` does the work.
"""

from __future__ import annotations

from typing import Annotated, TypedDict

import msgspec

from deskbridge.operations import Operation
from deskbridge.payloads import FOREIGN, Payload
from deskbridge.router import Commands
from deskbridge.studio.downloads.manager import Downloads
from deskbridge.studio.downloads.results import DownloadResult, FileProgress
from deskbridge.studio.fields import AccountNameField, FilePath, SessionTokenField
from deskbridge.studio.suno.models import Clip

Delay = Annotated[float, msgspec.Meta(ge=0, le=3600)]
Parallel = Annotated[int, msgspec.Meta(ge=1, le=16)]
SunoClip = Annotated[Clip, FOREIGN]
"""A clip as Suno (or FETCH_CLIPS) gave it: fields beyond ours are Suno's, not typos, and are ignored."""
BatchClips = Annotated[list[SunoClip], msgspec.Meta(min_length=1, max_length=10_000)]


class DownloadClipPayload(Payload):
    clip: SunoClip
    output_dir: FilePath
    session_token: SessionTokenField | None = None
    account_name: AccountNameField | None = None
    with_thumbnail: bool = True
    append_uuid: bool = False


class BatchDownloadPayload(Payload):
    clips: BatchClips
    output_dir: FilePath
    account_name: AccountNameField | None = None
    session_token: SessionTokenField | None = None
    with_thumbnail: bool = True
    append_uuid: bool = False
    delay: Delay = 0.0
    parallel: Parallel | None = None


class BatchDownloaded(TypedDict):
    """``BATCH_DOWNLOAD``'s result."""

    total: int
    downloaded: int
    skipped: int
    failed: int
    files: list[DownloadResult]


class BatchDownloadProgress(TypedDict):
    """``BATCH_DOWNLOAD``'s progress fields (the latest of each)."""

    total: int
    completed: int
    downloaded: int
    skipped: int
    failed: int
    progress: int
    bytes: int
    speed: float
    message: str


def register(commands: Commands, downloads: Downloads) -> None:
    @commands.command("DOWNLOAD_CLIP", result=DownloadResult, progress=FileProgress)
    async def download_clip(payload: DownloadClipPayload) -> Operation:
        """Download one clip into output_dir, tagged (and with its cover if with_thumbnail); an operation."""
        return await downloads.clip(
            payload.clip,
            payload.output_dir,
            session_token=payload.session_token,
            account_name=payload.account_name,
            with_thumbnail=payload.with_thumbnail,
            append_uuid=payload.append_uuid,
        )

    @commands.command("BATCH_DOWNLOAD", result=BatchDownloaded, progress=BatchDownloadProgress)
    async def batch_download(payload: BatchDownloadPayload) -> Operation:
        """Download many clips, several at once, skipping those the account already has; an operation."""
        return await downloads.batch(
            payload.clips,
            payload.output_dir,
            session_token=payload.session_token,
            account_name=payload.account_name,
            with_thumbnail=payload.with_thumbnail,
            append_uuid=payload.append_uuid,
            delay=payload.delay,
            parallel=payload.parallel,
        )
