"""Browser profile directories, one per account, and whether a browser holds one.

A profile directory is named after its account and lives under one root.
Chrome marks a profile it has open: on Linux and macOS with ``SingletonLock``,
a symbolic link to ``<hostname>-<pid>``; on Windows with ``lockfile``, a file
it keeps open without sharing. Moving or deleting a profile under a running
browser corrupts it, so the studio asks :func:`lock_holder` first.
"""

from __future__ import annotations

import os
import re
import socket
import sys
from pathlib import Path
from typing import Final

from deskbridge.paths import ensure_dir

SINGLETON_LOCK: Final = "SingletonLock"
WINDOWS_LOCKFILE: Final = "lockfile"
_HOST_PID: Final = re.compile(r"(?P<host>.+)-(?P<pid>[0-9]{1,10})")


def lock_holder(profile: Path) -> str | None:
    """Who holds ``profile`` open, in words, or None when no live browser does.

    A lock left by a process that is dead on this host is stale and does not
    count. A lock naming another host, or one that cannot be read, counts:
    the studio cannot prove that browser gone.
    """
    if sys.platform == "win32":
        return _windows_holder(profile / WINDOWS_LOCKFILE)
    lock = profile / SINGLETON_LOCK
    try:
        target = os.readlink(lock)
    except (FileNotFoundError, NotADirectoryError):  # no lock, or no profile directory at all
        return None
    except OSError:
        return f"an unreadable lock {lock} (remove it if no browser uses this profile)"
    match = _HOST_PID.fullmatch(target)
    if match is None:
        return f"an unreadable lock {lock} -> {target!r} (remove it if no browser uses this profile)"
    host, pid = match["host"], int(match["pid"])
    if host != socket.gethostname():
        return f"a browser on host {host!r} (process {pid})"
    return f"browser process {pid}" if _alive(pid) else None


def _alive(pid: int) -> bool:
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except PermissionError:
        return True  # it exists, as another user's process
    except (ProcessLookupError, OverflowError):
        return False
    return True


def _windows_holder(lockfile: Path) -> str | None:
    try:
        handle = os.open(lockfile, os.O_RDONLY)
    except FileNotFoundError:
        return None
    except OSError:
        return "a running browser"
    os.close(handle)
    return None


class Profiles:
    """The directory of profile directories; names given here are already valid account names."""

    def __init__(self, root: Path) -> None:
        self.root = ensure_dir(root)

    def path(self, name: str) -> Path:
        """Where ``name``'s profile lives (the entry itself: a symbolic link is not followed)."""
        path = self.root / name
        if path.parent != self.root or name in ("", ".", ".."):
            raise ValueError(f"{name!r} is not a profile directory name")
        return path

    def ensure(self, name: str) -> Path:
        path = self.path(name)
        path.mkdir(mode=0o700, exist_ok=True)
        return path

    def occupied(self, name: str) -> bool:
        path = self.path(name)
        return path.is_symlink() or path.exists()

    def move(self, source: str, target: str) -> None:
        """Rename ``source``'s profile to ``target`` (a missing profile is nothing to move)."""
        src, dst = self.path(source), self.path(target)
        if src.is_symlink() or src.exists():
            os.rename(src, dst)

    def same_entry(self, first: str, second: str) -> bool:
        """True when both names reach one directory entry (a case-only rename on Windows or macOS)."""
        try:
            return os.path.samefile(self.path(first), self.path(second))
        except OSError:
            return False

    def delete(self, name: str) -> bool:
        """Remove ``name``'s profile and nothing outside it: a symbolic link is unlinked, never followed."""
        path = self.path(name)
        if path.is_symlink() or (path.exists() and not path.is_dir()):
            path.unlink()
            return True
        if path.is_dir():
            import shutil  # here: shutil loads bz2, lzma and zlib, which the studio's start does not need

            shutil.rmtree(path)
            return True
        return False
