"""Stand-ins for the world outside the guardian: a clock to drive, a process table to fill.

Process *watching* is tested with real processes (``conftest.game``); these
stand-ins let accounting and limits run hours of play in microseconds.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from deskbridge.guardian.config import load
from deskbridge.guardian.monitor import ProcessInfo, ProcessTable
from deskbridge.guardian.schema import MIGRATIONS
from deskbridge.guardian.service import Guardian
from deskbridge.store import Database

PARIS = ZoneInfo("Europe/Paris")
GAME = "RobloxPlayerBeta.exe"


def paris(*args: int) -> float:
    return datetime(*args, tzinfo=PARIS).timestamp()


class FakeClock:
    """Wall and monotonic clocks that move only when told; the monotonic one counts sleep, as the guardian's does."""

    def __init__(self, wall: float) -> None:
        self.wall = wall
        self.mono = 10_000.0

    def time(self) -> float:
        return self.wall

    def monotonic(self) -> float:
        return self.mono

    def advance(self, seconds: float) -> None:
        self.wall += seconds
        self.mono += seconds

    def move_wall(self, seconds: float) -> None:
        """Someone sets the system clock."""
        self.wall += seconds


class FakeProcesses:
    """A process table that holds what the test launches; ``close`` always succeeds."""

    def __init__(self, clock: FakeClock) -> None:
        self.clock = clock
        self.table: dict[int, ProcessInfo] = {}
        self.closed: list[ProcessInfo] = []
        self._pids = itertools.count(4000)

    def launch(self, name: str = GAME, exe_name: str = "", created: float | None = None, user: str = "") -> ProcessInfo:
        """A process born now (the clock's wall time) unless ``created`` says when."""
        pid = next(self._pids)
        born = self.clock.wall if created is None else created
        info = ProcessInfo(pid, name, exe_name or name, born, user=user)
        self.table[pid] = info
        return info

    def quit(self, info: ProcessInfo) -> None:
        del self.table[info.pid]

    def pids(self) -> Iterable[int]:
        return list(self.table)

    def describe(self, pid: int) -> ProcessInfo | None:
        return self.table.get(pid)

    def alive(self, process: ProcessInfo) -> bool:
        return self.table.get(process.pid) == process

    def close(self, processes: Iterable[ProcessInfo], timeout: float) -> tuple[list[ProcessInfo], list[ProcessInfo]]:
        closed = [info for info in processes if self.table.pop(info.pid, None) is not None]
        self.closed += closed
        return closed, []


class Harness:
    """A guardian on a real database, driven tick by tick with a fake clock and process table."""

    def __init__(
        self,
        path: Path,
        config: dict[str, Any],
        clock: FakeClock,
        processes: ProcessTable,
        zone: Callable[[], str] = lambda: "Europe/Paris",
    ) -> None:
        self.path = path
        self.config = {"timezone": "Europe/Paris", **config}
        self.clock = clock
        self.processes = processes
        self.zone = zone
        self.events: list[dict[str, Any]] = []
        self.db = Database(path, MIGRATIONS)
        self.guardian = Guardian(
            load(self.config), self.db, clock, processes, self.events.append, zone_source=lambda: self.zone()
        )

    def play(self, seconds: float, tick: float = 1.0) -> None:
        """Let ``seconds`` pass, ticking every ``tick`` seconds."""
        for _ in range(round(seconds / tick)):
            self.clock.advance(tick)
            self.guardian.tick()

    def restart(self) -> Harness:
        """A new guardian on the same database, clock and processes (the old one is simply dropped)."""
        self.db.close()
        return Harness(self.path, self.config, self.clock, self.processes, self.zone)

    def of(self, kind: str) -> list[dict[str, Any]]:
        """Events of one kind: ``roblox_started``..., a notification's type, or ``firebase_sync_request``."""
        return [event for event in self.events if kind_of(event) == kind]

    def used(self, child: str = "default_child") -> float:
        """Seconds counted today, give or take the poll at each end of a session (see ``minutes``)."""
        return float(self.guardian.today(child)["seconds_used"])


def kind_of(event: dict[str, Any]) -> str:
    if "event_type" in event:
        return str(event["event_type"])
    return str(event["data"]["type"] if event["type"] == "notification" else event["type"])


def minutes(count: float) -> object:
    """``count`` minutes as the guardian counts them: from the poll that sees the game, a second either way."""
    return pytest.approx(count * 60, abs=2)
