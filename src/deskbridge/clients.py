"""Who is connected through which door: doors register clients, apps read it.

Seed 004's ``/desktop/status`` reports connection state; the guardian reads it
here without knowing anything about sockets.
"""

from __future__ import annotations

import itertools
import threading

import msgspec

from deskbridge import protocol


class ClientInfo(msgspec.Struct):
    client_id: str
    door: str
    connected_at: int = msgspec.field(default_factory=protocol.now_ms)
    last_seq: int = 0
    last_seen: int = msgspec.field(default_factory=protocol.now_ms)


class ClientRegistry:
    """Thread-safe table of live clients (WebSocket connections, polling clients, stdio).

    A client that reconnects may be back before its old connection is seen
    to close (a half-open TCP connection lingers): each connection is
    counted, so the old one's end does not unlist the client.
    """

    def __init__(self) -> None:
        self._clients: dict[str, list[ClientInfo]] = {}
        self._lock = threading.Lock()
        self._ids = itertools.count(1)

    def connect(self, door: str, client_id: str | None = None) -> ClientInfo:
        """One more connection; the handle to give back to :meth:`disconnect`."""
        with self._lock:
            info = ClientInfo(client_id or f"{door}-{next(self._ids)}", door)
            self._clients.setdefault(info.client_id, []).append(info)
            return info

    def disconnect(self, client: str | ClientInfo) -> bool:
        """End one connection (its :class:`ClientInfo`) or, given an id, every connection of that client."""
        with self._lock:
            if isinstance(client, str):
                return self._clients.pop(client, None) is not None
            connections = self._clients.get(client.client_id, [])
            if not any(info is client for info in connections):
                return False
            connections[:] = [info for info in connections if info is not client]
            if not connections:
                del self._clients[client.client_id]
            return True

    def seen(self, client_id: str, last_seq: int | None = None) -> None:
        """Mark a client alive; ``last_seq`` is its cumulative acknowledgement."""
        with self._lock:
            now = protocol.now_ms()
            for info in self._clients.get(client_id, ()):
                info.last_seen = now
                if last_seq is not None and last_seq > info.last_seq:
                    info.last_seq = last_seq

    def list(self) -> list[ClientInfo]:
        """One entry per client: its newest connection."""
        with self._lock:
            return [connections[-1] for connections in self._clients.values()]
