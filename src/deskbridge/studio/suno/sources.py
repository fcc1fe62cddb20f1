"""Every place a user keeps songs on Suno, as one list of clips: ``FETCH_CLIPS``'s sources and filters.

``my_songs``   the library feed (v2 pages), the account's own clips only:
               the feed also holds the sources of covers and remixes, so
               each clip's owner (``user_id``) is checked against the
               session's (``suno.com/claims/user_id``; the handle when the
               token has no such claim);
``library``    the library as the web app pages it now: feed v3 with its
               cursor and a ``user`` filter, owners checked too;
``workspace``  one workspace's clips (feed v3's ``workspace`` filter);
``playlist``   a playlist's clips, the user's or anyone's public one, by id;
``profile``    a handle's public clips.

Filters a backup needs, applied to every source: ``created_after`` /
``created_before`` (ISO dates or times, inclusive), ``liked_only``, and
``include_disliked`` / ``include_trashed`` (left out by default: the
feed's own filters for v3, the ``is_trashed`` flag elsewhere). Clips come
back as Suno sent them, so a backup's sidecars keep every field.
"""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Annotated, Any, Literal

import msgspec

from deskbridge.errors import CommandError, ErrorCode
from deskbridge.studio.suno.models import Clip, clips_of, moment

if TYPE_CHECKING:  # the API client (and httpx) load with the first call to Suno, not with the backend
    from deskbridge.studio.suno.api import SunoClient

Raw = dict[str, Any]
"""A clip as Suno sent it."""
Source = Literal["my_songs", "library", "workspace", "playlist", "profile"]


When = Annotated[str, msgspec.Meta(pattern=r"^\d{4}-\d{2}-\d{2}([T ][0-9:.]+(Z|[+-]\d{2}:?\d{2})?)?$")]
"""A date (``2026-10-01``: the whole day) or a time (``2026-10-01T17:52:08Z``; UTC unless it says)."""


class ClipFilters(msgspec.Struct, frozen=True, kw_only=True):
    created_after: When | None = None
    created_before: When | None = None
    liked_only: bool = False
    include_disliked: bool = False
    include_trashed: bool = False


class Fetched(msgspec.Struct, kw_only=True, omit_defaults=True):
    clips: list[Raw]
    foreign: int = 0
    """Clips of the feed that are someone else's (sources of covers and remixes): left out."""
    filtered: int = 0
    """Clips the filters left out."""
    owner_checked: bool = True


async def fetch(
    suno: SunoClient, source: Source, *, target: str | None = None, filters: ClipFilters | None = None
) -> Fetched:
    """The clips of ``source`` (``target``: the workspace id, playlist id or handle), filtered."""
    wanted = filters or ClipFilters()
    own = source in ("my_songs", "library")
    user_id = await suno.account_user_id() if own else None
    handle = await suno.account_handle() if own and user_id is None else None
    if source == "my_songs":
        raw = await suno.library_raw()
    elif source == "library":
        raw = await suno.library_v3(
            user_id=user_id, include_disliked=wanted.include_disliked, include_trashed=wanted.include_trashed
        )
    elif source == "workspace":
        raw = await suno.library_v3(
            workspace_id=_target(target, "workspace_id"),
            include_disliked=wanted.include_disliked,
            include_trashed=wanted.include_trashed,
        )
    elif source == "playlist":
        raw = await suno.playlist_clips(_target(target, "playlist_id"))
    else:
        raw = [msgspec.to_builtins(clip) for clip in await suno.profile_clips(_target(target, "profile_name"))]
    typed = clips_of(raw)
    foreign = 0
    if own and (user_id is not None or handle is not None):
        mine = [pair for pair in typed if _owned(pair[0], user_id, handle)]
        foreign = len(typed) - len(mine)
        typed = mine
    kept = [item for clip, item in typed if _kept(clip, wanted)]
    return Fetched(
        clips=kept,
        foreign=foreign,
        filtered=len(typed) - len(kept),
        owner_checked=not own or user_id is not None or handle is not None,
    )


def _target(target: str | None, field: str) -> str:
    if not target:
        raise CommandError(ErrorCode.INVALID_PAYLOAD, f"this source needs {field}", {"fields": [f"$.{field}"]})
    return target


def _owned(clip: Clip, user_id: str | None, handle: str | None) -> bool:
    if user_id is not None:
        return clip.user_id == user_id
    return clip.handle == handle


def _kept(clip: Clip, filters: ClipFilters) -> bool:
    if filters.liked_only and clip.is_liked is not True:
        return False
    if not filters.include_trashed and clip.is_trashed is True:
        return False
    if filters.created_after is None and filters.created_before is None:
        return True
    created = moment(clip.created_at)
    if created is None:
        return False
    after = moment(filters.created_after)
    if after is not None and created < after:
        return False
    before = moment(filters.created_before)
    if before is not None and filters.created_before is not None and len(filters.created_before) == 10:
        before += timedelta(days=1)  # a date is the whole day
        return created < before
    return before is None or created <= before
