"""Play time per child per local day, written at every tick so a crash loses seconds, not an evening.

Instants are epoch seconds (UTC); a day is a date in the configured zone
(``None``: the system's local time, DST included), and a span that crosses
local midnight is split between the two days.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta, tzinfo

from deskbridge.store import Database


def local_day(moment: float, zone: tzinfo | None) -> date:
    return datetime.fromtimestamp(moment, zone).date()


def day_start(day: date, zone: tzinfo | None) -> float:
    """The instant local ``day`` begins (a naive datetime's ``timestamp()`` reads it as local time)."""
    return datetime.combine(day, time(), tzinfo=zone).timestamp()


def split_by_day(start: float, end: float, zone: tzinfo | None) -> list[tuple[date, float]]:
    """``[start, end)`` as seconds per local day."""
    parts = []
    while start < end:
        day = local_day(start, zone)
        boundary = min(end, day_start(day + timedelta(days=1), zone))
        parts.append((day, boundary - start))
        start = boundary
    return parts


class Usage:
    """Seconds played per (child, day), in the guardian's database."""

    def __init__(self, db: Database, zone: tzinfo | None) -> None:
        self._db = db
        self.zone = zone

    def day(self, moment: float) -> date:
        return local_day(moment, self.zone)

    def add(self, child: str, start: float, end: float) -> None:
        with self._db.transaction() as conn:
            conn.executemany(
                "INSERT INTO usage (child, day, seconds) VALUES (?, ?, ?) "
                "ON CONFLICT (child, day) DO UPDATE SET seconds = seconds + excluded.seconds",
                [(child, day.isoformat(), seconds) for day, seconds in split_by_day(start, end, self.zone)],
            )

    def seconds(self, child: str, day: date) -> float:
        rows = self._db.query("SELECT seconds FROM usage WHERE child = ? AND day = ?", (child, day.isoformat()))
        return float(rows[0]["seconds"]) if rows else 0.0

    def week_seconds(self, child: str, day: date) -> float:
        """Seconds played from the Monday of ``day``'s week to ``day``."""
        monday = day - timedelta(days=day.weekday())
        rows = self._db.query(
            "SELECT SUM(seconds) AS total FROM usage WHERE child = ? AND day BETWEEN ? AND ?",
            (child, monday.isoformat(), day.isoformat()),
        )
        return float(rows[0]["total"] or 0.0)

    def history(self, child: str, last: date, days: int) -> list[tuple[date, float]]:
        """Seconds played on each of the ``days`` days ending with ``last``, oldest first."""
        first = last - timedelta(days=days - 1)
        rows = self._db.query(
            "SELECT day, seconds FROM usage WHERE child = ? AND day BETWEEN ? AND ?",
            (child, first.isoformat(), last.isoformat()),
        )
        played = {row["day"]: float(row["seconds"]) for row in rows}
        return [(day, played.get(day.isoformat(), 0.0)) for day in (first + timedelta(n) for n in range(days))]
