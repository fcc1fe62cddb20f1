"""Which zone's midnight ends a day, and noticing when the system's zone is changed.

Without ``timezone`` in the config, the system's zone at the first run is
stored and ends the days from then on: a child who moves the PC to another
zone gets no fresh evening. A change of the system's zone is told once, like
a clock jump.
"""

from __future__ import annotations

import contextlib
import json
import os
import zoneinfo
from collections.abc import Callable
from pathlib import Path
from typing import Final

from deskbridge.guardian import settings
from deskbridge.store import Database

DAY_ZONE: Final = "day_zone"
SYSTEM_ZONE: Final = "system_zone"
"""The system's zone when the guardian last looked, so that a change is told once."""

ZoneSource = Callable[[], str]


def system_zone() -> str:
    """The system's IANA time zone (``Europe/Paris``); empty when the system will not tell (then local time)."""
    candidates = [os.environ.get("TZ", "").lstrip(":")]
    with contextlib.suppress(OSError):
        candidates.append(os.readlink("/etc/localtime").partition("zoneinfo/")[2])
    with contextlib.suppress(OSError):
        candidates.append(Path("/etc/timezone").read_text(encoding="utf-8").strip())
    for name in candidates:
        with contextlib.suppress(zoneinfo.ZoneInfoNotFoundError, ValueError):
            if name:
                zoneinfo.ZoneInfo(name)  # cached after the first time
                return name
    return ""


class Zones:
    def __init__(self, db: Database, configured: str | None, source: ZoneSource) -> None:
        self._db = db
        self._source = source
        if configured is not None:
            self.day: zoneinfo.ZoneInfo | None = zoneinfo.ZoneInfo(configured)
            return
        stored = settings.load(db, DAY_ZONE)
        name = json.loads(stored) if stored is not None else source()
        if stored is None:
            settings.save(db, DAY_ZONE, name)
            settings.save(db, SYSTEM_ZONE, name)
        self.day = zoneinfo.ZoneInfo(name) if name else None

    def changed(self) -> tuple[str, str] | None:
        """(before, now) when the system's zone changed since the last look, once per change."""
        current = self._source()
        stored = settings.load(self._db, SYSTEM_ZONE)
        before = json.loads(stored) if stored is not None else current
        if current == before:
            return None
        settings.save(self._db, SYSTEM_ZONE, current)
        return before, current
