"""How long a child may still play, and what to do as that runs out.

:class:`Allowances` knows each child's limits: the config's profile, the
parent's remote changes (kept in the database, they win over the file) and
bonus time granted for a day. :class:`Enforcer` turns where a child stands
into actions: a warning at each threshold (once each per day, on disk), then
one notice and a grace period, then closing the game, and closing it again at
once if it comes back while the block lasts.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import cast

import msgspec

from deskbridge.guardian import settings
from deskbridge.guardian.config import AllowedHours, ChildProfile, Weekday, minute_of_day
from deskbridge.guardian.stretches import SessionStanding
from deskbridge.store import Database

TIME_LIMIT_EXCEEDED = "time_limit_exceeded"
OUTSIDE_ALLOWED_HOURS = "outside_allowed_hours"
WEEKLY_LIMIT_EXCEEDED = "weekly_limit_exceeded"
BREAK_REQUIRED = "break_required"


class Standing(msgspec.Struct, frozen=True):
    """Where a child stands at one moment (seconds)."""

    used: float
    allowed: float
    """The day's limit plus bonus time."""
    hours_left: float | None
    """Seconds until the allowed hours close; None when the profile has none."""
    week_left: float | None = None
    """Seconds left this week (with today's bonus); None: no weekly limit."""
    session: SessionStanding | None = None
    """The longest session and its break; None: no such rule."""
    window: str = ""
    """Which allowed hours the child is outside of (``"07:00-08:00,16:00-20:00 after 08:00"``)."""

    @property
    def remaining(self) -> float:
        session_left = None if self.session is None else self.session.left
        return min(left for left in (self.allowed - self.used, self.hours_left, self.week_left, session_left)
                   if left is not None)  # fmt: skip

    @property
    def blocked(self) -> str | None:
        """Why the child may not play now, or None."""
        if self.hours_left == 0:
            return OUTSIDE_ALLOWED_HOURS
        if self.session is not None and self.session.break_left > 0:
            return BREAK_REQUIRED
        if self.used >= self.allowed:
            return TIME_LIMIT_EXCEEDED
        return WEEKLY_LIMIT_EXCEEDED if self.week_left is not None and self.week_left <= 0 else None

    def block_key(self) -> str:
        """Tells one block of a reason from another the same day: another gap between windows, another session."""
        if self.blocked == OUTSIDE_ALLOWED_HOURS:
            return self.window
        if self.blocked == BREAK_REQUIRED and self.session is not None:
            return f"session from {self.session.started:.0f}"
        return ""


def outside_window(windows: tuple[AllowedHours, ...], moment: datetime) -> tuple[float | None, str]:
    """Seconds left in the window ``moment`` is in (0: in none; None: no windows) and, outside, which gap."""
    if not windows:
        return None, ""
    left = max(window.seconds_left(moment) for window in windows)
    if left > 0:
        return left, ""
    now = moment.hour * 60 + moment.minute
    closed = min(windows, key=lambda window: (now - minute_of_day(window.end)) % 1440)
    return 0.0, f"{','.join(f'{w.start}-{w.end}' for w in windows)} after {closed.end}"


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
        if rows:
            weekdays = msgspec.json.decode(rows[0]["weekday_limits"], type=dict[Weekday, int])
            profile = msgspec.structs.replace(
                profile, daily_limit_minutes=rows[0]["daily_limit_minutes"], weekday_limits=weekdays
            )
        return self._with_hours(child, profile)

    def _with_hours(self, child: str, profile: ChildProfile) -> ChildProfile:
        """The parent's allowed hours over the config's: the default's, then each weekday's."""
        rows = self._db.query("SELECT weekday, windows FROM hours_overrides WHERE child = ?", (child,))
        if not rows:
            return profile
        allowed, weekdays = profile.allowed_hours, dict(profile.weekday_allowed_hours)
        for row in rows:
            windows = msgspec.json.decode(row["windows"], type=tuple[AllowedHours, ...])
            if row["weekday"] == "":
                allowed = windows or None
            elif windows:
                weekdays[cast(Weekday, row["weekday"])] = windows
            else:
                weekdays.pop(cast(Weekday, row["weekday"]), None)
        return msgspec.structs.replace(profile, allowed_hours=allowed, weekday_allowed_hours=weekdays)

    def set_hours(self, child: str, windows: tuple[AllowedHours, ...], weekday: Weekday | None) -> ChildProfile:
        """One weekday's windows (none: that day follows the default again), or the default's (none: any time)."""
        with self._db.transaction() as conn:
            conn.execute(
                "INSERT OR REPLACE INTO hours_overrides (child, weekday, windows) VALUES (?, ?, ?)",
                (child, weekday or "", msgspec.json.encode(windows)),
            )
        return self.profile(child)

    def set_limit(self, child: str, minutes: int, weekday: Weekday | None, today: date) -> ChildProfile:
        """One weekday's limit; without a weekday, the default and today's (other weekdays' limits stay)."""
        with self._db.transaction() as conn:
            profile = self.profile(child)
            if weekday is None:
                daily, weekdays = minutes, profile.weekday_limits
                conn.execute(
                    "INSERT OR REPLACE INTO day_limits (child, day, minutes) VALUES (?, ?, ?)",
                    (child, today.isoformat(), minutes),
                )
            else:
                daily, weekdays = profile.daily_limit_minutes, {**profile.weekday_limits, weekday: minutes}
            conn.execute(
                "INSERT OR REPLACE INTO limit_overrides (child, daily_limit_minutes, weekday_limits) VALUES (?, ?, ?)",
                (child, daily, msgspec.json.encode(weekdays)),
            )
        return self.profile(child)

    def limit_minutes(self, child: str, profile: ChildProfile, day: date) -> int:
        """The day's limit: the parent's for that very day, else the profile's for its weekday."""
        rows = self._db.query("SELECT minutes FROM day_limits WHERE child = ? AND day = ?", (child, day.isoformat()))
        return int(rows[0]["minutes"]) if rows else profile.limit_minutes(day)

    def bonus_seconds(self, child: str, day: date) -> float:
        rows = self._db.query("SELECT seconds FROM bonus WHERE child = ? AND day = ?", (child, day.isoformat()))
        return float(rows[0]["seconds"]) if rows else 0.0

    def grant(self, child: str, day: date, minutes: int) -> None:
        """Add (or, negative, take away) minutes for one day."""
        with self._db.transaction() as conn:
            conn.execute(
                "INSERT INTO bonus (child, day, seconds) VALUES (?, ?, ?) "
                "ON CONFLICT (child, day) DO UPDATE SET seconds = seconds + excluded.seconds",
                (child, day.isoformat(), minutes * 60.0),
            )

    def standing(
        self,
        child: str,
        profile: ChildProfile,
        used: float,
        moment: datetime,
        week_used: float = 0.0,
        session: SessionStanding | None = None,
    ) -> Standing:
        """``moment`` is local time: it picks the day's limit and the allowed hours; ``week_used`` counts today."""
        day = moment.date()
        bonus = self.bonus_seconds(child, day)
        allowed = max(0.0, self.limit_minutes(child, profile, day) * 60.0 + bonus)
        hours_left, window = outside_window(profile.windows(day), moment)
        weekly = profile.weekly_limit_minutes
        week_left = None if weekly is None else max(0.0, weekly * 60.0 + bonus - week_used)
        return Standing(used, allowed, hours_left, week_left, session, window)


class Warn(msgspec.Struct, frozen=True):
    threshold: int
    """The configured warning (minutes) that was crossed."""


class Notice(msgspec.Struct, frozen=True):
    reason: str
    grace: float | None
    """Seconds before the game is closed; None when the profile does not close it."""


class Countdown(msgspec.Struct, frozen=True):
    seconds: float
    """Seconds until the game is closed (the configured mark crossed, or less)."""


class Close(msgspec.Struct, frozen=True):
    reason: str


Action = Warn | Notice | Countdown | Close


class _Block(msgspec.Struct, frozen=True):
    reason: str
    day: str
    window: str
    """The allowed hours the block is outside of (``"21:00-07:00"``); empty for the daily limit."""
    deadline: float
    """Wall-clock time the grace ends."""
    counted: tuple[int, ...] = ()
    """The final countdown's marks already told."""


_BLOCKS_KEY = "blocks"
_blocks_decoder = msgspec.json.Decoder(dict[str, _Block])


class Enforcer:
    """Decides, tick by tick while a child's game runs; not thread-safe (called under the guardian's lock).

    Each child's current block (its reason, day and window, and when its grace ends) is on disk: a guardian
    restarted while a child is blocked neither sends a second notice nor grants a second grace. A block belongs
    to its day and its window: last night's bedtime block is not this morning's, which gets its own notice and
    grace.
    """

    def __init__(self, db: Database) -> None:
        self._db = db
        stored = settings.load(db, _BLOCKS_KEY)
        self._blocks: dict[str, _Block] = {}
        if stored is not None:
            try:
                self._blocks = _blocks_decoder.decode(stored)
            except msgspec.DecodeError:  # a row of another version: start without it
                self._blocks = {}

    def reset(self) -> None:
        """Forget every block (monitoring paused): a later block starts with a new grace."""
        if self._blocks:
            self._blocks = {}
            settings.delete(self._db, _BLOCKS_KEY)

    def check(self, child: str, day: date, standing: Standing, profile: ChildProfile, now: float) -> list[Action]:
        reason = standing.blocked
        if reason is None:
            self._keep(child, None)
            return self._warnings(child, day, standing.remaining, profile)
        window = standing.block_key()
        actions: list[Action] = []
        block = self._blocks.get(child)
        if block is None or (block.reason, block.day, block.window) != (reason, day.isoformat(), window):
            block = _Block(reason, day.isoformat(), window, now + profile.grace_seconds)
            self._keep(child, block)
            actions.append(Notice(reason, profile.grace_seconds if profile.auto_close else None))
        if not profile.auto_close:
            return actions
        if now >= block.deadline:
            actions.append(Close(reason))
            return actions
        due = [mark for mark in profile.countdown_seconds if block.deadline - now <= mark and mark not in block.counted]
        if due and len(actions) == 0:  # the notice itself says when the game closes
            actions.append(Countdown(block.deadline - now))
        if due:
            self._keep(child, msgspec.structs.replace(block, counted=(*block.counted, *due)))
        return actions

    def _keep(self, child: str, block: _Block | None) -> None:
        if self._blocks.get(child) == block:
            return
        if block is None:
            del self._blocks[child]
        else:
            self._blocks[child] = block
        settings.save(self._db, _BLOCKS_KEY, self._blocks)

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
