"""A child's "ask for more time" (Family Safety's request, RobloxGuard's "Request Unlock"), kept until answered.

The desktop client in the child's session asks; the parent grants (all or
some of the minutes) or refuses, once. Requests live in the database, so one
asked before a restart can still be answered after it.
"""

from __future__ import annotations

import uuid
from typing import Any

import msgspec

from deskbridge.errors import CommandError
from deskbridge.guardian.errors import GuardianError
from deskbridge.store import Database


class TimeRequest(msgspec.Struct, kw_only=True):
    request_id: str
    child: str
    minutes: int
    reason: str
    asked_ms: int
    answered_ms: int | None = None
    granted_minutes: int | None = None
    """The minutes granted; 0 is a refusal; None: not answered yet."""

    def data(self) -> dict[str, Any]:
        return msgspec.structs.asdict(self)


class TimeRequests:
    def __init__(self, db: Database) -> None:
        self._db = db

    def ask(self, child: str, minutes: int, reason: str, now: float) -> TimeRequest:
        request = TimeRequest(
            request_id=str(uuid.uuid4()), child=child, minutes=minutes, reason=reason, asked_ms=int(now * 1000)
        )
        with self._db.transaction() as conn:
            conn.execute(
                "INSERT INTO time_requests VALUES (?, ?, ?, ?, ?, NULL, NULL)",
                (request.request_id, child, minutes, reason, request.asked_ms),
            )
        return request

    def answer(self, request_id: str, granted_minutes: int, now: float) -> TimeRequest:
        """Record the answer; an unknown request, or one already answered, is an error naming it."""
        request = self.get(request_id)
        if request.answered_ms is not None:
            raise CommandError(
                GuardianError.TIME_REQUEST_ANSWERED,
                f"time request {request_id} was already answered",
                {"request": request.data()},
            )
        request.answered_ms, request.granted_minutes = int(now * 1000), granted_minutes
        with self._db.transaction() as conn:
            conn.execute(
                "UPDATE time_requests SET answered_ms = ?, granted_minutes = ? WHERE request_id = ?",
                (request.answered_ms, granted_minutes, request_id),
            )
        return request

    def get(self, request_id: str) -> TimeRequest:
        rows = self._db.query("SELECT * FROM time_requests WHERE request_id = ?", (request_id,))
        if not rows:
            raise CommandError(
                GuardianError.TIME_REQUEST_NOT_FOUND, f"no time request {request_id!r}", {"request_id": request_id}
            )
        return msgspec.convert(dict(rows[0]), TimeRequest)

    def pending(self) -> list[TimeRequest]:
        rows = self._db.query("SELECT * FROM time_requests WHERE answered_ms IS NULL ORDER BY asked_ms")
        return [msgspec.convert(dict(row), TimeRequest) for row in rows]
