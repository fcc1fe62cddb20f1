"""The guardian's database (``<data-dir>/guardian/guardian.db``): one migration per schema version."""

from __future__ import annotations

from typing import Final

MIGRATIONS: Final = [
    """
    CREATE TABLE usage (
        child TEXT NOT NULL,
        day TEXT NOT NULL,                  -- local date, ISO 8601
        seconds REAL NOT NULL,
        PRIMARY KEY (child, day)
    );
    CREATE TABLE bonus (
        child TEXT NOT NULL,
        day TEXT NOT NULL,
        seconds REAL NOT NULL,
        PRIMARY KEY (child, day)
    );
    CREATE TABLE limit_overrides (
        child TEXT PRIMARY KEY,
        daily_limit_minutes INTEGER NOT NULL,
        weekday_limits TEXT NOT NULL        -- JSON {"saturday": 180}
    );
    CREATE TABLE warnings (
        child TEXT NOT NULL,
        day TEXT NOT NULL,
        threshold INTEGER NOT NULL,         -- minutes
        PRIMARY KEY (child, day, threshold)
    );
    CREATE TABLE sessions (
        session_id TEXT PRIMARY KEY,
        child TEXT NOT NULL,
        started_ms INTEGER NOT NULL,
        updated_ms INTEGER NOT NULL,
        ended_ms INTEGER,
        seconds REAL NOT NULL,
        processes TEXT NOT NULL             -- JSON, the game processes of the open session
    );
    CREATE INDEX sessions_open ON sessions (ended_ms) WHERE ended_ms IS NULL;
    CREATE TABLE sync_requests (
        sync_id TEXT PRIMARY KEY,
        data_type TEXT NOT NULL,
        data BLOB NOT NULL,                 -- JSON
        created_ms INTEGER NOT NULL,
        attempts INTEGER NOT NULL,
        next_ms INTEGER NOT NULL,
        confirmed_ms INTEGER
    );
    CREATE INDEX sync_pending ON sync_requests (next_ms) WHERE confirmed_ms IS NULL;
    CREATE TABLE settings (
        key TEXT PRIMARY KEY,
        value TEXT NOT NULL                 -- JSON
    );
    """,
    """
    CREATE TABLE day_limits (
        child TEXT NOT NULL,
        day TEXT NOT NULL,                  -- local date, ISO 8601
        minutes INTEGER NOT NULL,           -- the parent's limit for that one day
        PRIMARY KEY (child, day)
    );
    """,
    """
    CREATE TABLE time_requests (
        request_id TEXT PRIMARY KEY,
        child TEXT NOT NULL,
        minutes INTEGER NOT NULL,
        reason TEXT NOT NULL,
        asked_ms INTEGER NOT NULL,
        answered_ms INTEGER,
        granted_minutes INTEGER             -- 0: refused; NULL: not answered yet
    );
    """,
    """
    CREATE TABLE stops (
        day TEXT NOT NULL,                  -- local date of the start that found the stop
        last_seen_ms INTEGER NOT NULL,      -- the stopped run's last saved tick
        started_ms INTEGER NOT NULL,
        clean INTEGER NOT NULL              -- 1: a clean shutdown; 0: killed, crashed, power cut
    );
    CREATE INDEX stops_day ON stops (day);
    """,
    """
    CREATE TABLE hours_overrides (
        child TEXT NOT NULL,
        weekday TEXT NOT NULL,              -- '': every day without its own; else "saturday"
        windows TEXT NOT NULL,              -- JSON [{"start": "16:00", "end": "20:00"}]; []: any time
        PRIMARY KEY (child, weekday)
    );
    """,
]
