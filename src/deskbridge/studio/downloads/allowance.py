"""Suno's download allowance: what an operation may spend, decided before anything is spent.

Since 2026-09-03 every song a user downloads through Suno's official route
counts against a small allowance (Free 7 in a lifetime, Pro 20 a month,
Premier 60 a month); re-downloads of an unlocked song, in any format, and
failed preparations do not. ``POST /api/download/authorize`` is what spends
one. So a clip is authorized only when the command (``"authorize": true``)
or the config (``studio.downloads.authorize``) asks, only within what
``billing/info``'s ``download_usage`` says remains, and never when it is
already unlocked (``is_download_unlocked``), in the account's download
history (any format), or unlocked by an earlier run of the studio. A clip
that would need one and may not get it fails alone with ``DOWNLOAD_FAILED``
and ``details.reason``:

``authorization_required``  nobody asked to spend the allowance;
``allowance_exhausted``      more clips need it than remain (or Suno said so);
``allowance_unknown``        ``billing/info`` had no ``download_usage``: the
                             studio does not spend what it cannot count.

The details carry the numbers (``needed``, ``remaining``, ``limit``,
``used``, ``additional``); :meth:`AllowanceGate.plan` and
:meth:`AllowanceGate.summary` are what the operation's first progress event
and its result say (:class:`AllowancePlan`, :class:`AllowanceSummary`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Final, NoReturn

import msgspec

from deskbridge.errors import CommandError
from deskbridge.studio.errors import StudioError

if TYPE_CHECKING:
    from deskbridge.studio.suno.api import DownloadAuthorization, DownloadUsage

_EXHAUSTED_WORDS: Final = ("download_limit", "quota", "exceed", "exhaust", "insufficient", "no_download", "used all")
"""Words of an authorize refusal that mean "nothing left" (Suno's reason strings are not documented; "rate limit"
is not one of them)."""


class AllowancePlan(msgspec.Struct, kw_only=True, frozen=True):
    """Before anything is spent (a download operation's first progress event): what will be spent, of what."""

    needed: int
    """Clips that would spend one of Suno's downloads (locked, not unlocked before)."""
    will_authorize: int
    """How many of them will get one: none unless asked, never more than remain."""
    authorize: bool
    """Whether the command (or the config) asked to spend the allowance."""
    remaining: int | None
    """What Suno said remains (null when it did not say, or nothing needed it)."""
    limit: int | None
    used: int | None
    additional: int | None


class AllowanceSummary(msgspec.Struct, kw_only=True, frozen=True):
    """After (a download operation's result): what was spent, and what remains now."""

    needed: int
    authorized: int
    """Clips Suno unlocked for this operation."""
    remaining: int | None
    limit: int | None
    used: int | None
    additional: int | None


class AllowanceGate:
    """Hands out authorizations: only when asked for, never past what remains."""

    def __init__(self, usage: DownloadUsage | None, *, authorize: bool, needed: int) -> None:
        self.usage = usage
        self.wanted = authorize
        self.needed = needed
        self.budget = min(needed, usage.remaining) if authorize and usage is not None else 0
        self.authorized = 0
        self.deducted = 0

    def plan(self) -> AllowancePlan:
        """Before anything is spent: how many clips need an authorization, how many will get one, what remains."""
        return AllowancePlan(needed=self.needed, will_authorize=self.budget, authorize=self.wanted, **self._numbers())

    def summary(self) -> AllowanceSummary:
        """After: how many needed one, how many were authorized, what remains now."""
        numbers = self._numbers()
        if numbers["remaining"] is not None:
            numbers["remaining"] = max(0, numbers["remaining"] - self.deducted)
        return AllowanceSummary(needed=self.needed, authorized=self.authorized, **numbers)

    def take(self, clip_id: str) -> None:
        """Reserve one authorization for ``clip_id``, or ``DOWNLOAD_FAILED`` saying why it may not have one."""
        if not self.wanted:
            left = f" ({self.usage.remaining} left)" if self.usage is not None else ""
            self._refuse(
                "authorization_required",
                f"clip {clip_id} is locked: downloading it spends one of Suno's downloads{left}; "
                'send "authorize": true to spend it',
            )
        if self.usage is None:
            self._refuse(
                "allowance_unknown",
                f"clip {clip_id} is locked and Suno did not say how many downloads remain: nothing was spent",
            )
        if self.budget <= 0:
            self._refuse(
                "allowance_exhausted",
                f"clip {clip_id} is locked and no download is left to spend on it "
                f"({self.needed} clips needed one, {self.usage.remaining} remained)",
            )
        self.budget -= 1

    def spent(self, answer: DownloadAuthorization) -> None:
        self.authorized += 1
        if answer.credit_deducted:
            self.deducted += 1

    def refused(self, clip_id: str, answer: DownloadAuthorization) -> CommandError:
        """Suno said no: that clip fails, and if Suno says nothing is left, so will the rest."""
        said = answer.message or answer.reason or "no reason given"
        exhausted = any(word in f"{answer.reason} {answer.message}".lower() for word in _EXHAUSTED_WORDS)
        if exhausted:
            self.budget = 0
        return self._error(
            "allowance_exhausted" if exhausted else "authorization_refused",
            f"Suno refused to unlock clip {clip_id} for download: {said}",
            suno_reason=answer.reason,
        )

    def _numbers(self) -> dict[str, Any]:
        usage = self.usage
        if usage is None:
            return {"remaining": None, "limit": None, "used": None, "additional": None}
        return {
            "remaining": usage.remaining,
            "limit": usage.current_period_downloads_limit,
            "used": usage.current_period_downloads_used,
            "additional": usage.additional_download_remaining,
        }

    def _refuse(self, reason: str, message: str) -> NoReturn:
        raise self._error(reason, message)

    def _error(self, reason: str, message: str, **extra: Any) -> CommandError:
        details = {"reason": reason, "needed": self.needed, **self._numbers(), **extra}
        return CommandError(StudioError.DOWNLOAD_FAILED, message, details)
