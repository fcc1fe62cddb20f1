"""Single values the guardian keeps across restarts (a pause, the current block): one JSON row each."""

from __future__ import annotations

from typing import Any

import msgspec

from deskbridge.store import Database


def load(db: Database, key: str) -> str | None:
    """The JSON stored under ``key``, or None when there is no row (a stored ``null`` is ``"null"``)."""
    rows = db.query("SELECT value FROM settings WHERE key = ?", (key,))
    return str(rows[0]["value"]) if rows else None


def save(db: Database, key: str, value: Any) -> None:
    with db.transaction() as conn:
        conn.execute("INSERT OR REPLACE INTO settings VALUES (?, ?)", (key, msgspec.json.encode(value).decode()))


def delete(db: Database, key: str) -> None:
    with db.transaction() as conn:
        conn.execute("DELETE FROM settings WHERE key = ?", (key,))
