"""Who is connected through which door: doors register clients, apps read it.

Seed 004's ``/desktop/status`` reports connection state; the guardian reads it
here without knowing anything about sockets.
"""

from __future__ import annotations

import itertools
import threading
from collections import OrderedDict
from typing import Final

import msgspec

from deskbridge import protocol
from deskbridge.clock import SYSTEM_CLOCK, Clock

POLL_IDLE: Final = 60.0
"""A polling client is listed until it has not polled for this long (the web door's ``poll_idle``)."""
MAX_POLLERS: Final = 1000
"""At most this many polling clients are listed; past it, the one that polled longest ago is forgotten."""


class ClientInfo(msgspec.Struct):
    client_id: str
    door: str
    connected_at: int = msgspec.field(default_factory=protocol.now_ms)
    last_seq: int = 0
    last_seen: int = msgspec.field(default_factory=protocol.now_ms)


class ClientRegistry:
    """Thread-safe table of live clients: connections (WebSocket, stdio, desktop) and polling clients.

    Each kind is tracked on its own. A connection is listed from
    :meth:`connect` to :meth:`disconnect`; a client that reconnects may be
    back before its old connection is seen to close (a half-open TCP
    connection lingers): each connection is counted, so the old one's end does
    not unlist the client. Polling has no connection to end: a polling client
    is listed while it polls, until it has been silent for as long as its
    door says (by the registry's clock, whoever else polls or not), and never
    touches the same client's connections.
    """

    def __init__(self, *, clock: Clock = SYSTEM_CLOCK, max_pollers: int = MAX_POLLERS) -> None:
        self._connections: dict[str, list[ClientInfo]] = {}
        self._pollers: OrderedDict[str, tuple[float, ClientInfo]] = OrderedDict()
        """Polling clients, the one that polled longest ago first, with the monotonic time they expire at."""
        self._lock = threading.Lock()
        self._ids = itertools.count(1)
        self._clock = clock
        self._max_pollers = max_pollers

    def connect(self, door: str, client_id: str | None = None) -> ClientInfo:
        """One more connection; the handle to give back to :meth:`disconnect`."""
        with self._lock:
            info = ClientInfo(client_id or f"{door}-{next(self._ids)}", door)
            self._connections.setdefault(info.client_id, []).append(info)
            return info

    def disconnect(self, client: str | ClientInfo) -> bool:
        """End one connection (its :class:`ClientInfo`) or, given an id, everything of that client."""
        with self._lock:
            if isinstance(client, str):
                polled = self._pollers.pop(client, None) is not None
                return self._connections.pop(client, None) is not None or polled
            connections = self._connections.get(client.client_id, [])
            if not any(info is client for info in connections):
                return False
            connections[:] = [info for info in connections if info is not client]
            if not connections:
                del self._connections[client.client_id]
            return True

    def polled(self, client_id: str, *, idle: float = POLL_IDLE, door: str = "poll") -> None:
        """``client_id`` polled now: listed until it has been silent for ``idle`` seconds."""
        with self._lock:
            self._poll(client_id, idle, door)

    def register(self, door: str, client_id: str | None = None, *, idle: float = POLL_IDLE) -> ClientInfo:
        """A client that says hello with no connection to hold (seed 004's ``POST /desktop/connect``): listed as
        a polling client is, until silent for ``idle`` seconds and bounded with them, so hellos without end
        (no token is needed for them by default) cannot grow the registry."""
        with self._lock:
            info = self._poll(client_id or f"{door}-{next(self._ids)}", idle, door)
            info.last_seen = protocol.now_ms()
            return info

    def _poll(self, client_id: str, idle: float, door: str) -> ClientInfo:
        now = self._clock.monotonic()
        known = self._pollers.pop(client_id, None)
        info = known[1] if known else ClientInfo(client_id, door)
        self._pollers[client_id] = (now + idle, info)
        self._expire(now)
        return info

    def seen(self, client_id: str, last_seq: int | None = None) -> None:
        """Mark a client alive; ``last_seq`` is its cumulative acknowledgement."""
        with self._lock:
            now = protocol.now_ms()
            polling = self._pollers.get(client_id)
            for info in [*self._connections.get(client_id, ()), *([polling[1]] if polling else ())]:
                info.last_seen = now
                if last_seq is not None and last_seq > info.last_seq:
                    info.last_seq = last_seq

    def list(self) -> list[ClientInfo]:
        """One entry per client: its newest connection, else its polling."""
        with self._lock:
            self._expire(self._clock.monotonic())
            listed = {client_id: connections[-1] for client_id, connections in self._connections.items()}
            for client_id, (_, info) in self._pollers.items():
                listed.setdefault(client_id, info)
            return list(listed.values())

    def _expire(self, now: float) -> None:
        """Forget the pollers silent too long, and the longest silent past ``max_pollers``: oldest first, so it
        costs what it forgets, not a scan."""
        pollers = self._pollers
        while pollers:
            oldest, (expires, _) = next(iter(pollers.items()))
            if now < expires and len(pollers) <= self._max_pollers:
                return
            del pollers[oldest]
