"""How long to wait before trying Suno again.

Tools that scrape Suno back off exponentially from 2 s to 60 s on 429 and
honour ``Retry-After``; so does the studio, for the API and the CDN alike.
The policy only computes delays: callers sleep through an injected function,
so tests run at full speed and still see every delay that was asked for.
"""

from __future__ import annotations

import time
from typing import Annotated, Final

import msgspec

RETRY_STATUSES: Final = frozenset({408, 425, 429, 500, 502, 503, 504})
"""Answers that say "not now" rather than "no"."""


class RetryPolicy(msgspec.Struct, frozen=True, kw_only=True):
    attempts: Annotated[int, msgspec.Meta(ge=1)] = 5
    """Tries in all, the first included."""
    first_delay: Annotated[float, msgspec.Meta(ge=0)] = 2.0
    max_delay: Annotated[float, msgspec.Meta(ge=0)] = 60.0

    def delay(self, failures: int, retry_after: str | None = None) -> float:
        """Seconds to wait after the ``failures``-th failed try: ``Retry-After`` if given, else 2 s, 4 s, 8 s..."""
        asked = parse_retry_after(retry_after) if retry_after else None
        wanted = asked if asked is not None else self.first_delay * 2 ** (failures - 1)
        return min(self.max_delay, max(0.0, wanted))


def parse_retry_after(value: str, now: float | None = None) -> float | None:
    """``Retry-After`` in seconds, from delta-seconds or an HTTP date; ``None`` if unreadable."""
    value = value.strip()
    if value.isdigit():
        return float(value)
    import email.utils  # an HTTP date is rare; the email package is not loaded at start for it

    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return when.timestamp() - (time.time() if now is None else now)
