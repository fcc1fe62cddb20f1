"""The stand-in's download allowance, the unlocking of clips, and the preparation of their files.

Suno since 2026-09-03 (public captures, Sept-Dec 2026): ``billing/info``
carries ``download_usage``; ``POST /api/download/authorize`` unlocks a clip
for good, spending one download of the period (then one bought on top)
unless it is unlocked already; ``GET /api/download/clip/{id}?format=``
prepares a file (``processing``, maybe ``rate_limited``, then ``ready`` with a
signed ``download_url``, or ``error``) and answers ``ok: false`` with reason
``not_authorized`` for a clip that is not unlocked. Repeats of an unlocked
clip, in any format, cost nothing. Tests set the numbers and the
preparation's hiccups through ``/_control/downloads``.
"""

from __future__ import annotations

import hashlib
import hmac
from typing import Any, Final

import msgspec

from deskbridge_standins.suno.media import silent_mp3, silent_mp4, silent_wav

FORMATS: Final = ("mp3", "m4a", "wav", "mp4")
MEDIA_TYPES: Final = {"mp3": "audio/mpeg", "m4a": "audio/mp4", "wav": "audio/wav", "mp4": "video/mp4"}
PERIOD_END: Final = "2026-12-31T00:00:00Z"


class AllowanceSettings(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    limit: int = 1_000
    """``current_period_downloads_limit``: Free 7 (for life), Pro 20, Premier 60."""
    used: int = 0
    """Downloads spent this period before the first authorization the stand-in sees."""
    additional: int = 0
    """``additional_download_remaining``: bought on top, spent once the period's are gone."""
    processing: dict[str, int] = {}
    """Per format, how many polls of a clip's file answer ``processing`` before ``ready`` (WAV takes longest)."""
    rate_limited: int = 0
    """How many polls of each clip's file answer ``rate_limited`` first."""
    error: str | None = None
    """When set, every preparation ends in ``error`` with this message."""
    sizes: dict[str, int] = {}
    """Per format, the prepared file's size in bytes (defaults: the account's MP3 size, WAV ten times it)."""


class Allowance:
    def __init__(self, secret: bytes, settings: AllowanceSettings | None = None) -> None:
        self.defaults = settings or AllowanceSettings()
        self.settings = self.defaults
        self._secret = secret
        self.unlocked: set[str] = set()
        self.spent = 0
        self._polls: dict[tuple[str, str], int] = {}
        self._files: dict[tuple[str, int], bytes] = {}

    def reset(self) -> None:
        self.settings = self.defaults
        self.forget_clips()

    def forget_clips(self) -> None:
        """A new library: nothing unlocked, nothing spent, no file being prepared (the settings stay)."""
        self.unlocked.clear()
        self.spent = 0
        self._polls.clear()

    def configure(self, changes: dict[str, Any]) -> AllowanceSettings:
        self.settings = msgspec.convert({**msgspec.to_builtins(self.settings), **changes}, AllowanceSettings)
        return self.settings

    # -- billing and authorizing ------------------------------------------------

    def usage(self) -> dict[str, Any]:
        """``download_usage`` as ``billing/info`` shows it."""
        settings = self.settings
        from_period = min(self.spent, max(0, settings.limit - settings.used))
        return {
            "current_period_downloads_used": settings.used + from_period,
            "current_period_downloads_limit": settings.limit,
            "additional_download_remaining": max(0, settings.additional - (self.spent - from_period)),
            "current_period_download_top_ups_purchased": 0,
            "current_period_download_top_up_purchase_limit": settings.limit,
        }

    def remaining(self) -> int:
        usage = self.usage()
        period: int = usage["current_period_downloads_limit"] - usage["current_period_downloads_used"]
        additional: int = usage["additional_download_remaining"]
        return max(0, period) + additional

    def is_unlocked(self, clip: dict[str, Any]) -> bool:
        return clip["id"] in self.unlocked or clip.get("is_download_unlocked") is True

    def authorize(self, clip: dict[str, Any]) -> dict[str, Any]:
        """The answer to ``download/authorize``; an unlocked clip costs nothing, others one download if any is left."""
        if self.is_unlocked(clip):
            clip["is_download_unlocked"] = True
            return {"ok": True, "already_unlocked": True, "credit_deducted": False}
        if self.remaining() <= 0:
            return {
                "ok": False,
                "already_unlocked": False,
                "credit_deducted": False,
                "reason": "download_limit_reached",
                "message": "You have used all of your downloads for this period.",
            }
        self.spent += 1
        self.unlocked.add(clip["id"])
        clip["is_download_unlocked"] = True
        return {"ok": True, "already_unlocked": False, "credit_deducted": True}

    # -- preparing files ----------------------------------------------------------

    def poll(self, clip: dict[str, Any], fmt: str, base_url: str) -> dict[str, Any]:
        """The answer to one ``download/clip`` poll of a clip in a format."""
        if not self.is_unlocked(clip):
            return {
                "ok": False,
                "status": "error",
                "reason": "not_authorized",
                "message": "Unlock this song to download it.",
            }
        key = (clip["id"], fmt)
        seen = self._polls[key] = self._polls.get(key, 0) + 1
        settings = self.settings
        if seen <= settings.rate_limited:
            return {"ok": False, "status": "rate_limited", "reason": "rate_limited"}
        if seen <= settings.rate_limited + settings.processing.get(fmt, 0):
            return {"ok": True, "status": "processing"}
        if settings.error is not None:
            return {"ok": False, "status": "error", "message": settings.error}
        name = f"{clip['id']}.{fmt}"
        return {
            "ok": True,
            "status": "ready",
            "download_url": f"{base_url}/cdn/authorized/{name}?sig={self.sign(name)}",
        }

    def sign(self, name: str) -> str:
        return hmac.new(self._secret, f"file:{name}".encode(), hashlib.sha256).hexdigest()[:32]

    def file(self, fmt: str, mp3_bytes: int) -> bytes:
        """The prepared file of a format: every clip's is the same silence, made once per size."""
        size = self.settings.sizes.get(fmt, mp3_bytes * (10 if fmt == "wav" else 1))
        key = (fmt, size)
        if key not in self._files:
            makers = {"mp3": silent_mp3, "wav": silent_wav, "m4a": silent_mp4}
            self._files[key] = makers[fmt](size) if fmt in makers else silent_mp4(size, b"isom")
        return self._files[key]
