"""Suno failed us: unreachable, still 5xx after the retries, or an answer of the wrong shape.

Not the user's fault and not a bug of ours, so it is a :class:`CommandError`
(the front end sees the message, no traceback is logged). The seed has no
code for it: it goes out as ``INTERNAL_ERROR`` unless the caller knows
better, as the downloader does (``DOWNLOAD_FAILED``). ``status`` is Suno's
HTTP status when there was one.
"""

from __future__ import annotations

from deskbridge.errors import CommandError, ErrorCode


class SunoError(CommandError):
    def __init__(self, message: str, status: int | None = None, code: ErrorCode = ErrorCode.INTERNAL_ERROR) -> None:
        super().__init__(code, message, {"status": status} if status is not None else None)
        self.status = status
