"""Whether a database file is still the one SQLite left whole at a clean close: then opening it skips quick_check.

``PRAGMA quick_check`` reads every page (seconds for a log of millions of
events), so a front end waiting for ``BACKEND_READY`` would pay for the size
of the history at every start. A clean close leaves ``<db>.closed`` beside the
file, holding the file's identity once SQLite has checkpointed and removed its
WAL; an open that finds the mark matching removes it before anything is
served and checks nothing more, so a crash or kill -9 afterwards leaves no
mark and the next start checks in full. A restored backup, a copy, an edit
or a WAL left over changes what the mark compares and is checked in full.

What is traded: damage the disk itself does while the backend is stopped
(same size and mtime) is found when a command reads the page, not at start.
A run that meets such damage (:func:`damage_seen`) leaves no mark, so the
start after it checks in full and names the file.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
from pathlib import Path

import msgspec


class Identity(msgspec.Struct, frozen=True, array_like=True):
    """What changes when anything but the disk itself changes the file: a copy, a write, a restore."""

    device: int
    inode: int
    size: int
    mtime_ns: int


_decoder = msgspec.json.Decoder(Identity)
_DAMAGE_CODES = frozenset({sqlite3.SQLITE_CORRUPT, sqlite3.SQLITE_NOTADB})
_damaged = False


def mark_path(db: Path) -> Path:
    return db.with_name(db.name + ".closed")


def is_damage(exc: BaseException) -> bool:
    """SQLite's word that a file is damaged ("malformed", "not a database"), not that it is busy or full."""
    return isinstance(exc, sqlite3.DatabaseError) and getattr(exc, "sqlite_errorcode", None) in _DAMAGE_CODES


def damage_seen(exc: BaseException) -> None:
    """Called where SQLite's errors are met (:class:`deskbridge.store.damage_named` around every query, the event
    log's refused commits): one saying a file is damaged leaves no mark at this run's close."""
    global _damaged
    _damaged = _damaged or is_damage(exc)


def take(db: Path) -> bool:
    """True if ``db`` is the file a clean close left whole; the mark is gone either way (or this says False)."""
    mark = mark_path(db)
    try:
        recorded = _decoder.decode(mark.read_bytes())
    except FileNotFoundError:
        return False
    except (OSError, msgspec.DecodeError, msgspec.ValidationError):
        recorded = None
    try:
        mark.unlink()
    except FileNotFoundError:
        pass
    except OSError:
        return False  # a mark that stays would vouch for the file after a crash of this run
    return recorded is not None and recorded == _identity(db)


def leave(db: Path) -> None:
    """After the last connection to ``db`` closed: mark it whole, unless SQLite left a WAL or this run met damage.

    Never raises: without a mark the next start checks the file in full.
    """
    if _damaged:
        return
    identity = _identity(db)
    if identity is None:
        return
    mark = mark_path(db)
    temporary = mark.with_name(mark.name + ".tmp")
    try:
        handle = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            os.write(handle, msgspec.json.encode(identity))
            os.fsync(handle)
        finally:
            os.close(handle)
        os.replace(temporary, mark)
    except OSError:
        with contextlib.suppress(OSError):
            temporary.unlink()


def _identity(db: Path) -> Identity | None:
    """The file's identity, or None when it has none worth recording (missing, or a WAL with content beside it)."""
    try:
        status = os.stat(db)
        if _size(db.with_name(db.name + "-wal")):
            return None
    except OSError:
        return None
    return Identity(status.st_dev, status.st_ino, status.st_size, status.st_mtime_ns)


def _size(path: Path) -> int:
    try:
        return os.stat(path).st_size
    except FileNotFoundError:
        return 0
