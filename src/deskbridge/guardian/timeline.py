"""What time it is for the guardian: wall time that shrugs off clock changes, and gaps that are sleep.

Play time is measured with a monotonic clock that keeps running while the
machine sleeps. A gap between two ticks much longer than the poll interval is
sleep (or a frozen machine) and counts nothing. Days follow the wall clock, but
whenever the wall clock moves against the monotonic clock (a parent's phone
says the kid set the PC to tomorrow; a dead CMOS battery says 2080), the move
is absorbed into an offset: the guardian's "now" keeps flowing at the
monotonic clock's pace, so a clock change neither grants a fresh day nor
steals one.
"""

from __future__ import annotations

import sys
import time
from typing import Final

import msgspec

from deskbridge.clock import Clock, SystemClock

CLOCK_JUMP: Final = 10.0
"""Seconds the wall clock may drift from the monotonic clock between two ticks before it counts as changed."""

if sys.platform == "linux":

    def _counting_sleep() -> float:
        return time.clock_gettime(time.CLOCK_BOOTTIME)

elif sys.platform == "darwin":

    def _counting_sleep() -> float:
        return time.clock_gettime(time.CLOCK_MONOTONIC)  # macOS: keeps counting asleep, unlike time.monotonic()

else:

    def _counting_sleep() -> float:
        return time.monotonic()  # Windows: already counts sleep


class SleepCountingClock:
    """The system clock, with a monotonic clock that runs on while the machine sleeps.

    ``time.monotonic()`` stops during sleep on Linux and macOS, which would make
    a night of sleep look like someone moving the wall clock forward.
    """

    def time(self) -> float:
        return time.time()

    def monotonic(self) -> float:
        return _counting_sleep()


def sleep_counting(clock: Clock) -> Clock:
    """The clock the guardian counts with: the system's, made sleep-aware; an injected one as it is."""
    return SleepCountingClock() if isinstance(clock, SystemClock) else clock


class Step(msgspec.Struct, frozen=True):
    """What happened between two ticks, in the guardian's time (epoch seconds)."""

    start: float
    """Start of the awake span to count (``end - awake``)."""
    end: float
    """The guardian's now."""
    awake: float
    """Seconds to count: the gap, or 0 when the gap was sleep."""
    jump: float
    """Seconds the wall clock was moved by hand (0 almost always)."""


class Timeline:
    """Advance once per tick; not thread-safe (the guardian calls it under its lock)."""

    def __init__(self, clock: Clock, *, sleep_gap: float) -> None:
        self._clock = clock
        self._sleep_gap = sleep_gap
        self._last_mono = clock.monotonic()
        self._now = clock.time()
        self._offset = 0.0

    def now(self) -> float:
        """The guardian's now between ticks (the wall clock, minus any change it saw)."""
        return self._now + (self._clock.monotonic() - self._last_mono)

    def advance(self) -> Step:
        wall, mono = self._clock.time(), self._clock.monotonic()
        gap = mono - self._last_mono
        drift = (wall + self._offset) - (self._now + gap)
        jump = drift if abs(drift) > CLOCK_JUMP else 0.0
        self._offset -= jump
        self._last_mono = mono
        self._now = wall + self._offset
        awake = gap if 0 <= gap <= self._sleep_gap else 0.0
        return Step(self._now - awake, self._now, awake, jump)
