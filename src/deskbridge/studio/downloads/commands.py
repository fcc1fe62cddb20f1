"""The downloads wing's commands: ``DOWNLOAD_CLIP`` and ``BATCH_DOWNLOAD``.

Payload fields are seed 000's; fields it lacks (``account_name``,
``parallel``, ``format``, ``authorize``, ``sidecar``, ``file_times``) are
optional, their defaults in ``studio.downloads``. Clips are taken as Suno
gave them (all of each goes in its sidecar) and checked like any payload:
a clip without a valid id is ``INVALID_PAYLOAD`` at its path. Both answer
at once with an ``operation_id`` (docs/studio.md); :class:`~.manager.Downloads`
does the work; each one's result and progress are :mod:`.reports`'s.
"""

from __future__ import annotations

from typing import Annotated, Any

import msgspec

from deskbridge import protocol
from deskbridge.operations import Operation
from deskbridge.payloads import Payload
from deskbridge.router import Commands
from deskbridge.studio.downloads.manager import Downloads, Request
from deskbridge.studio.downloads.reports import BatchDownloaded, BatchDownloadProgress, ClipDownloaded, DownloadProgress
from deskbridge.studio.fields import AccountNameField, FilePath, SessionTokenField, invalid
from deskbridge.studio.suno.models import Clip, Format

Delay = Annotated[float, msgspec.Meta(ge=0, le=3600)]
Parallel = Annotated[int, msgspec.Meta(ge=1, le=16)]
BatchClips = Annotated[list[dict[str, Any]], msgspec.Meta(min_length=1, max_length=10_000)]


class DownloadClipPayload(Payload):
    clip: dict[str, Any]
    """The clip as Suno gave it (all of it goes in the sidecar)."""
    output_dir: FilePath
    session_token: SessionTokenField | None = None
    account_name: AccountNameField | None = None
    with_thumbnail: bool = True
    append_uuid: bool = False
    format: Format | None = None
    authorize: bool | None = None
    """Spend one of Suno's downloads on a locked clip (default: ``studio.downloads.authorize``, false)."""
    sidecar: bool | None = None
    file_times: bool | None = None


class BatchDownloadPayload(Payload):
    clips: BatchClips
    output_dir: FilePath
    account_name: AccountNameField | None = None
    session_token: SessionTokenField | None = None
    with_thumbnail: bool = True
    append_uuid: bool = False
    delay: Delay = 0.0
    parallel: Parallel | None = None
    format: Format | None = None
    authorize: bool | None = None
    sidecar: bool | None = None
    file_times: bool | None = None


def register(commands: Commands, downloads: Downloads) -> None:
    def asked(payload: DownloadClipPayload | BatchDownloadPayload) -> Request:
        return downloads.request(
            session_token=payload.session_token,
            account_name=payload.account_name,
            file_format=payload.format,
            with_thumbnail=payload.with_thumbnail,
            append_uuid=payload.append_uuid,
            authorize=payload.authorize,
            sidecar=payload.sidecar,
            file_times=payload.file_times,
        )

    @commands.command("DOWNLOAD_CLIP", result=ClipDownloaded, progress=DownloadProgress)
    async def download_clip(payload: DownloadClipPayload) -> Operation:
        """Download one clip into output_dir in a format, checked and tagged (with its cover if with_thumbnail);
        a locked clip only with authorize; an operation."""
        (clip,) = _typed([payload.clip], "$.clip")
        return await downloads.clip(clip, payload.clip, payload.output_dir, asked(payload))

    @commands.command("BATCH_DOWNLOAD", result=BatchDownloaded, progress=BatchDownloadProgress)
    async def batch_download(payload: BatchDownloadPayload) -> Operation:
        """Download many clips, several at once, skipping those the account already has in this format; locked
        ones only with authorize, within Suno's allowance; an operation."""
        clips = _typed(payload.clips, "$.clips", indexed=True)
        originals = {clip.id: raw for clip, raw in zip(clips, payload.clips, strict=True)}
        return await downloads.batch(
            clips, originals, payload.output_dir, asked(payload), delay=payload.delay, parallel=payload.parallel
        )


def _typed(items: list[dict[str, Any]], where: str, *, indexed: bool = False) -> list[Clip]:
    """The typed view of each payload clip; ``INVALID_PAYLOAD`` at the first that is not one (a bad id...)."""
    typed = []
    for index, item in enumerate(items):
        try:
            typed.append(msgspec.convert(item, Clip, strict=False))
        except msgspec.ValidationError as exc:
            message, details = protocol.validation_details(exc)
            path = (f"{where}[{index}]" if indexed else where) + details["fields"][0][1:]
            raise invalid(path, f"not a clip: {message}") from None
    return typed
