"""A playing session: from a child's first game process to its last one, however many run in between.

The open session and its processes are on disk, so a guardian restarted while
the game runs carries on with the same session (and does not announce the
same processes twice), and one restarted after the game quit ends it.
"""

from __future__ import annotations

import msgspec

from deskbridge.guardian.monitor import ProcessInfo
from deskbridge.store import Database

_processes = msgspec.json.Decoder(list[ProcessInfo])


class Session(msgspec.Struct):
    session_id: str
    child: str
    started_at: float
    seconds: float = 0.0
    """Awake time played, paused or not (usage toward the limit is counted apart)."""
    processes: list[ProcessInfo] = msgspec.field(default_factory=list)


class Sessions:
    """The open sessions, one per child at most, and their records in the database."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def restore(self) -> dict[str, Session]:
        """The open session of each child (several children may play at once)."""
        rows = self._db.query("SELECT * FROM sessions WHERE ended_ms IS NULL ORDER BY started_ms")
        return {
            row["child"]: Session(
                row["session_id"], row["child"], row["started_ms"] / 1000, row["seconds"],
                _processes.decode(row["processes"]),
            )
            for row in rows
        }  # fmt: skip

    def start(self, child: str, now: float, processes: list[ProcessInfo]) -> Session:
        started_ms = int(now * 1000)
        session = Session(f"{child}_{started_ms}", child, now, 0.0, processes)
        with self._db.transaction() as conn:
            conn.execute(
                "INSERT INTO sessions (session_id, child, started_ms, updated_ms, seconds, processes) "
                "VALUES (?, ?, ?, ?, 0, ?)",
                (session.session_id, child, started_ms, started_ms, msgspec.json.encode(processes)),
            )
        return session

    def update(
        self, session: Session, now: float, *, played: float = 0.0, processes: list[ProcessInfo] | None = None
    ) -> None:
        session.seconds += played
        if processes is not None:
            session.processes = processes
        with self._db.transaction() as conn:
            conn.execute(
                "UPDATE sessions SET seconds = ?, updated_ms = ?, processes = ? WHERE session_id = ?",
                (session.seconds, int(now * 1000), msgspec.json.encode(session.processes), session.session_id),
            )

    def end(self, session: Session, now: float) -> None:
        with self._db.transaction() as conn:
            conn.execute(
                "UPDATE sessions SET ended_ms = ?, updated_ms = ?, processes = '[]' WHERE session_id = ?",
                (int(now * 1000), int(now * 1000), session.session_id),
            )
