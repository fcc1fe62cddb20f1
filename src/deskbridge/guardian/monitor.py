"""Which game processes run: a cheap diff of the process table, and closing them.

Listing every process's name each poll costs ~10 ms at 400 processes; listing
pids and naming only the new ones costs ~0.2 ms (``reference/guardian.md``).
The :class:`Watcher` does the diff; :class:`PsutilProcesses` is the outside
world (psutil), injected so accounting tests can use a stand-in. psutil is
imported by the first watch, not before ``BACKEND_READY``.

Three traps the diff avoids: a pid caught between ``fork`` and ``exec`` still
carries its parent's name (processes born less than ``SETTLE`` seconds ago are
named again each poll); a
killed process whose parent has not reaped it is a zombie that still has a pid
(a game that is a zombie has stopped); and pids are reused (a game's
``create_time`` is checked every poll, everyone else's now and then).
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Final, Protocol

import msgspec

from deskbridge.guardian.platforms import Detector, Role

if TYPE_CHECKING:
    import psutil

SETTLE: Final = 2.0
"""Seconds after its birth a process is named again each poll, in case it had not exec'd its program yet."""
AUDIT_EVERY: Final = 60.0
"""Seconds between checks of every cached pid's ``create_time`` (pid reuse)."""


class ProcessInfo(msgspec.Struct, frozen=True):
    pid: int
    name: str
    exe_name: str
    """Base name of the executable; empty when the system will not say."""
    create_time: float
    exe: str = ""
    """The executable's path; empty when the system will not say."""
    user: str = ""
    """The OS user running it; empty when the system will not say."""


class ProcessTable(Protocol):
    """The operating system's processes, as the watcher needs them."""

    def pids(self) -> Iterable[int]: ...

    def describe(self, pid: int) -> ProcessInfo | None:
        """The process, or None when it is gone or a zombie."""
        ...

    def alive(self, process: ProcessInfo) -> bool:
        """Still this very process (not a reused pid) and not a zombie."""
        ...

    def close(self, processes: Iterable[ProcessInfo], timeout: float) -> tuple[list[ProcessInfo], list[ProcessInfo]]:
        """Terminate each process and its descendants, kill what is left after ``timeout``.

        Returns (closed, still running); a process already gone is in neither.
        """
        ...


def _username(process: psutil.Process) -> str:
    return str(process.username())


class PsutilProcesses:
    """The real process table; ``user_of`` names a process's OS user (tests inject one to play two users)."""

    def __init__(self, user_of: Callable[[psutil.Process], str] = _username) -> None:
        self._user_of = user_of

    def pids(self) -> Iterable[int]:
        import psutil  # each method imports it: the first one called loads it, the rest find it loaded

        return list(psutil.pids())

    def describe(self, pid: int) -> ProcessInfo | None:
        import psutil

        try:
            process = psutil.Process(pid)
            with process.oneshot():
                if process.status() == psutil.STATUS_ZOMBIE:
                    return None
                name, created = process.name(), process.create_time()
                try:
                    exe = process.exe()
                except (psutil.AccessDenied, psutil.ZombieProcess):
                    exe = ""
                try:
                    user = self._user_of(process)
                except (psutil.AccessDenied, KeyError):
                    user = ""
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            return None
        return ProcessInfo(pid, name, os.path.basename(exe), created, exe, user)

    def alive(self, process: ProcessInfo) -> bool:
        import psutil

        try:
            current = psutil.Process(process.pid)
            return bool(current.create_time() == process.create_time and current.status() != psutil.STATUS_ZOMBIE)
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            return False

    def close(self, processes: Iterable[ProcessInfo], timeout: float) -> tuple[list[ProcessInfo], list[ProcessInfo]]:
        import psutil

        wanted: list[ProcessInfo] = []
        victims: list[psutil.Process] = []
        denied: set[int] = set()
        for info in processes:
            try:
                top = psutil.Process(info.pid)
                if top.create_time() != info.create_time or _exited(top):
                    continue  # already gone (the pid may be someone else's now): not ours to count
                victims += [top, *top.children(recursive=True)]
            except psutil.NoSuchProcess:
                continue
            except psutil.AccessDenied:
                denied.add(info.pid)
            wanted.append(info)
        for send in (psutil.Process.terminate, psutil.Process.kill):
            for victim in victims:
                with contextlib.suppress(psutil.NoSuchProcess, psutil.AccessDenied):
                    send(victim)
            victims = _wait_exited(victims, timeout)
            if not victims:
                break
        left = denied | {victim.pid for victim in victims}
        closed = [info for info in wanted if info.pid not in left]
        return closed, [info for info in wanted if info not in closed]


def _exited(process: psutil.Process) -> bool:
    import psutil

    try:
        return bool(process.status() == psutil.STATUS_ZOMBIE)
    except psutil.NoSuchProcess:
        return True
    except psutil.AccessDenied:
        return False


def _wait_exited(processes: list[psutil.Process], timeout: float) -> list[psutil.Process]:
    """The processes still running after ``timeout``; a zombie has exited (its parent reaps it, not us)."""
    deadline = time.monotonic() + timeout
    while True:
        processes = [process for process in processes if not _exited(process)]
        if not processes or time.monotonic() >= deadline:
            return processes
        time.sleep(0.02)


class Changes(msgspec.Struct, frozen=True):
    started: list[ProcessInfo] = msgspec.field(default_factory=list)
    stopped: list[ProcessInfo] = msgspec.field(default_factory=list)


class Watcher:
    """Game processes from a diff of the process table; call :meth:`poll` from one thread."""

    def __init__(
        self,
        table: ProcessTable,
        detector: Detector,
        *,
        known: Iterable[ProcessInfo] = (),
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._table = table
        self._detector = detector
        self._clock = clock
        self._games: dict[int, ProcessInfo] = {info.pid: info for info in known}
        self._seen: dict[int, ProcessInfo | None] = dict(self._games)
        self._young: dict[int, float] = {}
        """pid -> create_time of processes born less than SETTLE seconds ago."""
        self._next_audit = clock() + AUDIT_EVERY

    @property
    def running(self) -> list[ProcessInfo]:
        """The game processes seen at the last poll, oldest first."""
        return sorted(self._games.values(), key=lambda info: (info.create_time, info.pid))

    def role(self, info: ProcessInfo) -> Role | None:
        return self._detector.role(info.name, info.exe_name, info.exe)

    def helpers(self) -> list[ProcessInfo]:
        """Launchers and crash handlers seen at the last poll (no system calls)."""
        return [info for info in self._seen.values() if info is not None and self.role(info) is Role.HELPER]

    def poll(self) -> Changes:
        now = self._clock()
        current = set(self._table.pids())
        stopped = [info for info in self._games.values() if info.pid not in current or not self._table.alive(info)]
        for info in stopped:
            del self._games[info.pid]
            self._seen.pop(info.pid, None)
        for pid in self._seen.keys() - current:
            del self._seen[pid]
            self._young.pop(pid, None)
        self._young = {pid: born for pid, born in self._young.items() if now - born < SETTLE}
        fresh = current - self._seen.keys()
        again = self._young.keys() - self._games.keys()
        if now >= self._next_audit:
            self._next_audit = now + AUDIT_EVERY
            again |= {pid for pid, info in self._seen.items() if info is not None and not self._table.alive(info)}
        started = []
        for pid in fresh | again:
            found = self._table.describe(pid)
            self._seen[pid] = found
            if pid in fresh and found is not None and now - found.create_time < SETTLE:
                self._young[pid] = found.create_time
            if found is not None and pid not in self._games and self.role(found) is Role.GAME:
                self._games[pid] = found
                started.append(found)
        return Changes(started, stopped)
