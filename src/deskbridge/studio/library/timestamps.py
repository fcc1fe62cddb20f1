"""Times as the seed writes them: ``"2025-01-01 10:00:00"``, local time.

Every time the studio stores or returns has this one shape, which sorts as
text; times that come in (``last_used``, ``created_at``) may be any ISO 8601
form and are converted to it.
"""

from __future__ import annotations

from datetime import datetime

from deskbridge.clock import Clock
from deskbridge.studio.fields import invalid


def now(clock: Clock) -> str:
    return _text(datetime.fromtimestamp(clock.time()))


def parse(value: str, field: str) -> str:
    """``value`` (ISO 8601, with or without a zone) as local ``YYYY-MM-DD HH:MM:SS``."""
    try:
        moment = datetime.fromisoformat(value)
        if moment.tzinfo is not None:
            moment = moment.astimezone().replace(tzinfo=None)
    except (ValueError, OverflowError):
        raise invalid(field, f"{value!r} is not a date and time like '2025-01-01 10:00:00'") from None
    return _text(moment)


def _text(moment: datetime) -> str:
    return moment.isoformat(sep=" ", timespec="seconds")
