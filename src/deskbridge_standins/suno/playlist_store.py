"""The stand-in's playlists: which clips each holds, whose it is, and whether anyone may read it."""

from __future__ import annotations

import uuid
from typing import Any, Final

import msgspec

_IDS: Final = uuid.UUID("5a1e5a1e-0000-4000-8000-0000000000aa")


class PlaylistIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    name: str
    clip_ids: list[str]
    id: str | None = None
    is_public: bool = True
    owner_handle: str | None = None
    """Someone else's playlist when set to another handle than the account's."""


class Playlists:
    def __init__(self) -> None:
        self.playlists: dict[str, tuple[PlaylistIn, str]] = {}
        """id -> (the playlist, its owner's handle)."""

    def add(self, items: list[PlaylistIn], handle: str, *, replace: bool) -> list[dict[str, Any]]:
        if replace:
            self.playlists.clear()
        made = []
        for item in items:
            playlist_id = item.id or str(uuid.uuid5(_IDS, f"playlist-{len(self.playlists)}-{item.name}"))
            self.playlists[playlist_id] = (item, item.owner_handle or handle)
            made.append({"id": playlist_id, "name": item.name})
        return made
