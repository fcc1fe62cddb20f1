"""Seed 004's four event shapes, field for field, plus ``id`` and ``timestamp``.

The event log adds ``seq``. Fields the seed does not name (``reason``,
``minutes_remaining``...) are additions; none of the seed's is renamed or
dropped.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from deskbridge.guardian.monitor import ProcessInfo

ROBLOX_EVENT = "roblox_event"
SESSION_EVENT = "session_event"
NOTIFICATION = "notification"
FIREBASE_SYNC_REQUEST = "firebase_sync_request"
TYPES = (ROBLOX_EVENT, SESSION_EVENT, NOTIFICATION, FIREBASE_SYNC_REQUEST)


def iso(moment: float) -> str:
    """ISO 8601 in UTC, to the second, as the seed writes it (``2025-08-11T10:30:00Z``)."""
    return datetime.fromtimestamp(moment, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def process_info(process: ProcessInfo) -> dict[str, Any]:
    return {"pid": process.pid, "name": process.name, "started_at": iso(process.create_time)}


def _event(kind: str, event_type: str | None, data: dict[str, Any], at: float) -> dict[str, Any]:
    body: dict[str, Any] = {"type": kind}
    if event_type is not None:
        body["event_type"] = event_type
    body.update(data=data, id=str(uuid.uuid4()), timestamp=int(at * 1000))
    return body


def roblox_event(event_type: str, process: ProcessInfo, at: float, **extra: Any) -> dict[str, Any]:
    """``roblox_started`` / ``roblox_stopped`` / ``roblox_auto_closed``."""
    return _event(ROBLOX_EVENT, event_type, {"process_info": process_info(process), **extra}, at)


def game_event(event_type: str, data: dict[str, Any], at: float) -> dict[str, Any]:
    """``game_joined`` / ``game_left``, from Roblox's log (``place_id``, ``job_id`` when joining)."""
    return _event(ROBLOX_EVENT, event_type, data, at)


def session_event(event_type: str, session_data: dict[str, Any], at: float, **extra: Any) -> dict[str, Any]:
    """``session_started`` / ``session_ended`` / ``time_limit_warning``."""
    return _event(SESSION_EVENT, event_type, {"session_data": session_data, **extra}, at)


def notification(data: dict[str, Any], at: float) -> dict[str, Any]:
    """``data`` holds at least ``title``, ``message`` and ``type``."""
    return _event(NOTIFICATION, None, data, at)


def sync_request(data_type: str, data: dict[str, Any], sync_id: str, at: float, attempt: int) -> dict[str, Any]:
    return _event(
        FIREBASE_SYNC_REQUEST, None, {"data_type": data_type, "data": data, "sync_id": sync_id, "attempt": attempt}, at
    )
