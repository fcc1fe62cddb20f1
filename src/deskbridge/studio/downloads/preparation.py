"""Waiting for Suno to prepare a file, as Suno's own web app does.

``GET /api/download/clip/{id}?format=`` answers ``processing`` until the
file is made (a WAV takes longest: its first poll starts the conversion),
then ``ready`` with a signed ``download_url`` (an hour's life). The web app
asks every 2 s, 90 times (3 minutes); so does the studio, both numbers in
``studio.downloads`` (``prepare_interval``, ``prepare_timeout``). A
``rate_limited`` answer is waited out with the retry policy's backoff
(2 s, 4 s... up to its ``max_delay``) and the polling goes on, within the
same deadline. ``error`` fails the clip with Suno's message;
``not_authorized`` (the clip is locked after all) fails it with
``details.reason`` ``authorization_required``. A failed preparation costs
no download. While it waits, ``on_wait`` hears about it (the operation's
progress says "preparing").
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Final

from deskbridge.errors import CommandError
from deskbridge.studio.errors import StudioError
from deskbridge.studio.suno.api import DownloadPoll, SunoClient
from deskbridge.studio.suno.retry import RetryPolicy

Sleep = Callable[[float], Awaitable[None]]
OnWait = Callable[[str, float], None]
"""``(status, seconds waited so far)``: ``processing`` or ``rate_limited``."""

READY: Final = frozenset({"ready", "complete"})


INTERVAL: Final = 2.0
"""Seconds between two polls while Suno says ``processing``: what its web app waits."""
TIMEOUT: Final = 180.0
"""How long a file may take to prepare: the web app's 90 polls."""


class Preparation:
    def __init__(
        self,
        suno: SunoClient,
        retry: RetryPolicy,
        sleep: Sleep,
        clock: Callable[[], float],
        *,
        interval: float = INTERVAL,
        timeout: float = TIMEOUT,
    ) -> None:
        self._suno = suno
        self._interval = interval
        self._timeout = timeout
        self._retry = retry
        self._sleep = sleep
        self._clock = clock

    async def url(self, clip_id: str, fmt: str, on_wait: OnWait | None = None) -> str:
        """The prepared file's URL; ``DOWNLOAD_FAILED`` on Suno's ``error``, a refusal, or the deadline."""
        started = self._clock()
        limited = 0
        while True:
            poll = await self._suno.download_poll(clip_id, fmt)
            status = (poll.status or "").lower()
            if poll.download_url and (status in READY or not status):
                return poll.download_url
            if status == "rate_limited" or (poll.reason or "").lower() == "rate_limited":
                limited += 1
                wait = self._retry.delay(limited)
            elif status == "processing":
                limited = 0
                wait = self._interval
            else:
                raise _failed_poll(clip_id, fmt, poll)
            waited = self._clock() - started
            if waited + wait > self._timeout:
                raise CommandError(
                    StudioError.DOWNLOAD_FAILED,
                    f"Suno was still preparing the {fmt.upper()} of clip {clip_id} after {waited:.0f} s "
                    f"(status {status}); nothing was spent: try again later",
                    {"reason": "preparation_timeout", "status": status, "waited": round(waited, 1)},
                )
            if on_wait is not None:
                on_wait(status, waited)
            await self._sleep(wait)


def _failed_poll(clip_id: str, fmt: str, poll: DownloadPoll) -> CommandError:
    said = poll.message or poll.detail or poll.reason or "no reason given"
    if (poll.reason or "").lower() == "not_authorized":
        return CommandError(
            StudioError.DOWNLOAD_FAILED,
            f"Suno says clip {clip_id} is locked for this account: {said}",
            {"reason": "authorization_required", "suno_reason": poll.reason},
        )
    return CommandError(
        StudioError.DOWNLOAD_FAILED,
        f"Suno could not prepare the {fmt.upper()} of clip {clip_id}: {said}",
        {"reason": "preparation_failed", "status": poll.status, "suno_reason": poll.reason},
    )
