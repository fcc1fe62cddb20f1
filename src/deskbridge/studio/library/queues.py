"""Song queues: how many songs an account should make, from which prompts, and how far it got.

A queue's status moves ``pending -> in_progress -> completed | failed |
cancelled`` (a pending queue may also fail or be cancelled) and its count of
finished songs only grows. Every change is announced as a ``QUEUE_PROGRESS``
event whose ``operation_id`` is the queue's id.
"""

from __future__ import annotations

import sqlite3
import uuid
from collections.abc import Callable, Sequence
from typing import Any, Final, Literal

import msgspec

from deskbridge.clock import Clock
from deskbridge.errors import CommandError
from deskbridge.store import Database
from deskbridge.studio.errors import StudioError
from deskbridge.studio.library import paging, timestamps
from deskbridge.studio.library.account_lookup import find_account
from deskbridge.studio.library.paging import Keyset, Page, Paging
from deskbridge.studio.library.prompts import PromptIn, PromptLibrary, Reservable
from deskbridge.studio.suno.create_page import Limits

QueueStatus = Literal["pending", "in_progress", "completed", "failed", "cancelled"]
Change = Literal["created", "updated", "removed"]
Emit = Callable[[str, dict[str, Any]], None]

MAX_SONGS: Final = 1_000
_OLDEST_FIRST: Final = Keyset("GET_QUEUES", ("rowid",), ("position",))
_NEXT: Final[dict[str, frozenset[str]]] = {
    "pending": frozenset({"pending", "in_progress", "failed", "cancelled"}),
    "in_progress": frozenset({"in_progress", "completed", "failed", "cancelled"}),
    "completed": frozenset(),
    "failed": frozenset(),
    "cancelled": frozenset(),
}


class Queue(msgspec.Struct):
    queue_id: str
    account_name: str
    status: str
    total_songs: int
    songs_per_batch: int
    completed_count: int
    progress: int
    message: str
    created_at: str
    updated_at: str
    prompt_ids: list[int]
    workspace: str | None = None
    """The Suno workspace (``project_id``) its songs are filed in; None: the account's current one."""


class RemovedQueue(msgspec.Struct):
    queue_id: str
    removed: bool
    released_prompts: int


class ClearedQueues(msgspec.Struct):
    removed: int
    queue_ids: list[str]
    released_prompts: int


class QueueManager:
    def __init__(self, db: Database, clock: Clock, library: PromptLibrary, emit: Emit, limits: Limits) -> None:
        self._db = db
        self._clock = clock
        self._library = library
        self._emit = emit
        self._limits = limits

    def create(
        self,
        account_name: str,
        total_songs: int,
        songs_per_batch: int,
        prompts: Sequence[PromptIn] | None,
        workspace: str | None = None,
    ) -> Queue:
        """A pending queue holding the given prompts first, then the oldest available ones Suno takes.

        Suno's limits are checked now, not at each song's turn hours later: a
        given prompt over one refuses the queue, a library prompt over one is
        left in the library.
        """
        given = list(prompts or [])
        _check_sizes(total_songs, songs_per_batch, len(given))
        self._limits.check(given)
        with self._db.transaction() as conn:
            account = find_account(conn, account_name, "$.account_name")
            needed = total_songs - len(given)
            found = self._library.reservable(conn)
            if found.available < needed:
                raise _insufficient(total_songs, len(given), needed, found)
            queue_id = str(uuid.uuid4())
            created = timestamps.now(self._clock)
            conn.execute(
                "INSERT INTO queues (id, account_name, total_songs, songs_per_batch, status, created_at, updated_at,"
                " workspace) VALUES (?, ?, ?, ?, 'pending', ?, ?, ?)",
                (queue_id, account, total_songs, songs_per_batch, created, created, workspace),
            )
            self._library.insert(conn, given, queue_id)
            self._library.reserve(conn, queue_id, needed, len(given))
            (queue,) = self._select(conn, "id = ?", [queue_id])
        self.announce([queue], "created")
        return queue

    def all(self, account_name: str | None) -> list[Queue]:
        with self._db.transaction() as conn:
            if account_name is None:
                return self._select(conn, "1", [])
            return self._select(conn, "account_name = ?", [find_account(conn, account_name, "$.account_name")])

    def page(self, account_name: str | None, request: Paging) -> Page[Queue]:
        """Queues oldest first (of one account when ``account_name`` is given)."""
        with self._db.transaction() as conn:
            where, params = "1", []
            if account_name is not None:
                where, params = "account_name = ?", [find_account(conn, account_name, "$.account_name")]

            def query(after: str, after_params: list[Any], limit: int) -> list[sqlite3.Row]:
                return conn.execute(
                    f"SELECT rowid AS position, * FROM queues WHERE {where} AND {after}"
                    f" {_OLDEST_FIRST.order_by} LIMIT ?",
                    [*params, *after_params, limit],
                ).fetchall()

            return paging.page(query, _OLDEST_FIRST, request, lambda row: self._queue(conn, row))

    def update_progress(self, queue_id: str, completed: int, status: str, message: str) -> Queue:
        """Record how far a queue got, refusing moves a queue cannot make."""
        with self._db.transaction() as conn:
            queue = self._one(conn, queue_id)
            _check_move(queue, completed, status)
            conn.execute(
                "UPDATE queues SET completed_count = ?, status = ?, message = ?, updated_at = ? WHERE id = ?",
                (completed, status, message, timestamps.now(self._clock), queue_id),
            )
            self._library.mark_used(conn, queue_id, completed)
            if status in ("failed", "cancelled"):
                self._library.release(conn, queue_id)
            (queue,) = self._select(conn, "id = ?", [queue_id])
        self.announce([queue], "updated")
        return queue

    def remove(self, queue_id: str) -> RemovedQueue:
        with self._db.transaction() as conn:
            queue = self._one(conn, queue_id)
            released = self._delete(conn, [queue])
        self.announce([queue], "removed")
        return RemovedQueue(queue_id, True, released)

    def clear(self) -> ClearedQueues:
        with self._db.transaction() as conn:
            queues = self._select(conn, "1", [])
            released = self._delete(conn, queues)
        self.announce(queues, "removed")
        return ClearedQueues(len(queues), [queue.queue_id for queue in queues], released)

    # -- inside an account's transaction --------------------------------------------

    def of_account(self, conn: sqlite3.Connection, account_name: str) -> list[Queue]:
        return self._select(conn, "account_name = ?", [account_name])

    def remove_for_account(self, conn: sqlite3.Connection, account_name: str) -> list[Queue]:
        """Delete an account's queues (releasing their prompts); announce them once committed."""
        queues = self.of_account(conn, account_name)
        self._delete(conn, queues)
        return queues

    def announce(self, queues: Sequence[Queue], change: Change) -> None:
        """One ``QUEUE_PROGRESS`` event per queue; call it after the change is committed."""
        for queue in queues:
            self._emit(
                "QUEUE_PROGRESS",
                {
                    "operation_id": queue.queue_id,
                    "queue_id": queue.queue_id,
                    "account_name": queue.account_name,
                    "change": change,
                    "status": queue.status,
                    "completed": queue.completed_count,
                    "total": queue.total_songs,
                    "progress": queue.progress,
                    "message": queue.message or f"{change}: {queue.completed_count}/{queue.total_songs} songs",
                },
            )

    # -- internals ------------------------------------------------------------------

    def _one(self, conn: sqlite3.Connection, queue_id: str) -> Queue:
        found = self._select(conn, "id = ?", [queue_id])
        if not found:
            raise CommandError(StudioError.QUEUE_NOT_FOUND, f"there is no queue {queue_id!r}", {"queue_id": queue_id})
        return found[0]

    def _select(self, conn: sqlite3.Connection, where: str, params: list[Any]) -> list[Queue]:
        rows = conn.execute(f"SELECT * FROM queues WHERE {where} ORDER BY rowid", params).fetchall()
        prompt_ids = self._library.ids_by_queue(conn, rows[0]["id"] if len(rows) == 1 else None)
        return [_queue(row, prompt_ids.get(row["id"], [])) for row in rows]

    def _queue(self, conn: sqlite3.Connection, row: sqlite3.Row) -> Queue:
        return _queue(row, self._library.ids_by_queue(conn, row["id"]).get(row["id"], []))

    def _delete(self, conn: sqlite3.Connection, queues: Sequence[Queue]) -> int:
        released = 0
        for queue in queues:
            released += self._library.release(conn, queue.queue_id)
            conn.execute("DELETE FROM queues WHERE id = ?", (queue.queue_id,))
        return released


def _check_sizes(total_songs: int, songs_per_batch: int, given: int) -> None:
    problems = []
    if not 1 <= total_songs <= MAX_SONGS:
        problems.append(("$.total_songs", f"total_songs must be between 1 and {MAX_SONGS}, not {total_songs}"))
    elif not 1 <= songs_per_batch <= total_songs:
        problems.append(
            (
                "$.songs_per_batch",
                f"songs_per_batch must be between 1 and total_songs ({total_songs}), not {songs_per_batch}",
            )
        )
    if given > max(total_songs, 0):
        problems.append(("$.prompts", f"{given} prompts were given for {total_songs} songs"))
    if problems:
        raise CommandError(
            StudioError.INVALID_QUEUE_PARAMETERS,
            "; ".join(message for _, message in problems),
            {"fields": [field for field, _ in problems]},
        )


def _insufficient(total_songs: int, given: int, needed: int, found: Reservable) -> CommandError:
    """``INSUFFICIENT_PROMPTS``, naming the unused prompts left out as too long so the user can shorten them."""
    unused = f"only {found.available} are unused"
    if found.too_long:
        more = ", ..." if found.too_long > len(found.too_long_ids) else ""
        named = ", ".join(map(str, found.too_long_ids)) + more
        unused = (
            f"only {found.available} unused ones fit Suno's limits; left out as longer than Suno takes:"
            f" {found.too_long} (prompts {named}), delete them with DELETE_PROMPT and add them shortened"
        )
    return CommandError(
        StudioError.INSUFFICIENT_PROMPTS,
        f"{total_songs} songs need {needed} prompts from the library beyond the {given} given, "
        f"but {unused}; add prompts with ADD_PROMPTS or IMPORT_PROMPTS",
        {
            "requested_total": total_songs,
            "given": given,
            "available": found.available,
            "missing": needed - found.available,
            "too_long": found.too_long,
            "too_long_ids": found.too_long_ids,
        },
    )


def _check_move(queue: Queue, completed: int, status: str) -> None:
    if status not in _NEXT[queue.status]:
        why = f"queue {queue.queue_id} is {queue.status} and cannot become {status}"
    elif not queue.completed_count <= completed <= queue.total_songs:
        why = (
            f"completed_count must be between {queue.completed_count} (so far) and {queue.total_songs}, not {completed}"
        )
    elif status == "pending" and completed:
        why = "a pending queue has completed no songs"
    elif status == "completed" and completed != queue.total_songs:
        why = f"a completed queue has all {queue.total_songs} songs, not {completed}"
    else:
        return
    raise CommandError(
        StudioError.INVALID_QUEUE_PARAMETERS,
        why,
        {"queue_id": queue.queue_id, "status": queue.status, "completed_count": queue.completed_count},
    )


def _queue(row: sqlite3.Row, prompt_ids: list[int]) -> Queue:
    return Queue(
        row["id"],
        row["account_name"],
        row["status"],
        row["total_songs"],
        row["songs_per_batch"],
        row["completed_count"],
        row["completed_count"] * 100 // row["total_songs"],
        row["message"],
        row["created_at"],
        row["updated_at"],
        prompt_ids,
        row["workspace"],
    )
