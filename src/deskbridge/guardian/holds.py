"""Games a parent closed "until" a time (``force_close`` with ``until``): kept closed, without grace, until then."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, tzinfo
from typing import Final

from deskbridge.guardian import settings
from deskbridge.guardian.usage import day_start
from deskbridge.store import Database

HOLDS: Final = "holds"


def until_instant(until: str, now: float, zone: tzinfo | None) -> float:
    """``tomorrow`` (the next local midnight) or ``HH:MM`` (its next occurrence, local) as epoch seconds."""
    moment = datetime.fromtimestamp(now, zone)
    if until == "tomorrow":
        return day_start(moment.date() + timedelta(days=1), zone)
    hours, minutes = (int(part) for part in until.split(":"))
    target = moment.replace(hour=hours, minute=minutes, second=0, microsecond=0)
    if target <= moment:
        target = datetime.combine(moment.date() + timedelta(days=1), target.timetz())
    return target.timestamp()


class Holds:
    """``{child: until}`` on disk, so a restart keeps them."""

    def __init__(self, db: Database) -> None:
        self._db = db
        stored = settings.load(db, HOLDS)
        self.until: dict[str, float] = json.loads(stored) if stored is not None else {}

    def hold(self, children: list[str], until: float) -> None:
        for child in children:
            self.until[child] = until
        settings.save(self._db, HOLDS, self.until)

    def held(self, now: float) -> list[str]:
        """The children held now; holds that ran out are dropped."""
        expired = [child for child, until in self.until.items() if now >= until]
        if expired:
            for child in expired:
                del self.until[child]
            settings.save(self._db, HOLDS, self.until)
        return list(self.until)
