"""Data the desktop client must push to Firebase, raised again with backoff until it says it did.

Each request is a ``firebase_sync_request`` event with a ``sync_id``; the
client answers ``POST /sync/confirm {sync_id}``. Requests live in the
database, so one the client never confirmed is raised again after a restart,
and the unconfirmed ones are the seed's "queued sessions" and "queued
notifications".
"""

from __future__ import annotations

import enum
import uuid
from collections.abc import Callable
from typing import Any

import msgspec

from deskbridge.guardian import events
from deskbridge.guardian.config import SyncConfig
from deskbridge.store import Database

Emit = Callable[[dict[str, Any]], None]

SESSION = "session"
NOTIFICATION = "notification"


class Confirmation(enum.StrEnum):
    CONFIRMED = "confirmed"
    ALREADY_CONFIRMED = "already_confirmed"
    UNKNOWN = "unknown"


class SyncRequests:
    def __init__(self, db: Database, emit: Emit, config: SyncConfig) -> None:
        self._db = db
        self._emit = emit
        self._config = config

    def request(self, data_type: str, data: dict[str, Any], now: float) -> str:
        sync_id = str(uuid.uuid4())
        with self._db.transaction() as conn:
            conn.execute(
                "INSERT INTO sync_requests (sync_id, data_type, data, created_ms, attempts, next_ms) "
                "VALUES (?, ?, ?, ?, 1, ?)",
                (sync_id, data_type, msgspec.json.encode(data), int(now * 1000), self._next_ms(now, 1)),
            )
        self._emit(events.sync_request(data_type, data, sync_id, now, 1))
        return sync_id

    def resend_due(self, now: float) -> None:
        due = self._db.query(
            "SELECT sync_id, data_type, data, attempts FROM sync_requests WHERE confirmed_ms IS NULL AND next_ms <= ?",
            (int(now * 1000),),
        )
        for row in due:
            attempt = row["attempts"] + 1
            with self._db.transaction() as conn:
                conn.execute(
                    "UPDATE sync_requests SET attempts = ?, next_ms = ? WHERE sync_id = ?",
                    (attempt, self._next_ms(now, attempt), row["sync_id"]),
                )
            self._emit(
                events.sync_request(row["data_type"], msgspec.json.decode(row["data"]), row["sync_id"], now, attempt)
            )

    def confirm(self, sync_id: str, now: float) -> Confirmation:
        with self._db.transaction() as conn:
            row = conn.execute("SELECT confirmed_ms FROM sync_requests WHERE sync_id = ?", (sync_id,)).fetchone()
            if row is None:
                return Confirmation.UNKNOWN
            if row["confirmed_ms"] is not None:
                return Confirmation.ALREADY_CONFIRMED
            conn.execute("UPDATE sync_requests SET confirmed_ms = ? WHERE sync_id = ?", (int(now * 1000), sync_id))
            return Confirmation.CONFIRMED

    def pending(self, data_type: str) -> list[dict[str, Any]]:
        """Unconfirmed requests of one kind, oldest first."""
        rows = self._db.query(
            "SELECT sync_id, data, created_ms, attempts FROM sync_requests "
            "WHERE confirmed_ms IS NULL AND data_type = ? ORDER BY created_ms, rowid",
            (data_type,),
        )
        return [
            {
                "sync_id": row["sync_id"],
                "data": msgspec.json.decode(row["data"]),
                "created_at": events.iso(row["created_ms"] / 1000),
                "attempts": row["attempts"],
            }
            for row in rows
        ]

    def counts(self) -> dict[str, int]:
        rows = self._db.query(
            "SELECT data_type, COUNT(*) AS n FROM sync_requests WHERE confirmed_ms IS NULL GROUP BY data_type"
        )
        return {row["data_type"]: row["n"] for row in rows}

    def _next_ms(self, now: float, attempts: int) -> int:
        wait = min(self._config.retry_seconds * 2 ** (attempts - 1), self._config.max_retry_seconds)
        return int((now + wait) * 1000)
