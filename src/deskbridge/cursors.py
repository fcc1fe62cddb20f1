"""Cursors the server keeps for clients that send none (seed 004's desktop client polls with no ``after``).

A client names itself with ``client_id``; one that does not is the one default
desktop consumer. A read without a cursor starts where that client's last
answer ended: coming back for more is what acknowledges an answer. An answer
is recorded only once it went out whole, so a poll the client abandoned (or a
server killed before answering) moves nothing and its events come again.
Positions live in the event log's consumer table: they survive a restart of
either side, and retention keeps what a known client has not had yet.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Final

from deskbridge.events import EventLog

DEFAULT_CONSUMER: Final = "desktop"
"""The consumer of a client that names none."""


class ClientCursors:
    def __init__(self, events: EventLog, default: str = DEFAULT_CONSUMER) -> None:
        self._events = events
        self.default = default

    def consumer(self, client_id: str | None) -> str:
        return client_id or self.default

    def position(self, client_id: str | None) -> int:
        """The last ``seq`` this client was handed in full (0 for a client never seen: it gets the queue)."""
        acked = self._events.acknowledged(self.consumer(client_id))
        return 0 if acked is None else acked

    def handed(self, client_id: str | None, last_seq: int) -> None:
        """The client was handed every event up to ``last_seq``; on disk before this returns."""
        self._events.acknowledge(self.consumer(client_id), last_seq)
        self._events.flush()

    def backlog(self, client_id: str | None, types: Iterable[str] = ()) -> dict[str, int]:
        """How many events the client has not had yet: ``{"events": n, <type>: n for each of types}``."""
        return self._events.count_after(self.position(client_id), types)
