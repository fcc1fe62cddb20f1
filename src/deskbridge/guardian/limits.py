"""How long a child may still play, and what to do as that runs out.

:class:`Allowances` knows each child's limits: the config's profile, the
parent's remote changes (kept in the database, they win over the file) and
bonus time granted for a day. :class:`Enforcer` turns where a child stands
into actions: a warning at each threshold (once each per day, on disk), then
one notice and a grace period, then closing the game, and closing it again at
once if it comes back while the block lasts.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

import msgspec

from deskbridge.guardian import settings
from deskbridge.guardian.config import ChildProfile, Weekday
from deskbridge.store import Database

TIME_LIMIT_EXCEEDED = "time_limit_exceeded"
OUTSIDE_ALLOWED_HOURS = "outside_allowed_hours"


@dataclass(frozen=True)
class Standing:
    """Where a child stands at one moment (seconds)."""

    used: float
    allowed: float
    """The day's limit plus bonus time."""
    hours_left: float | None
    """Seconds until the allowed hours close; None when the profile has none."""

    @property
    def remaining(self) -> float:
        left = self.allowed - self.used
        return left if self.hours_left is None else min(left, self.hours_left)

    @property
    def blocked(self) -> str | None:
        """Why the child may not play now, or None."""
        if self.hours_left == 0:
            return OUTSIDE_ALLOWED_HOURS
        return TIME_LIMIT_EXCEEDED if self.used >= self.allowed else None


class Allowances:
    def __init__(self, db: Database, profiles: dict[str, ChildProfile]) -> None:
        self._db = db
        self._profiles = profiles

    def __contains__(self, child: str) -> bool:
        return child in self._profiles

    def children(self) -> list[str]:
        return sorted(self._profiles)

    def profile(self, child: str) -> ChildProfile:
        """The config's profile with the parent's remote limit changes applied."""
        profile = self._profiles[child]
        rows = self._db.query(
            "SELECT daily_limit_minutes, weekday_limits FROM limit_overrides WHERE child = ?", (child,)
        )
        if not rows:
            return profile
        weekdays = msgspec.json.decode(rows[0]["weekday_limits"], type=dict[Weekday, int])
        return msgspec.structs.replace(
            profile, daily_limit_minutes=rows[0]["daily_limit_minutes"], weekday_limits=weekdays
        )

    def set_limit(self, child: str, minutes: int, weekday: Weekday | None) -> ChildProfile:
        """Every day's limit (config's weekday limits dropped), or one weekday's."""
        with self._db.transaction() as conn:
            profile = self.profile(child)
            if weekday is None:
                daily, weekdays = minutes, {}
            else:
                daily, weekdays = profile.daily_limit_minutes, {**profile.weekday_limits, weekday: minutes}
            conn.execute(
                "INSERT OR REPLACE INTO limit_overrides (child, daily_limit_minutes, weekday_limits) VALUES (?, ?, ?)",
                (child, daily, msgspec.json.encode(weekdays)),
            )
        return self.profile(child)

    def bonus_seconds(self, child: str, day: date) -> float:
        rows = self._db.query("SELECT seconds FROM bonus WHERE child = ? AND day = ?", (child, day.isoformat()))
        return float(rows[0]["seconds"]) if rows else 0.0

    def grant(self, child: str, day: date, minutes: int) -> None:
        with self._db.transaction() as conn:
            conn.execute(
                "INSERT INTO bonus (child, day, seconds) VALUES (?, ?, ?) "
                "ON CONFLICT (child, day) DO UPDATE SET seconds = seconds + excluded.seconds",
                (child, day.isoformat(), minutes * 60.0),
            )

    def standing(self, child: str, profile: ChildProfile, used: float, moment: datetime) -> Standing:
        """``moment`` is local time: it picks the day's limit and the allowed hours."""
        day = moment.date()
        allowed = profile.limit_minutes(day) * 60.0 + self.bonus_seconds(child, day)
        hours_left = profile.allowed_hours.seconds_left(moment) if profile.allowed_hours else None
        return Standing(used, allowed, hours_left)


@dataclass(frozen=True)
class Warn:
    threshold: int
    """The configured warning (minutes) that was crossed."""


@dataclass(frozen=True)
class Notice:
    reason: str
    grace: float | None
    """Seconds before the game is closed; None when the profile does not close it."""


@dataclass(frozen=True)
class Close:
    reason: str


Action = Warn | Notice | Close


class _Block(msgspec.Struct, frozen=True):
    child: str
    reason: str
    deadline: float
    """Wall-clock time the grace ends."""


_BLOCK_KEY = "block"
_block_decoder = msgspec.json.Decoder(_Block)


class Enforcer:
    """Decides, tick by tick while the game runs; not thread-safe (called under the guardian's lock).

    The current block (its reason and when its grace ends) is on disk: a guardian restarted while a child is
    blocked neither sends a second notice nor grants a second grace.
    """

    def __init__(self, db: Database) -> None:
        self._db = db
        stored = settings.load(db, _BLOCK_KEY)
        self._block: _Block | None = None
        if stored is not None:
            try:
                self._block = _block_decoder.decode(stored)
            except msgspec.DecodeError:  # a row of another version: start without it
                self._block = None

    def reset(self) -> None:
        """Forget the current block (monitoring paused): a later block starts with a new grace."""
        self._keep(None)

    def check(self, child: str, day: date, standing: Standing, profile: ChildProfile, now: float) -> list[Action]:
        reason = standing.blocked
        if reason is None:
            self._keep(None)
            return self._warnings(child, day, standing.remaining, profile)
        actions: list[Action] = []
        block = self._block
        if block is None or (block.child, block.reason) != (child, reason):
            block = _Block(child, reason, now + profile.grace_seconds)
            self._keep(block)
            actions.append(Notice(reason, profile.grace_seconds if profile.auto_close else None))
        if profile.auto_close and now >= block.deadline:
            actions.append(Close(reason))
        return actions

    def _keep(self, block: _Block | None) -> None:
        if block == self._block:
            return
        self._block = block
        if block is None:
            settings.delete(self._db, _BLOCK_KEY)
        else:
            settings.save(self._db, _BLOCK_KEY, block)

    def _warnings(self, child: str, day: date, remaining: float, profile: ChildProfile) -> list[Action]:
        """The lowest threshold newly crossed, once per day; a threshold left behind by bonus time re-arms."""
        rows = self._db.query("SELECT threshold FROM warnings WHERE child = ? AND day = ?", (child, day.isoformat()))
        sent = {row["threshold"] for row in rows}
        crossed = {minutes for minutes in profile.warning_minutes if remaining <= minutes * 60}
        rearmed = sent - crossed
        new = crossed - sent
        if not new and not rearmed:
            return []
        with self._db.transaction() as conn:
            conn.executemany(
                "DELETE FROM warnings WHERE child = ? AND day = ? AND threshold = ?",
                [(child, day.isoformat(), minutes) for minutes in rearmed],
            )
            conn.executemany(
                "INSERT INTO warnings (child, day, threshold) VALUES (?, ?, ?)",
                [(child, day.isoformat(), minutes) for minutes in new],
            )
        return [Warn(min(new))] if new else []
