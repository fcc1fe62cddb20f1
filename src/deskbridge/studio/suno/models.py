"""A Suno clip as the feeds send it, typed for the fields the studio uses.

Suno sends ``null`` for much of a clip that is still being made (no image,
no duration yet), so every field but ``id`` is optional; unknown fields are
ignored. The ``id`` ends up in URL paths and file names, so it is held to
the shape Suno's ids have (letters, digits, ``-`` and ``_``): a payload clip
whose id is ``../x`` is refused before anything is fetched. The command layer
turns a payload's clip dict into a :class:`Clip` with
``msgspec.convert(data, Clip, strict=False)`` (or by typing its payload field
as ``Clip``), and a :class:`Clip` back into JSON with ``msgspec.to_builtins``.
Lists of clips from Suno are kept as Suno sent them (a backup's sidecar
holds every field); :func:`clips_of` reads the typed view of each, leaving
out what has no valid id.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Annotated, Any, Final, Literal

import msgspec

ClipId = Annotated[str, msgspec.Meta(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9_-]+$")]

UNFINISHED: Final = frozenset({"submitted", "queued", "streaming", "error"})
"""Statuses of a clip that has no final audio yet."""
Format = Literal["mp3", "m4a", "wav", "mp4"]
"""The files ``GET /api/download/clip/{id}?format=`` prepares (``mp4`` is the video)."""


class ClipMetadata(msgspec.Struct, kw_only=True, omit_defaults=True):
    prompt: str | None = None
    """The lyrics."""
    tags: str | None = None
    """The style."""
    negative_tags: str | None = None
    duration: float | None = None
    type: str | None = None
    stem_from_id: str | None = None


class Workspace(msgspec.Struct, kw_only=True, omit_defaults=True):
    """A clip's ``project``: the workspace it is in."""

    id: str | None = None
    name: str | None = None


class Clip(msgspec.Struct, kw_only=True, omit_defaults=True):
    id: ClipId
    title: str | None = None
    status: str | None = None
    audio_url: str | None = None
    video_url: str | None = None
    image_url: str | None = None
    image_large_url: str | None = None
    model_name: str | None = None
    major_model_version: str | None = None
    created_at: str | None = None
    display_name: str | None = None
    handle: str | None = None
    user_id: str | None = None
    """The owner: equal to the session's ``suno.com/claims/user_id`` for the account's own clips."""
    is_liked: bool | None = None
    is_public: bool | None = None
    is_trashed: bool | None = None
    is_download_unlocked: bool | None = None
    project: Workspace | None = None
    metadata: ClipMetadata = msgspec.field(default_factory=ClipMetadata)

    @property
    def cover_url(self) -> str | None:
        """The largest cover Suno offers."""
        return self.image_large_url or self.image_url or None


def clip_of(data: Any) -> Clip | None:
    """The typed view of one clip as Suno sent it; ``None`` if it is not one (no valid id)."""
    try:
        return msgspec.convert(data, Clip, strict=False)
    except msgspec.ValidationError:
        return None


def clips_of(items: Iterable[Any]) -> list[tuple[Clip, dict[str, Any]]]:
    """Each clip of a list from Suno with its typed view, in order; entries that are no clip are left out."""
    found = []
    for item in items:
        if isinstance(item, dict) and (clip := clip_of(item)) is not None:
            found.append((clip, item))
    return found


def moment(text: str | None) -> datetime | None:
    """A time as Suno writes it (``2026-10-01T17:52:08.520Z``) or a date, aware (UTC when it names no zone);
    ``None`` if there is none or it cannot be read."""
    if not text:
        return None
    try:
        when = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return when if when.tzinfo is not None else when.replace(tzinfo=UTC)
