"""``DOWNLOAD_FAILED`` and why: a clip the engine gives up on, and what the disk refused.

A disk error fails the clip it happened to (full, read-only, no permission),
never the whole batch, and says so in words a user can act on.
"""

from __future__ import annotations

import contextlib
import errno
from collections.abc import Iterator
from pathlib import Path

from deskbridge.errors import CommandError
from deskbridge.studio.errors import StudioError


def failed(message: str) -> CommandError:
    return CommandError(StudioError.DOWNLOAD_FAILED, message)


def disk_failure(exc: OSError, song: Path) -> CommandError:
    """``DOWNLOAD_FAILED`` saying why the disk refused ``song``: it fails that clip, never the whole batch."""
    name, folder = song.name, song.parent
    if exc.errno == errno.ENOSPC:
        return failed(f"no space left on the disk for {name}")
    if exc.errno == errno.EDQUOT:
        return failed(f"the disk quota is used up: no room for {name}")
    if exc.errno == errno.EROFS:
        return failed(f"the disk of {folder} is read-only: cannot write {name}")
    if exc.errno in (errno.EACCES, errno.EPERM):
        return failed(f"no permission to write {name} in {folder}")
    return failed(f"cannot write {name} in {folder}: {exc.strerror or exc}")


@contextlib.contextmanager
def writing(song: Path) -> Iterator[None]:
    """Where ``song`` is written, closed, renamed or removed: an ``OSError`` is the disk's (:func:`disk_failure`)."""
    try:
        yield
    except OSError as exc:
        raise disk_failure(exc, song) from None
