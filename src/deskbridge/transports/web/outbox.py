"""One connection's outbound queue, measured in bytes.

Responses and events are queued here and written by whoever holds the drain
(the reader right after a command, or the writer task for events and late
responses), so the common case costs no task switch. The owner keeps it
bounded by what it stops doing, never by dropping what is queued: it keeps
events within half the limit (past it, it pages them from the event log as
the queue drains: :meth:`wait_empty`), and stops reading commands while the
queue is past half its limit or too many commands await their answer. An
answer is always queued whole, however big: a client that reads is never
dropped.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Awaitable, Callable

Send = Callable[[bytes], Awaitable[None]]


class Outbox:
    def __init__(self, limit: int, send: Send) -> None:
        self.limit = limit
        self.size = 0
        self._items: deque[bytes] = deque()
        self._send = send
        self._draining = False
        self.deferred = False
        """Set while the owner is about to drain itself: pushes then skip waking the writer task."""
        self._wake = asyncio.Event()
        self._idle = asyncio.Event()
        self._idle.set()

    def push(self, data: bytes) -> None:
        """Queue one message."""
        self.size += len(data)
        self._items.append(data)
        self._idle.clear()
        if not self.deferred:
            self._wake.set()

    @property
    def pending(self) -> bool:
        return bool(self._items)

    async def drain(self) -> None:
        """Write everything queued; a no-op if someone else is already draining."""
        if self._draining:
            return
        self._draining = True
        items, send = self._items, self._send
        try:
            while items:
                data = items.popleft()
                self.size -= len(data)
                await send(data)
        finally:
            self._draining = False
            if not items:
                self._idle.set()

    async def run(self) -> None:
        """The writer task: drain whenever something is queued (until cancelled)."""
        while True:
            await self._wake.wait()
            self._wake.clear()
            await self.drain()

    async def wait_empty(self) -> None:
        """Wait until everything queued is written (backpressure for a producer)."""
        await self._idle.wait()
