"""Temporary files that are written and then renamed into place, and the ones a killed writer left behind.

::

    temp = create(folder / "Song.mp3.part")            # None: the name is taken
    with temp, os.fdopen(temp.writer(), "wb") as out:  # the lock is held until ``temp`` closes
        ...
    reclaim(folder / "Song.mp3.part")                  # True: it was a dead writer's, and is gone

A writer creates its file exclusively (``O_EXCL``, never through a symbolic
link) and holds an advisory lock (``flock``) on it until the file is renamed
or removed: :class:`LockedTemp` closes the lock last. The operating system
drops the lock when its process dies, however it dies (``kill -9``, power
cut), so a file whose lock can be taken is one nobody is writing. Before
removing it, :func:`reclaim` also checks that it is a regular file with one
name (not a link, a folder or a hard link to something else) and that this
process is not writing it: the files it writes are listed in memory, by
device and inode, so two writers in one process never depend on the lock
alone. :func:`create` checks, once its lock is held, that its name still
points to its file: a reclaimer that came between the creation and the lock
makes it give up that name, never write into a removed file.

Without ``flock`` (Windows) no file is provably stale: :func:`reclaim`
removes nothing and a leftover stays where it is. A file system that cannot
lock (``flock`` failing with anything but "held") leaves writers unlocked and
reclaims nothing either.
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
import stat
import sys
import threading
from pathlib import Path
from types import TracebackType
from typing import Final

RANDOM_CHARS: Final = "abcdefghijklmnopqrstuvwxyz0123456789_"
"""The characters of :func:`create_unique`'s random part (those of ``tempfile.mkstemp``)."""
RANDOM_LENGTH: Final = 8
_ATTEMPTS: Final = 10_000

_CREATE: Final = (
    os.O_WRONLY
    | os.O_CREAT
    | os.O_EXCL
    | getattr(os, "O_NOFOLLOW", 0)
    | getattr(os, "O_BINARY", 0)
    | getattr(os, "O_CLOEXEC", 0)
)
_INSPECT: Final = os.O_RDWR | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)
"""Read-write: where ``flock`` is emulated with record locks (NFS), an exclusive lock needs a writable descriptor."""

_registry = threading.Lock()
_writing: set[tuple[int, int]] = set()
"""(device, inode) of every file this process is writing through a :class:`LockedTemp`."""


class LockedTemp:
    """A file this process created and is writing; locked until :meth:`close`, which comes after its rename."""

    def __init__(self, path: Path, descriptor: int, identity: tuple[int, int]) -> None:
        self.path = path
        self._descriptor: int | None = descriptor
        self._identity = identity

    def writer(self) -> int:
        """A descriptor to write with (``os.fdopen`` it); closing it keeps the lock: it is a second one."""
        if self._descriptor is None:
            raise ValueError(f"{self.path} is closed")
        if not CAN_LOCK:  # nothing to hold, and Windows renames no file that is still open
            descriptor, self._descriptor = self._descriptor, None
            return descriptor
        return os.dup(self._descriptor)

    def close(self) -> None:
        """Release the lock, once the file is renamed or removed: from then on it is no longer "being written"."""
        with _registry:
            _writing.discard(self._identity)
        descriptor, self._descriptor = self._descriptor, None
        if descriptor is not None:
            with contextlib.suppress(OSError):  # nothing was written through it
                os.close(descriptor)

    def __enter__(self) -> LockedTemp:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, value: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.close()


def create(path: Path, mode: int = 0o644) -> LockedTemp | None:
    """``path`` created exclusively and locked; ``None`` if that name is taken. Raises the disk's ``OSError``.

    Taken: anything is there (a file, a folder, a link, even a dangling
    one), or a reclaimer took the new file before its lock was held.
    """
    with _registry:
        try:
            descriptor = os.open(path, _CREATE, mode)
        except FileExistsError:
            return None
        try:
            identity = _identity(os.fstat(descriptor))
            if _try_lock(descriptor) is False or not _named(path, identity):
                os.close(descriptor)  # a reclaimer's now: it removes it
                return None
        except BaseException:
            os.close(descriptor)
            raise
        _writing.add(identity)
    return LockedTemp(path, descriptor, identity)


def create_unique(directory: Path, prefix: str, suffix: str, mode: int = 0o600) -> LockedTemp:
    """A new file ``<prefix><8 random characters><suffix>`` in ``directory``, as ``tempfile.mkstemp`` names it.

    The characters come from ``os.urandom``: :mod:`secrets` would load ``hmac``, ``hashlib`` and ``random``
    before the studio is ready, for a name that ``O_EXCL`` protects anyway.
    """
    for _ in range(_ATTEMPTS):
        name = "".join(RANDOM_CHARS[byte % len(RANDOM_CHARS)] for byte in os.urandom(RANDOM_LENGTH))
        temp = create(directory / f"{prefix}{name}{suffix}", mode)
        if temp is not None:
            return temp
    raise FileExistsError(errno.EEXIST, "no free name for a temporary file", str(directory / f"{prefix}*{suffix}"))


def reclaim_unique(directory: Path, prefix: str, suffix: str) -> list[Path]:
    """Remove the files :func:`create_unique` named so whose writer is gone (:func:`reclaim`); the paths removed.

    Only names made exactly so are looked at; a folder that cannot be
    listed removes nothing.
    """
    pattern = re.compile(f"{re.escape(prefix)}[{re.escape(RANDOM_CHARS)}]{{{RANDOM_LENGTH}}}{re.escape(suffix)}")
    try:
        with os.scandir(directory) as entries:
            names = [entry.name for entry in entries if pattern.fullmatch(entry.name)]
    except OSError:
        return []
    return [directory / name for name in sorted(names) if reclaim(directory / name)]


def reclaim(path: Path) -> bool:
    """Remove ``path`` if it is provably a dead writer's file; True if it was removed.

    Provably: a regular file with one name (never a link, which is not
    followed), that this process is not writing, whose lock nobody holds,
    still at ``path`` once the lock is taken. Anything else, and any error,
    leaves it where it is.
    """
    if not CAN_LOCK:
        return False
    with _registry:
        try:
            seen = os.lstat(path)
            if not _lone_file(seen) or _identity(seen) in _writing:
                return False
            descriptor = os.open(path, _INSPECT)
        except OSError:
            return False
        try:
            opened = os.fstat(descriptor)
            if not _lone_file(opened) or _identity(opened) != _identity(seen):
                return False  # swapped between the look and the open
            if not _try_lock(descriptor) or not _named(path, _identity(opened)):
                return False  # being written, or already removed by another reclaimer
            os.unlink(path)
            return True
        except OSError:
            return False
        finally:
            os.close(descriptor)


def _identity(status: os.stat_result) -> tuple[int, int]:
    return status.st_dev, status.st_ino


def _lone_file(status: os.stat_result) -> bool:
    return stat.S_ISREG(status.st_mode) and status.st_nlink == 1


def _named(path: Path, identity: tuple[int, int]) -> bool:
    """Whether ``path`` (not followed) is still the file ``identity`` names."""
    try:
        return _identity(os.lstat(path)) == identity
    except FileNotFoundError:
        return False


if sys.platform == "win32":
    CAN_LOCK: Final = False

    def _try_lock(descriptor: int) -> bool | None:
        return None

else:
    import fcntl

    CAN_LOCK: Final = True

    def _try_lock(descriptor: int) -> bool | None:
        """True once locked; False if another descriptor holds the lock; None where the file system cannot lock."""
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        except OSError:
            return None
        return True
