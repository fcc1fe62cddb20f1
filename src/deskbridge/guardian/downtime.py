"""The guardian's own stops: each one found at start is recorded per day, and the parent is told.

Stopping the guardian must not free the game. Time played meanwhile is
counted at start (:meth:`~deskbridge.guardian.service.Guardian.tick`'s unseen
play); here, the stop itself: a stop without a clean shutdown (killed from the
task manager, crashed, power cut) is always reported with the gap it left, a
clean one only counts, and more than ``monitor.max_stops_per_day`` stops in a
day is said to the parent each time, as a child stopping the service again
and again would cause.
"""

from __future__ import annotations

from datetime import date
from typing import Final

import msgspec

from deskbridge.guardian import settings
from deskbridge.store import Database

CLEAN_STOP: Final = "clean_stop"
"""Saved by a clean shutdown (its time), removed at start: its absence at start means the last run was cut."""


class Stop(msgspec.Struct, frozen=True):
    last_seen: float
    """The last tick the stopped run saved."""
    started: float
    clean: bool
    today: int
    """Stops recorded on the day of ``started``, this one included."""

    @property
    def seconds(self) -> float:
        return max(0.0, self.started - self.last_seen)


class Downtime:
    def __init__(self, db: Database) -> None:
        self._db = db
        marker = settings.load(db, CLEAN_STOP)
        self._clean = marker is not None
        if marker is not None:
            settings.delete(db, CLEAN_STOP)

    def found(self, last_seen: float, started: float, day: date) -> Stop:
        """Record the stop between the last saved tick and this start."""
        with self._db.transaction() as conn:
            conn.execute(
                "INSERT INTO stops VALUES (?, ?, ?, ?)",
                (day.isoformat(), int(last_seen * 1000), int(started * 1000), int(self._clean)),
            )
            (count,) = conn.execute("SELECT COUNT(*) FROM stops WHERE day = ?", (day.isoformat(),)).fetchone()
        return Stop(last_seen, started, self._clean, int(count))

    def stopping(self, now: float) -> None:
        """A clean shutdown: the next start will not report it as a kill."""
        settings.save(self._db, CLEAN_STOP, now)
