"""Time as a dependency: managers receive a clock so tests can drive it."""

from __future__ import annotations

import time
from typing import Protocol


class Clock(Protocol):
    def time(self) -> float:
        """Wall-clock seconds since the Unix epoch (may jump)."""
        ...

    def monotonic(self) -> float:
        """Seconds that never go back (may stop while the machine sleeps)."""
        ...


class SystemClock:
    def time(self) -> float:
        return time.time()

    def monotonic(self) -> float:
        return time.monotonic()


SYSTEM_CLOCK = SystemClock()
