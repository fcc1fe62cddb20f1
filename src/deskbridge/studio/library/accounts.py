"""Accounts: a name, an email, when it was made and last used, and a browser profile.

The account's name is its profile directory's name, so renaming an account
moves the directory too. The move and the database change are one unit:
the move is first written down in ``profile_moves``, then made, then the
names are changed and the note removed in one transaction. A note found at
start-up means a rename died half-way, and the directory is put back.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any, Final

import msgspec

from deskbridge.clock import Clock
from deskbridge.errors import CommandError
from deskbridge.store import Database
from deskbridge.studio.errors import StudioError
from deskbridge.studio.library import names, paging, timestamps
from deskbridge.studio.library.account_lookup import find_account
from deskbridge.studio.library.history import CreationHistory
from deskbridge.studio.library.paging import Keyset, Page, Paging
from deskbridge.studio.library.profiles import Profiles, lock_holder
from deskbridge.studio.library.queues import QueueManager

log = logging.getLogger("deskbridge.studio")

_HOLD_POLL: Final = 0.01
_BY_NAME: Final = Keyset("GET_ACCOUNTS", ("key",), ("key",))
"""Seconds between tries at the account lock from the event loop (a rename holds it for milliseconds)."""


class Account(msgspec.Struct):
    name: str
    email: str | None
    created_at: str
    last_used: str | None
    profile_path: str
    profile_locked: bool


class ProfilePath(msgspec.Struct):
    name: str
    profile_path: str
    exists: bool
    locked: bool


class DeletedAccount(msgspec.Struct):
    name: str
    deleted: bool
    profile_path: str
    profile_deleted: bool
    removed_queues: int


class AccountManager:
    def __init__(
        self, db: Database, clock: Clock, profiles: Profiles, queues: QueueManager, history: CreationHistory
    ) -> None:
        self._db = db
        self._clock = clock
        self._profiles = profiles
        self._queues = queues
        self._history = history
        self._changing = threading.Lock()
        """Held while names or profiles change: a rename spans two transactions."""

    def recover(self) -> None:
        """Undo the profile move of a rename that did not commit (the process died half-way)."""
        for row in self._db.query("SELECT rowid, source, target FROM profile_moves"):
            source, target = self._profiles.path(row["source"]), self._profiles.path(row["target"])
            if (target.exists() or target.is_symlink()) and not source.exists():
                try:
                    self._profiles.move(row["target"], row["source"])
                except OSError as exc:  # keep the note and try again at the next start; serve meanwhile
                    log.warning("cannot move profile %s back to %s: %s", target, source, exc)
                    continue
            with self._db.transaction() as conn:
                conn.execute("DELETE FROM profile_moves WHERE rowid = ?", (row["rowid"],))

    def page(self, request: Paging) -> Page[Account]:
        """Accounts by name (ignoring case)."""

        def query(after: str, params: list[Any], limit: int) -> list[sqlite3.Row]:
            return self._db.query(f"SELECT * FROM accounts WHERE {after} {_BY_NAME.order_by} LIMIT ?", [*params, limit])

        return paging.page(query, _BY_NAME, request, self._account)

    def profile(self, name: str, field: str = "$.name") -> ProfilePath:
        account = self._get(name, field)
        path = self._profiles.path(account.name)
        return ProfilePath(account.name, str(path), path.is_dir(), account.profile_locked)

    @asynccontextmanager
    async def holding(self, name: str, field: str) -> AsyncIterator[ProfilePath]:
        """The account's profile, kept where it is (no rename, no delete) until the block ends.

        A browser starting on a profile writes its lock only after a moment;
        holding the account closes that window, in which a rename could move
        the directory from under it. Waits on the event loop without blocking it.
        """
        while not self._changing.acquire(blocking=False):  # noqa: ASYNC110 (a thread lock: no event to await)
            await asyncio.sleep(_HOLD_POLL)
        try:
            yield self.profile(name, field)
        finally:
            self._changing.release()

    def create(self, name: str, email: str | None) -> Account:
        """A new account and its profile directory (an existing directory of that name is adopted)."""
        name = names.account_name(name, "$.name")
        if email is not None:
            names.email(email, "$.email")
        with self._changing, self._db.transaction() as conn:
            _refuse_taken(conn, name)
            conn.execute(
                "INSERT INTO accounts (name, key, email, created_at) VALUES (?, ?, ?, ?)",
                (name, names.name_key(name), email, timestamps.now(self._clock)),
            )
            try:
                self._profiles.ensure(name)
            except OSError as exc:
                raise CommandError(
                    StudioError.ACCOUNT_CREATION_FAILED,
                    f"cannot create the profile directory {self._profiles.path(name)}: {exc.strerror or exc}",
                ) from None
        return self._get(name, "$.name")

    def update(self, name: str, last_used: str | None, email: str | None) -> Account:
        """Set ``last_used`` (now when not given) and, when given, the email."""
        used = timestamps.parse(last_used, "$.last_used") if last_used is not None else timestamps.now(self._clock)
        if email is not None:
            names.email(email, "$.email")
        with self._db.transaction() as conn:
            current = find_account(conn, name, "$.name")
            conn.execute(
                "UPDATE accounts SET last_used = ?, email = COALESCE(?, email) WHERE name = ?", (used, email, current)
            )
        return self._get(current, "$.name")

    def rename(self, old_name: str, new_name: str) -> Account:
        """Rename an account, its profile directory and every record naming it, all or nothing."""
        new_name = names.account_name(new_name, "$.new_name")
        with self._changing:
            with self._db.transaction() as conn:
                current = find_account(conn, old_name, "$.old_name")
                if current != new_name:
                    self._check_rename(conn, current, new_name)
                    conn.execute("INSERT INTO profile_moves (source, target) VALUES (?, ?)", (current, new_name))
            if current == new_name:
                return self._get(current, "$.old_name")
            try:
                self._profiles.move(current, new_name)
            except OSError as exc:
                self._forget_move(current)
                raise CommandError(
                    StudioError.PROFILE_LOCKED,
                    f"cannot move the profile directory of {current!r}: {exc.strerror or exc}",
                    {"name": current},
                ) from None
            try:
                with self._db.transaction() as conn:
                    conn.execute(
                        "UPDATE accounts SET name = ?, key = ? WHERE name = ?",
                        (new_name, names.name_key(new_name), current),
                    )
                    self._history.rename_account(conn, current, new_name)
                    conn.execute("DELETE FROM profile_moves WHERE source = ?", (current,))
                    moved = self._queues.of_account(conn, new_name)
            except BaseException:
                self._profiles.move(new_name, current)
                self._forget_move(current)
                raise
        self._queues.announce(moved, "updated")
        return self._get(new_name, "$.new_name")

    def delete(self, name: str, delete_profile: bool) -> DeletedAccount:
        """Delete an account with its queues and download history; creation history is kept."""
        with self._changing, self._db.transaction() as conn:
            current = find_account(conn, name, "$.name")
            self.refuse_if_locked(current)
            removed = self._queues.remove_for_account(conn, current)
            conn.execute("DELETE FROM accounts WHERE name = ?", (current,))
            profile_deleted = False
            if delete_profile:
                try:
                    profile_deleted = self._profiles.delete(current)
                except OSError as exc:
                    raise CommandError(
                        StudioError.PROFILE_LOCKED,
                        f"cannot delete the profile directory of {current!r}: {exc.strerror or exc}",
                        {"name": current},
                    ) from None
        self._queues.announce(removed, "removed")
        return DeletedAccount(current, True, str(self._profiles.path(current)), profile_deleted, len(removed))

    # -- internals ------------------------------------------------------------------

    def _get(self, name: str, field: str) -> Account:
        with self._db.transaction() as conn:
            current = find_account(conn, name, field)
            row = conn.execute("SELECT * FROM accounts WHERE name = ?", (current,)).fetchone()
        return self._account(row)

    def _account(self, row: Any) -> Account:
        path = self._profiles.path(row["name"])
        return Account(
            row["name"], row["email"], row["created_at"], row["last_used"], str(path), lock_holder(path) is not None
        )

    def _check_rename(self, conn: sqlite3.Connection, current: str, new_name: str) -> None:
        _refuse_taken(conn, new_name, current)
        if self._profiles.occupied(new_name) and not self._profiles.same_entry(current, new_name):
            raise CommandError(
                StudioError.ACCOUNT_ALREADY_EXISTS,
                f"a profile directory {self._profiles.path(new_name)} already exists (left by a deleted account?); "
                "delete it or choose another name",
                {"name": new_name},
            )
        self.refuse_if_locked(current)

    def refuse_if_locked(self, name: str) -> None:
        """``PROFILE_LOCKED`` while a live browser holds ``name``'s profile (a stale lock does not count)."""
        holder = lock_holder(self._profiles.path(name))
        if holder is not None:
            raise CommandError(
                StudioError.PROFILE_LOCKED,
                f"the browser profile of {name!r} is open in {holder}; close that browser first",
                {"name": name, "holder": holder},
            )

    def _forget_move(self, source: str) -> None:
        with self._db.transaction() as conn:
            conn.execute("DELETE FROM profile_moves WHERE source = ?", (source,))


def _refuse_taken(conn: sqlite3.Connection, name: str, renaming: str | None = None) -> None:
    """``ACCOUNT_ALREADY_EXISTS`` if another account than ``renaming`` has ``name`` (in any case)."""
    clash = conn.execute(
        "SELECT name FROM accounts WHERE key = ? AND name IS NOT ?", (names.name_key(name), renaming)
    ).fetchone()
    if clash is not None:
        raise CommandError(
            StudioError.ACCOUNT_ALREADY_EXISTS,
            f"an account named {clash['name']!r} already exists (names ignore case)",
            {"name": clash["name"]},
        )
