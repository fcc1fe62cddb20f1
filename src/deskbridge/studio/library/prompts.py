"""The prompt library: prompts waiting to become songs, each used once.

A prompt is *available* until a queue reserves it, *reserved* while its queue
may still use it, and *used* once its song is made. Queues take the oldest
available prompts first; a queue that is removed, fails or is cancelled hands
its unused prompts back.

A prompt longer than Suno's create page takes (the config's limits, which may
change) stays in the library but no queue reserves it: its song could only
fail at its turn, hours into a run. Adding one says so at once, and a listed
prompt names its fields over the limits, so the user learns it the day they
add it, not when a queue leaves it out. SQLite's ``length()`` counts the
characters of TEXT as Python's ``len`` does (the fields hold no NUL).
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from typing import Annotated, Any, Final, Literal

import msgspec

from deskbridge.clock import Clock
from deskbridge.store import Database
from deskbridge.studio.fields import Lyrics, OffsetPage, Style, Tags, Title, invalid
from deskbridge.studio.library import timestamps
from deskbridge.studio.suno.create_page import LimitedField, Limits

PromptStatus = Literal["available", "reserved", "used"]
PromptId = Annotated[int, msgspec.Meta(ge=1, le=2**63 - 1)]  # SQLite INTEGER

_STATUS_SQL: Final = (
    "CASE WHEN used_at IS NOT NULL THEN 'used' WHEN queue_id IS NOT NULL THEN 'reserved' ELSE 'available' END"
)
_WHERE_STATUS: Final[dict[str, str]] = {
    "available": "queue_id IS NULL AND used_at IS NULL",
    "reserved": "queue_id IS NOT NULL AND used_at IS NULL",
    "used": "used_at IS NOT NULL",
    "all": "1",
}
_FITS: Final = "length(title) <= :title AND length(lyrics) <= :lyrics AND length(style) <= :style"
TOO_LONG_NAMED: Final = 20
"""At most this many too-long prompts are named (the library's oldest, or the first just added); the count is whole."""


class PromptIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """A prompt as a front end or a file gives it; lyrics or a style is required."""

    title: Title = ""
    lyrics: Lyrics = ""
    style: Style = ""
    tags: Tags = []

    def __post_init__(self) -> None:
        if not (self.lyrics.strip() or self.style.strip()):
            raise ValueError("a prompt needs lyrics or a style")


class Prompt(msgspec.Struct):
    prompt_id: int
    title: str
    lyrics: str
    style: str
    tags: list[str]
    status: PromptStatus
    queue_id: str | None
    position: int | None
    created_at: str
    used_at: str | None
    too_long: list[LimitedField]
    """Its fields longer than Suno takes under the limits of now: no queue reserves it while any is."""


class FieldOver(msgspec.Struct):
    field: LimitedField
    message: str
    """What ``Limits.over`` says of it, as ``INVALID_PAYLOAD`` would for a prompt sent to be made now."""


class AddedTooLong(msgspec.Struct):
    """A prompt just added that no queue will reserve until it is shortened or the limit raised."""

    index: int
    """Its place among the prompts given (``$.prompts[index]``) or read from the file, from 0."""
    where: str
    """Where the user finds it: ``$.prompts[3]`` in a command; in a file, ``row 5`` of a CSV (its header is
    row 1, blank rows count), ``line 12`` of a text file, ``$[3]`` or ``$.prompts[3]`` of a JSON file."""
    prompt_id: int
    over: list[FieldOver]


class AddedPrompts(msgspec.Struct):
    added: int
    prompt_ids: list[int]
    available: int
    too_long: int
    """How many of the prompts just added are longer than Suno takes (all of them are stored)."""
    too_long_prompts: list[AddedTooLong]
    """The first :data:`TOO_LONG_NAMED` of them, in the order given."""


class Reservable(msgspec.Struct):
    """The unused prompts a queue could reserve, and those left out as longer than Suno takes."""

    available: int
    too_long: int
    too_long_ids: list[int]
    """The oldest :data:`TOO_LONG_NAMED` of them, for the user to shorten."""


class PromptCheck(msgspec.Struct):
    valid: bool
    requested_total: int
    available: int
    missing: int
    too_long: int
    too_long_ids: list[int]


class DeletedPrompt(msgspec.Struct):
    prompt_id: int
    deleted: bool


class PromptLibrary:
    def __init__(self, db: Database, clock: Clock, limits: Limits) -> None:
        self._db = db
        self._clock = clock
        self._limits = limits

    def add(self, prompts: Sequence[PromptIn], places: Sequence[str] | None = None) -> AddedPrompts:
        """Store every prompt (a limit may be raised later); say which of them are over one now, and where each
        was (``places``, one a prompt; by default its place in a command's ``prompts``)."""
        with self._db.transaction() as conn:
            ids = self.insert(conn, prompts)
            available = self.available(conn)
        over = [(index, found) for index, prompt in enumerate(prompts) if (found := self._limits.over(prompt))]
        named = [
            AddedTooLong(
                index,
                places[index] if places is not None else f"$.prompts[{index}]",
                ids[index],
                [FieldOver(field, message) for field, message in found],
            )
            for index, found in over[:TOO_LONG_NAMED]
        ]
        return AddedPrompts(len(ids), ids, available, len(over), named)

    def check(self, requested_total: int) -> PromptCheck:
        """Whether ``requested_total`` unused prompts that Suno takes are there to reserve."""
        with self._db.transaction() as conn:
            found = self.reservable(conn)
        missing = max(0, requested_total - found.available)
        return PromptCheck(missing == 0, requested_total, found.available, missing, found.too_long, found.too_long_ids)

    def page(self, status: str, queue_id: str | None, limit: int, offset: int) -> OffsetPage[Prompt]:
        where, params = _WHERE_STATUS[status], []
        order = "id"
        if queue_id is not None:
            where += " AND queue_id = ?"
            params.append(queue_id)
            order = "position"
        (total,) = self._db.query(f"SELECT COUNT(*) FROM prompts WHERE {where}", params)[0]
        rows = self._db.query(
            f"SELECT *, {_STATUS_SQL} AS status FROM prompts WHERE {where} ORDER BY {order} LIMIT ? OFFSET ?",
            [*params, limit, offset],
        )
        return OffsetPage([self._prompt(row) for row in rows], total, limit, offset)

    def delete(self, prompt_id: int) -> DeletedPrompt:
        with self._db.transaction() as conn:
            row = conn.execute(
                f"SELECT queue_id, {_STATUS_SQL} AS status FROM prompts WHERE id = ?", (prompt_id,)
            ).fetchone()
            if row is None:
                raise invalid("$.prompt_id", f"there is no prompt {prompt_id}")
            if row["status"] == "reserved":
                raise invalid(
                    "$.prompt_id",
                    f"prompt {prompt_id} is reserved by queue {row['queue_id']}; remove that queue first",
                    queue_id=row["queue_id"],
                )
            conn.execute("DELETE FROM prompts WHERE id = ?", (prompt_id,))
        return DeletedPrompt(prompt_id, True)

    # -- inside a queue's transaction ------------------------------------------------

    def insert(self, conn: sqlite3.Connection, prompts: Sequence[PromptIn], queue_id: str | None = None) -> list[int]:
        """Add prompts; with ``queue_id`` they are reserved by that queue at positions 0, 1, ..."""
        created = timestamps.now(self._clock)
        ids = []
        for position, prompt in enumerate(prompts):
            cursor = conn.execute(
                "INSERT INTO prompts (title, lyrics, style, tags, created_at, queue_id, position)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    prompt.title,
                    prompt.lyrics,
                    prompt.style,
                    json.dumps(prompt.tags, ensure_ascii=False),
                    created,
                    queue_id,
                    position if queue_id else None,
                ),
            )
            ids.append(int(cursor.lastrowid or 0))
        return ids

    def available(self, conn: sqlite3.Connection) -> int:
        (count,) = conn.execute(f"SELECT COUNT(*) FROM prompts WHERE {_WHERE_STATUS['available']}").fetchone()
        return int(count)

    def reservable(self, conn: sqlite3.Connection) -> Reservable:
        """Count as :meth:`reserve` takes: unused prompts within the limits, and the unused ones over them."""
        where, limits = _WHERE_STATUS["available"], self._sql_limits()
        (fitting, too_long) = conn.execute(
            f"SELECT COALESCE(SUM({_FITS}), 0), COALESCE(SUM(NOT ({_FITS})), 0) FROM prompts WHERE {where}", limits
        ).fetchone()
        named = conn.execute(
            f"SELECT id FROM prompts WHERE {where} AND NOT ({_FITS}) ORDER BY id LIMIT :named",
            {**limits, "named": TOO_LONG_NAMED},
        ).fetchall()
        return Reservable(int(fitting), int(too_long), [row["id"] for row in named])

    def reserve(self, conn: sqlite3.Connection, queue_id: str, count: int, first_position: int) -> None:
        """Reserve the ``count`` oldest available prompts Suno takes; the caller checked there are enough."""
        rows = conn.execute(
            f"SELECT id FROM prompts WHERE {_WHERE_STATUS['available']} AND {_FITS} ORDER BY id LIMIT :count",
            {**self._sql_limits(), "count": count},
        ).fetchall()
        conn.executemany(
            "UPDATE prompts SET queue_id = ?, position = ? WHERE id = ?",
            [(queue_id, first_position + n, row["id"]) for n, row in enumerate(rows)],
        )

    def mark_used(self, conn: sqlite3.Connection, queue_id: str, completed: int) -> None:
        """The first ``completed`` prompts of a queue have become songs."""
        conn.execute(
            "UPDATE prompts SET used_at = ? WHERE queue_id = ? AND position < ? AND used_at IS NULL",
            (timestamps.now(self._clock), queue_id, completed),
        )

    def release(self, conn: sqlite3.Connection, queue_id: str) -> int:
        """Hand a queue's unused prompts back to the library; how many went back."""
        cursor = conn.execute(
            "UPDATE prompts SET queue_id = NULL, position = NULL WHERE queue_id = ? AND used_at IS NULL", (queue_id,)
        )
        return cursor.rowcount

    def ids_by_queue(self, conn: sqlite3.Connection, queue_id: str | None = None) -> dict[str, list[int]]:
        """The prompt ids each queue holds (one queue's, or every queue's), in queue order."""
        where, params = ("queue_id = ?", [queue_id]) if queue_id else ("queue_id IS NOT NULL", [])
        found: dict[str, list[int]] = {}
        for row in conn.execute(f"SELECT queue_id, id FROM prompts WHERE {where} ORDER BY queue_id, position", params):
            found.setdefault(row["queue_id"], []).append(row["id"])
        return found

    def _sql_limits(self) -> dict[str, int]:
        return {"title": self._limits.title, "lyrics": self._limits.lyrics, "style": self._limits.style}

    def _prompt(self, row: Any) -> Prompt:
        prompt = Prompt(
            row["id"],
            row["title"],
            row["lyrics"],
            row["style"],
            json.loads(row["tags"]),
            row["status"],
            row["queue_id"],
            row["position"],
            row["created_at"],
            row["used_at"],
            [],
        )
        prompt.too_long = [field for field, _ in self._limits.over(prompt)]
        return prompt
