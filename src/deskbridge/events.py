"""The event log: every event gets a ``seq`` and is on disk before anyone sees it.

Appends made during one turn of the event loop are committed together in one
transaction, then handed to the subscribers, so durability costs one commit per
burst rather than one per event. The log is named by an ``epoch`` that changes
whenever the file is created anew, so a client can tell "you missed nothing"
from "your cursor belongs to a log that is gone".
"""

from __future__ import annotations

import asyncio
import threading
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any, Final

from deskbridge import protocol, store
from deskbridge.clock import SYSTEM_CLOCK, Clock

Deliver = Callable[[list[bytes]], None]
Schedule = Callable[[Callable[[], None]], object]

_MIGRATIONS: Final = [
    """
    CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
    CREATE TABLE events (
        seq INTEGER PRIMARY KEY,
        type TEXT NOT NULL,
        time_ms INTEGER NOT NULL,
        body BLOB NOT NULL
    );
    """,
]


class Subscription:
    """A live feed of encoded events, in ``seq`` order, until cancelled."""

    __slots__ = ("_log", "deliver")

    def __init__(self, log: EventLog, deliver: Deliver) -> None:
        self._log = log
        self.deliver = deliver

    def cancel(self) -> None:
        self._log._subscribers.discard(self)


class EventLog:
    """Single-threaded: call it from the event loop (``emit`` hops threads for you)."""

    def __init__(self, path: Path | str, *, schedule: Schedule, clock: Clock = SYSTEM_CLOCK) -> None:
        self._db = store.connect(path)
        store.migrate(self._db, _MIGRATIONS, name=f"event log {path}")
        self._schedule = schedule
        self._clock = clock
        row = self._db.execute("SELECT value FROM meta WHERE key = 'epoch'").fetchone()
        if row is None:
            self.epoch = uuid.uuid4().hex
            self._db.execute("INSERT INTO meta VALUES ('epoch', ?)", (self.epoch,))
        else:
            self.epoch = row[0]
        (last,) = self._db.execute("SELECT COALESCE(MAX(seq), 0) FROM events").fetchone()
        self.last_seq: int = last
        self._pending: list[tuple[int, str, int, bytes]] = []
        self._subscribers: set[Subscription] = set()
        self._closed = False

    def append(self, message: dict[str, Any]) -> int:
        """Give ``message`` the next ``seq``; it is committed, then delivered, this turn."""
        if self._closed:
            raise RuntimeError("event log is closed")
        self.last_seq += 1
        seq = self.last_seq
        message["seq"] = seq
        body = protocol.encode(message)
        if not self._pending:
            self._schedule(self.flush)
        self._pending.append((seq, str(message.get("type", "")), int(self._clock.time() * 1000), body))
        return seq

    def flush(self) -> None:
        batch = self._pending
        if not batch:
            return
        self._pending = []
        self._db.execute("BEGIN")
        try:
            self._db.executemany("INSERT INTO events VALUES (?, ?, ?, ?)", batch)
            self._db.execute("COMMIT")
        except BaseException:
            self._db.execute("ROLLBACK")
            self.last_seq = batch[0][0] - 1
            raise
        bodies = [body for _, _, _, body in batch]
        for subscription in list(self._subscribers):
            subscription.deliver(bodies)

    def subscribe(self, deliver: Deliver) -> Subscription:
        subscription = Subscription(self, deliver)
        self._subscribers.add(subscription)
        return subscription

    def read(self, after: int, limit: int = 1000) -> list[bytes]:
        """Committed events with ``seq > after``, oldest first."""
        rows = self._db.execute("SELECT body FROM events WHERE seq > ? ORDER BY seq LIMIT ?", (after, limit)).fetchall()
        return [row[0] for row in rows]

    def close(self) -> None:
        if not self._closed:
            self.flush()
            self._closed = True
            self._subscribers.clear()
            self._db.close()


class EventSink:
    """What apps and operations emit through: safe to call from any thread."""

    def __init__(self, log: EventLog, loop: asyncio.AbstractEventLoop) -> None:
        self._log = log
        self._loop = loop
        self._loop_thread = threading.get_ident()

    def emit(self, message: dict[str, Any]) -> None:
        if threading.get_ident() == self._loop_thread:
            self._log.append(message)
        else:
            self._loop.call_soon_threadsafe(self._log.append, message)

    def progress(self, event_type: str, payload: dict[str, Any]) -> None:
        """A seed-000 progress event (``"id": "progress-event"``) of ``event_type``."""
        self.emit(protocol.progress_event(event_type, payload))
