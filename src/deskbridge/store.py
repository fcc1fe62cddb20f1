"""SQLite done one way everywhere: WAL, migrations by ``user_version``, one lock.

Every app keeps its state in one database file; nothing a user would miss is
held only in memory.
"""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Final

from deskbridge import closemark
from deskbridge.errors import CommandError, ErrorCode


class StoreError(Exception):
    """The database cannot be opened or is not one of ours; the file is left as it is."""


_PROGRESS_INTERVAL: Final = 1_000
"""SQLite steps between two calls of the handler that stops a read on the event loop."""


class WouldBlock(Exception):
    """A read on the event loop's thread would hold the loop up (:meth:`Database.read`): nothing was read, nothing
    changed; the router runs the command again in a worker thread."""


def connect(path: Path | str, *, synchronous: str = "NORMAL") -> sqlite3.Connection:
    """A connection in autocommit mode; transactions are explicit. Close it with :func:`close`.

    WAL with ``synchronous=NORMAL`` survives a killed process (not a power cut)
    and costs no fsync per commit. Damage inside a page is invisible to opening
    the file: unless a clean close left it whole (:mod:`deskbridge.closemark`),
    ``quick_check`` reads it all now, so the start stops with the file named
    instead of whichever command reads the page failing later.
    """
    closed_whole = closemark.take(Path(path))  # before SQLite opens a WAL beside the file
    conn = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False, timeout=10.0)
    conn.row_factory = sqlite3.Row
    verdict = "ok"
    try:
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute(f"PRAGMA synchronous={synchronous}")
        conn.execute("PRAGMA foreign_keys=ON")
        if not closed_whole:
            (verdict,) = conn.execute("PRAGMA quick_check(1)").fetchone()
    except sqlite3.DatabaseError as exc:
        conn.close()
        raise StoreError(f"{path} is not a usable SQLite database: {exc}") from exc
    if verdict != "ok":
        conn.close()
        raise StoreError(f"{path} is not a usable SQLite database: it is damaged ({' '.join(verdict.split())})")
    return conn


def close(conn: sqlite3.Connection, path: Path | str) -> None:
    """Close a connection from :func:`connect`: SQLite checkpoints and removes the WAL, then the file is marked
    whole so the next open skips ``quick_check``."""
    conn.close()
    closemark.leave(Path(path))


@contextmanager
def named_if_damaged(path: Path, conn: sqlite3.Connection) -> Iterator[None]:
    """Reads right after :func:`connect`: damage they meet stops the start naming the file, as quick_check's
    would (an open that skipped it meets damage here first); the connection is closed, no mark left."""
    try:
        yield
    except sqlite3.DatabaseError as exc:
        if not closemark.is_damage(exc):
            raise
        conn.close()
        raise StoreError(f"{path} is not a usable SQLite database: it is damaged ({exc})") from exc


class damage_named:
    """Damage a command meets in ``path`` (a page a clean close vouched for, hurt by the disk since) is
    ``DATABASE_DAMAGED`` naming the file, not an internal error, so the user sees at once what broke; this run
    then leaves no clean-close mark, so the next start checks the file in full.

    A class, not ``@contextmanager``: it wraps every query, and costs a third as much (~0.4 µs); lower case,
    as ``contextlib.suppress`` is, because it is used as a function.
    """

    __slots__ = ("_path",)

    def __init__(self, path: Path | str) -> None:
        self._path = path

    def __enter__(self) -> None:
        return None

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, traceback: object) -> None:
        if exc is None or not closemark.is_damage(exc):
            return
        closemark.damage_seen(exc)
        raise CommandError(
            ErrorCode.DATABASE_DAMAGED,
            f"{self._path} is damaged ({exc}): restore it from a backup (the next start checks the file in full "
            "and stops while it is damaged)",
            {"path": str(self._path)},
        ) from exc


def migrate(conn: sqlite3.Connection, migrations: Sequence[str], *, name: str = "database") -> None:
    """Apply the scripts after ``PRAGMA user_version``, each in its own transaction."""
    (version,) = conn.execute("PRAGMA user_version").fetchone()
    if version > len(migrations):
        raise StoreError(
            f"{name} has schema version {version}, newer than this deskbridge knows "
            f"({len(migrations)}); upgrade deskbridge"
        )
    for number, script in enumerate(migrations[version:], start=version + 1):
        conn.execute("BEGIN IMMEDIATE")
        try:
            for statement in _statements(script):
                conn.execute(statement)
            conn.execute(f"PRAGMA user_version={number}")
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise


def _statements(script: str) -> Iterator[str]:
    buffer = ""
    for line in script.splitlines(keepends=True):
        buffer += line
        if sqlite3.complete_statement(buffer):
            if buffer.strip():
                yield buffer
            buffer = ""
    if buffer.strip():
        yield buffer


class Database:
    """One connection shared by the worker threads, serialised by a lock; damage met is :func:`damage_named`."""

    def __init__(self, path: Path | str, migrations: Sequence[str], *, name: str = "database") -> None:
        self.path = path
        try:
            self._conn = connect(path)
            migrate(self._conn, migrations, name=name)
        except sqlite3.DatabaseError as exc:
            raise StoreError(f"{path} is not a usable SQLite database: {exc}") from exc
        self._lock = threading.RLock()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """All or nothing: ``BEGIN IMMEDIATE`` ... ``COMMIT``, rolled back on any exception."""
        with self._lock, damage_named(self.path):
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                yield self._conn
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            self._conn.execute("COMMIT")

    def query(self, sql: str, params: Sequence[Any] | dict[str, Any] = ()) -> list[sqlite3.Row]:
        with self._lock, damage_named(self.path):
            return self._conn.execute(sql, params).fetchall()

    def read(self, sql: str, params: Sequence[Any], *, steps: int) -> list[sqlite3.Row]:
        """:meth:`query`, for a command that runs on the event loop while it is cheap (``inline``).

        In a worker thread it is :meth:`query`. On the thread of a running event loop it never waits
        for the connection (another thread holding it) and gives up after ``steps`` steps of SQLite's
        virtual machine (a page of 100 records takes ~2,000; ~0.1-0.5 µs each): :class:`WouldBlock`
        either way. Not for full-text queries: FTS5 merges a prefix's matches within one step.
        """
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            return self.query(sql, params)
        if not self._lock.acquire(blocking=False):
            raise WouldBlock
        # SQLite calls the handler each time a statement's step count, kept across the runs of a cached
        # statement, passes a multiple of the interval: the first call may come after only a few steps.
        calls = steps // _PROGRESS_INTERVAL + 1
        gave_up = False

        def give_up() -> bool:
            nonlocal calls, gave_up
            calls -= 1
            gave_up = calls < 0
            return gave_up

        try:
            self._conn.set_progress_handler(give_up, _PROGRESS_INTERVAL)
            with damage_named(self.path):
                return self._conn.execute(sql, params).fetchall()
        except sqlite3.OperationalError:
            if gave_up:
                raise WouldBlock from None
            raise
        finally:
            self._conn.set_progress_handler(None, 0)
            self._lock.release()

    def close(self) -> None:
        with self._lock:
            close(self._conn, self.path)
