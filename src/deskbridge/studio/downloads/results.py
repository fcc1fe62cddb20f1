"""What the download engine reports: a file's bytes as they arrive, and each clip's outcome, as typed values.

The engine (:mod:`.downloader`) is the one place that counts a batch's
clips: each :class:`ClipOutcome` carries the :class:`Tally` as it stood when
that clip started or ended, so whoever turns outcomes into events reads the
counters instead of keeping its own.
"""

from __future__ import annotations

from typing import Any, Literal

import msgspec

from deskbridge.studio.suno.models import Format


class DownloadResult(msgspec.Struct, kw_only=True, omit_defaults=True):
    """One clip's download as it ended; a field at its default is not sent."""

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
    extras_problem: str | None = None
    """Why the sidecar or the file's time could not be made (the song is saved all the same)."""


class DownloadOptions(msgspec.Struct, frozen=True, kw_only=True):
    """How each file of a download is made."""

    format: Format = "mp3"
    with_thumbnail: bool = True
    append_uuid: bool = False
    sidecar: bool = False
    """Write ``<file>.json`` with the clip as Suno gave it."""
    file_times: bool = False
    """Give each file the song's creation time as its modification time."""


class FileProgress(msgspec.Struct, kw_only=True, frozen=True):
    """One file's bytes so far: the fields of a ``DOWNLOAD_PROGRESS``."""

    clip_id: str
    file_name: str
    downloaded: int
    total: int
    """0 while the size is unknown."""
    progress: int
    speed: float
    """Bytes per second since the file started."""


class Preparing(msgspec.Struct, kw_only=True, frozen=True):
    """Suno is still making a file (``processing``) or asked the studio to slow down (``rate_limited``)."""

    clip_id: str
    format: Format
    status: str
    waited: float
    """Seconds since the first poll."""
    message: str


class Tally(msgspec.Struct, frozen=True):
    """A batch's clips by how they ended."""

    downloaded: int = 0
    skipped: int = 0
    failed: int = 0

    @property
    def completed(self) -> int:
        return self.downloaded + self.skipped + self.failed

    def counted(self, result: DownloadResult) -> Tally:
        """This tally with ``result`` counted."""
        return msgspec.structs.replace(self, **{result.status: getattr(self, result.status) + 1})


class ClipOutcome(msgspec.Struct, kw_only=True, frozen=True):
    """A clip of a batch that started (``result`` is None) or ended, with the batch's tally at that moment."""

    index: int
    """From 1, in the order the clips were given."""
    total: int
    clip_id: str
    title: str
    tally: Tally
    result: DownloadResult | None = None

    @property
    def status(self) -> Literal["downloading", "downloaded", "skipped", "failed"]:
        return "downloading" if self.result is None else self.result.status

    @property
    def completed(self) -> int:
        return self.tally.completed

    @property
    def progress(self) -> int:
        """Percent of the batch's clips that have ended."""
        return self.completed * 100 // self.total
