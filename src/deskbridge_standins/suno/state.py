"""What the stand-in Suno remembers: one account, its clips, sessions, files, allowance and playlists.

Kept apart from the HTTP routes so the rules (who may download what, how a
clip looks, when a token is valid) read in one place. Clips are plain dicts
shaped like Suno's JSON, with every field of ``reference/suno.md`` and the
nulls Suno sends; the studio's typed models are deliberately not used here,
so the stand-in cannot agree with the client by construction.
"""

from __future__ import annotations

import secrets
import time
import uuid
from datetime import UTC, datetime
from typing import Any, Final

import msgspec

from deskbridge_standins.suno import jwt
from deskbridge_standins.suno.allowance import Allowance
from deskbridge_standins.suno.media import MP3_FRAME_BYTES, MP3_FRAME_SECONDS, flat_jpeg, silent_mp3
from deskbridge_standins.suno.playlist_store import Playlists

_IDS: Final = uuid.UUID("5a1e5a1e-0000-4000-8000-000000000000")
_EPOCH: Final = 1_780_000_000


class Settings(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    token_lifetime: float = 60.0
    """Seconds a JWT lives."""
    audio_bytes: int = 48_000
    image_bytes: int = 2_000
    page_size: int = 20
    handle: str = "standin"
    display_name: str = "Stand-in Artist"
    credits: int = 2_500


class SunoState:
    def __init__(self, base_url: str, settings: Settings | None = None) -> None:
        self.base_url = base_url
        self.defaults = settings or Settings()
        self.settings = self.defaults
        self.secret = secrets.token_bytes(32)
        self.user_id = str(uuid.uuid5(_IDS, "user"))
        """Suno's id of the account (its clips' ``user_id``); Clerk's is :attr:`clerk_id`, the token's ``sub``."""
        self.clerk_id = "user_" + uuid.uuid5(_IDS, "clerk").hex[:24]
        self.clips: list[dict[str, Any]] = []
        """Newest first."""
        self.sessions: dict[str, str] = {}
        """``__client`` cookie value → session id."""
        self.allowance = Allowance(self.secret)
        self.playlists = Playlists()
        self._serial = 0
        self._audio: tuple[int, bytes] = (0, b"")
        self._covers: dict[str, bytes] = {}

    # -- clips ------------------------------------------------------------------

    def add_clips(self, partials: list[dict[str, Any]], *, replace: bool) -> list[dict[str, Any]]:
        """Put clips (given newest first; missing fields made up) on top of the feed."""
        if replace:
            self.clips = []
            self.allowance.forget_clips()
        first = self._serial + 1
        self._serial += len(partials)
        made = [self._clip(first + len(partials) - 1 - n, partial) for n, partial in enumerate(partials)]
        self.clips = made + self.clips
        return made

    def clip(self, clip_id: str) -> dict[str, Any] | None:
        return next((clip for clip in self.clips if clip["id"] == clip_id), None)

    def library(self) -> list[dict[str, Any]]:
        return [clip for clip in self.clips if clip["handle"] == self.settings.handle]

    def public_clips(self, handle: str) -> list[dict[str, Any]]:
        return [clip for clip in self.clips if clip["handle"] == handle and clip["is_public"]]

    def forbidden_url(self) -> str:
        return f"{self.base_url}/api/forbidden"

    def is_forbidden(self, clip: dict[str, Any]) -> bool:
        """A clip only the authorized route serves (``audio_url`` is the placeholder)."""
        return bool(clip["audio_url"] == self.forbidden_url())

    def _owner(self, partial: dict[str, Any]) -> str:
        """A seeded clip of another handle belongs to someone else: its own user id."""
        handle = partial.get("handle", self.settings.handle)
        return self.user_id if handle == self.settings.handle else str(uuid.uuid5(_IDS, f"user:{handle}"))

    def _clip(self, serial: int, partial: dict[str, Any]) -> dict[str, Any]:
        clip_id = str(partial.get("id") or uuid.uuid5(_IDS, f"clip-{serial}"))
        cdn = f"{self.base_url}/cdn"
        seconds = max(1, self.settings.audio_bytes // MP3_FRAME_BYTES) * MP3_FRAME_SECONDS
        metadata = {
            "tags": f"stand-in style {serial}, lo-fi",
            "negative_tags": "",
            "prompt": f"[Verse]\nline one of song {serial}\n[Chorus]\nla la la",
            "gpt_description_prompt": None,
            "audio_prompt_id": None,
            "history": None,
            "concat_history": None,
            "type": "gen",
            "duration": round(seconds, 2),
            "refund_credits": False,
            "stream": True,
            "error_type": None,
            "error_message": None,
            **partial.get("metadata", {}),
        }
        return {
            "id": clip_id,
            "video_url": "",
            "audio_url": f"{cdn}/{clip_id}.mp3",
            "image_url": f"{cdn}/image_{clip_id}.jpeg",
            "image_large_url": f"{cdn}/image_large_{clip_id}.jpeg",
            "is_video_pending": False,
            "major_model_version": "v4.5",
            "model_name": "chirp-auk",
            "is_liked": False,
            "user_id": self._owner(partial),
            "display_name": self.settings.display_name,
            "handle": self.settings.handle,
            "is_handle_updated": False,
            "avatar_image_url": None,
            "is_trashed": False,
            "reaction": None,
            "created_at": datetime.fromtimestamp(_EPOCH + 60 * serial, UTC).isoformat().replace("+00:00", "Z"),
            "status": "complete",
            "title": f"Stand-in song {serial}",
            "play_count": 0,
            "upvote_count": 0,
            "is_public": True,
            "is_download_unlocked": False,
            **{key: value for key, value in partial.items() if key != "metadata"},
            "metadata": metadata,
        }

    # -- files ------------------------------------------------------------------

    def audio(self) -> bytes:
        """Every clip sounds the same (silence of the configured size), made once."""
        if self._audio[0] != self.settings.audio_bytes:
            self._audio = (self.settings.audio_bytes, silent_mp3(self.settings.audio_bytes))
        return self._audio[1]

    def cover(self, clip_id: str, large: bool) -> bytes:
        key = f"{'large' if large else 'small'}:{clip_id}:{self.settings.image_bytes}"
        if key not in self._covers:
            self._covers[key] = flat_jpeg(f"cover {key}", self.settings.image_bytes * (2 if large else 1))
        return self._covers[key]

    # -- sessions and downloads -------------------------------------------------

    def sign_in(self) -> tuple[str, str]:
        """A new session: its ``__client`` cookie value and its id."""
        client, session_id = secrets.token_urlsafe(24), f"sess_{secrets.token_hex(8)}"
        self.sessions[client] = session_id
        return client, session_id

    def mint(self, session_id: str, lifetime: float | None = None) -> str:
        now = time.time()
        life = self.settings.token_lifetime if lifetime is None else lifetime
        claims = {
            "sub": self.clerk_id,
            "suno.com/claims/user_id": self.user_id,
            "suno/handle": self.settings.handle,
            "sid": session_id,
            "iat": int(now),
            "exp": int(now + life),
        }
        return jwt.encode(claims, self.secret)

    def session_of(self, token: str) -> str | None:
        claims = jwt.decode(token, self.secret, time.time())
        session_id = claims.get("sid") if claims else None
        return session_id if session_id in self.sessions.values() else None
