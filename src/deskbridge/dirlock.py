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
    """An advisory lock on the directory itself and on ``<dir>/.lock``, held for the backend's lifetime.

    The operating system drops it when the process dies, so a crash or a
    ``kill -9`` never leaves a stale lock behind. ``.lock`` says who holds it;
    the lock that counts is on the directory (POSIX), which cannot be
    unlinked from under us while it holds our files: a lock on ``.lock``
    alone lets a second backend in once someone deletes that file. (Windows
    does not let anyone delete a file a process holds open.)
    """

    def __init__(self, directory: Path) -> None:
        self.path = directory / ".lock"
        self._file: IO[str] | None = None
        self._directory: int | None = None

    def acquire(self) -> None:
        try:
            self._directory = _lock_directory(self.path.parent)
        except BlockingIOError:
            raise AlreadyRunning(f"{self.path.parent} is in use by {self._holder()}") from None
        try:
            self._lock_file()
        except BaseException:
            self.release()
            raise

    def _holder(self) -> str:
        """Who ``.lock`` says holds the directory (read without creating or following it)."""
        try:
            fd = os.open(self.path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
        except OSError:
            return "another process"
        with os.fdopen(fd, encoding="utf-8", errors="replace") as handle:
            return handle.read(100).strip() or "another process"

    def _lock_file(self) -> None:
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
        if self._directory is not None:
            os.close(self._directory)
            self._directory = None


if sys.platform == "win32":
    import msvcrt

    def _lock(handle: IO[str]) -> None:
        handle.seek(0)
        msvcrt.locking(handle.fileno(), msvcrt.LK_NBLCK, 1)

    def _lock_directory(directory: Path) -> int | None:
        return None  # nothing to hold: a .lock held open cannot be deleted here

else:
    import fcntl

    def _lock(handle: IO[str]) -> None:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)

    def _lock_directory(directory: Path) -> int | None:
        """The directory's descriptor, locked; ``BlockingIOError`` if another process holds it."""
        fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BaseException:
            os.close(fd)
            raise
        return fd
