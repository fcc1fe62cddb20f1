"""Who is connected through which door: doors register clients, apps read it.

Seed 004's ``/desktop/status`` reports connection state; the guardian reads it
here without knowing anything about sockets.
"""

from __future__ import annotations

import itertools
import threading
from dataclasses import dataclass, field

from deskbridge import protocol


@dataclass
class ClientInfo:
    client_id: str
    door: str
    connected_at: int = field(default_factory=protocol.now_ms)
    last_seq: int = 0
    last_seen: int = field(default_factory=protocol.now_ms)


class ClientRegistry:
    """Thread-safe table of live clients (WebSocket connections, polling clients, stdio)."""

    def __init__(self) -> None:
        self._clients: dict[str, ClientInfo] = {}
        self._lock = threading.Lock()
        self._ids = itertools.count(1)

    def connect(self, door: str, client_id: str | None = None) -> ClientInfo:
        with self._lock:
            info = ClientInfo(client_id or f"{door}-{next(self._ids)}", door)
            self._clients[info.client_id] = info
            return info

    def disconnect(self, client_id: str) -> bool:
        with self._lock:
            return self._clients.pop(client_id, None) is not None

    def seen(self, client_id: str, last_seq: int | None = None) -> None:
        """Mark a client alive; ``last_seq`` is its cumulative acknowledgement."""
        with self._lock:
            info = self._clients.get(client_id)
            if info is not None:
                info.last_seen = protocol.now_ms()
                if last_seq is not None and last_seq > info.last_seq:
                    info.last_seq = last_seq

    def list(self) -> list[ClientInfo]:
        with self._lock:
            return list(self._clients.values())
