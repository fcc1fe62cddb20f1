"""One backend per app directory: a second one refuses instead of corrupting state."""

from __future__ import annotations

import errno
import os
import sys
from pathlib import Path
from typing import IO


class AlreadyRunning(Exception):
    pass


class UnsafeLockFile(Exception):
    pass


class DirLock:
    """An advisory lock on ``<dir>/.lock`` held for the backend's lifetime.

    The operating system drops it when the process dies, so a crash or a
    ``kill -9`` never leaves a stale lock behind.
    """

    def __init__(self, directory: Path) -> None:
        self.path = directory / ".lock"
        self._file: IO[str] | None = None

    def acquire(self) -> None:
        try:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0), 0o600)
        except OSError as exc:
            if exc.errno != errno.ELOOP:
                raise
            # The file is rewritten with our pid: through a link, that would be some other file.
            message = f"{self.path} is a symbolic link; remove it (deskbridge will not write through it)"
            raise UnsafeLockFile(message) from None
        handle = os.fdopen(fd, "r+", encoding="utf-8")  # held until release()
        try:
            _lock(handle)
        except OSError:
            handle.seek(0)
            holder = handle.read().strip() or "another process"
            handle.close()
            raise AlreadyRunning(f"{self.path.parent} is in use by {holder}") from None
        handle.seek(0)
        handle.truncate()
        handle.write(f"pid {os.getpid()}")
        handle.flush()
        self._file = handle

    def release(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None


if sys.platform == "win32":
    import msvcrt

    def _lock(handle: IO[str]) -> None:
        handle.seek(0)
        msvcrt.locking(handle.fileno(), msvcrt.LK_NBLCK, 1)

else:
    import fcntl

    def _lock(handle: IO[str]) -> None:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
