"""Time in a game, from Roblox's own log: follow the newest player log for "joining game" and leaving lines.

The player writes a log per run in its logs folder (``%LOCALAPPDATA%\\Roblox\\logs``
on Windows, ``~/Library/Logs/Roblox`` on macOS), one entry per line: a
timestamp token, a space, then the message. The lines that mark play are the
ones Bloxstrap's activity watcher reads (``reference/guardian.md``)::

    2024-08-25T19:16:40.287Z,68.287468,b2e006c0,6 [FLog::Output] ! Joining game '<job id>' place <place id> at <ip>
    ... [FLog::Network] Time to disconnect replication data: ...
    ... [FLog::SingleSurfaceApp] leaveUGCGameInternal

The follower reads what was appended since its last look; a newer log file
(the next run) is read from its start; a file that shrank (truncated) is read
again from its start. It never raises on what it reads: a line it does not
know is skipped. The log lives in the child's own folder, so it tells where
the child is (in a game, which one; or in the app's home screen), never
whether the game runs: that stays the process table's.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Final

import msgspec

JOINING: Final = re.compile(r"\[FLog::Output\] ! Joining game '([0-9a-f\-]{36})' place ([0-9]+) at ")
LEAVING: Final = (
    "[FLog::Network] Time to disconnect replication data",
    "[FLog::SingleSurfaceApp] leaveUGCGameInternal",
)
MAX_READ: Final = 4 * 1024 * 1024
"""Read at most this much per look (a log gone wild cannot stall the tick)."""


class Joined(msgspec.Struct, frozen=True):
    place_id: int
    job_id: str


class Left(msgspec.Struct, frozen=True):
    place_id: int


LogEvent = Joined | Left


class LogFollower:
    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._file: Path | None = None
        self._identity: tuple[int, int] | None = None
        self._offset = 0
        self._partial = b""
        self.place: Joined | None = None
        """The game the child is in now, per the log; None: not in a game (the home screen, or no game)."""

    @property
    def following(self) -> Path | None:
        return self._file

    def poll(self) -> list[LogEvent]:
        """What happened since the last look."""
        newest = self._newest()
        if newest is None:
            return []
        try:
            status = newest.stat()
        except OSError:
            return []
        identity = (status.st_dev, status.st_ino)
        found: list[LogEvent] = []
        if newest != self._file or identity != self._identity:  # the next run's log (rotated): from its start
            if self.place is not None:
                found.append(Left(self.place.place_id))
                self.place = None
            self._file, self._identity, self._offset, self._partial = newest, identity, 0, b""
        elif status.st_size < self._offset:  # truncated: from the start again
            self._offset, self._partial = 0, b""
        if status.st_size == self._offset:
            return found
        try:
            with open(newest, "rb") as handle:
                handle.seek(self._offset)
                chunk = handle.read(MAX_READ)
        except OSError:
            return found
        self._offset += len(chunk)
        *lines, self._partial = (self._partial + chunk).split(b"\n")
        for raw in lines:
            found += self._read(raw.decode("utf-8", "replace"))
        return found

    def _read(self, line: str) -> list[LogEvent]:
        _, _, message = line.rstrip("\r").partition(" ")
        joining = JOINING.match(message)
        if joining is not None:
            left = [Left(self.place.place_id)] if self.place is not None else []
            self.place = Joined(int(joining.group(2)), joining.group(1))
            return [*left, self.place]
        if message.startswith(LEAVING) and self.place is not None:
            left_place, self.place = self.place, None
            return [Left(left_place.place_id)]
        return []

    def _newest(self) -> Path | None:
        """The player's newest log (its name says ``Player``; Studio's logs are not play)."""
        try:
            entries = [entry for entry in os.scandir(self.folder)
                       if entry.is_file() and "player" in entry.name.lower()]  # fmt: skip
        except OSError:
            return None
        if not entries:
            return None
        return Path(max(entries, key=lambda entry: (entry.stat().st_mtime_ns, entry.name)).path)
