"""What the event log knows about itself apart from its own file: did it lose commits since it was last open?

With ``synchronous=NORMAL`` a power cut may take the last commits back, and a
backup restored over the data dir takes back everything since the backup. The
log's ``seq`` then starts again below numbers clients already saw, under the
same epoch: a client resuming from one of those would be told "you missed
nothing" while it misses every new event given a reused number. A mark beside
the log (written, and synced, when the log opens and when it closes) tells
such a log from the one that was left: a log file that is not the same file
(a restored copy), a head below the one recorded at a clean close, or a close
that never came while the machine restarted. Any of them starts a new epoch.
A kill -9 is none of them: what SQLite committed survives a killed process.
"""

from __future__ import annotations

import contextlib
import os
import sys
from pathlib import Path

import msgspec


class Mark(msgspec.Struct, kw_only=True):
    epoch: str
    last_seq: int
    clean: bool
    """Written by a close: ``last_seq`` is then the log's head at the close."""
    file: tuple[int, int]
    """The log file's device and inode: a restored copy is another file."""
    boot: str
    """Which boot of the machine wrote the mark: a power cut is a restart."""


_decoder = msgspec.json.Decoder(Mark)


def boot_id() -> str:
    """An id of this boot of the machine (Linux's ``boot_id``; elsewhere, the boot time)."""
    if sys.platform == "linux":
        with contextlib.suppress(OSError):
            return Path("/proc/sys/kernel/random/boot_id").read_text().strip()
    import psutil  # elsewhere only: it costs the start a few milliseconds

    return str(int(psutil.boot_time()))


class LogMark:
    """The mark of the log at ``log_path``, kept in ``<log>.mark``."""

    def __init__(self, log_path: Path, *, boot: str | None = None) -> None:
        self._log_path = log_path
        self.path = log_path.with_name(log_path.name + ".mark")
        self._boot = boot if boot is not None else boot_id()

    def lost(self, epoch: str, head: int) -> str | None:
        """Why the log named ``epoch`` with this ``head`` may have lost what it once committed, or None."""
        try:
            mark = _decoder.decode(self.path.read_bytes())
        except (OSError, msgspec.DecodeError, msgspec.ValidationError):
            return None  # first run, or a mark nobody can read: nothing to compare with
        if mark.epoch != epoch:
            return None  # another log (the file was created anew): its epoch already says so
        if mark.file != self._identity():
            return "the log file is not the one last written (a restored copy?)"
        if head < mark.last_seq:
            return f"the log ends at seq {head}, below the {mark.last_seq} it held"
        if not mark.clean and mark.boot != self._boot:
            return "the machine restarted while the log was open: its last commits may be lost"
        return None

    def write(self, epoch: str, last_seq: int, *, clean: bool) -> None:
        """Record the log's state, on disk before this returns (a new file renamed over the old)."""
        mark = Mark(epoch=epoch, last_seq=last_seq, clean=clean, file=self._identity(), boot=self._boot)
        temporary = self.path.with_name(self.path.name + ".tmp")
        with temporary.open("wb") as handle:
            handle.write(msgspec.json.encode(mark))
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, self.path)

    def _identity(self) -> tuple[int, int]:
        status = os.stat(self._log_path)
        return status.st_dev, status.st_ino
