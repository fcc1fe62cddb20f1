"""What the WebSocket and polling clients share: URLs, backoff, resume state, the public API.

Both keep one :class:`~deskbridge.client.session.Session` for their whole
life, across reconnections: calls in flight fail when a connection drops,
operation handles and event listeners carry on, and the event stream resumes
from the session's ``epoch`` and ``last_seq`` with no gap and no duplicate.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable, Coroutine, Iterable, Iterator
from dataclasses import dataclass
from types import TracebackType
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from deskbridge.client.session import ClientError, EventCallback, OperationHandle, Session

ResumeCallback = Callable[[bool, str], None]


class Refused(ClientError):
    """The server refused this client (token, Origin or Host): retrying cannot help."""

    def __init__(self, message: str, code: int | None = None) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class Backoff:
    """Exponential backoff with full jitter between reconnection attempts."""

    initial: float = 0.05
    maximum: float = 5.0
    factor: float = 2.0

    def delays(self) -> Iterator[float]:
        delay = self.initial
        while True:
            yield random.uniform(delay / 2, delay)
            delay = min(self.maximum, delay * self.factor)


def http_base(url: str) -> str:
    """``ws://host:port/ws`` or ``http://host:port/...`` -> ``http://host:port``."""
    parts = urlsplit(url)
    scheme = {"ws": "http", "wss": "https"}.get(parts.scheme, parts.scheme or "http")
    return urlunsplit((scheme, parts.netloc, "", "", ""))


def ws_endpoint(url: str) -> str:
    """Any URL of the server -> its ``ws://host:port/ws``."""
    parts = urlsplit(url)
    if parts.scheme in ("ws", "wss"):
        return urlunsplit((parts.scheme, parts.netloc, parts.path or "/ws", "", ""))
    scheme = "wss" if parts.scheme == "https" else "ws"
    return urlunsplit((scheme, parts.netloc, "/ws", "", ""))


class RemoteClient:
    """The client API over a network door; subclasses move the bytes."""

    transport = "remote"

    def __init__(
        self,
        url: str,
        *,
        token: str | None = None,
        client_id: str | None = None,
        backoff: Backoff | None = None,
        on_resume: ResumeCallback | None = None,
    ) -> None:
        self.url = url
        self.token = token
        self.client_id = client_id
        self.backoff = backoff or Backoff()
        self.on_resume = on_resume
        self.session = Session(self._send)
        self.recovered: bool | None = None
        self.connected = asyncio.Event()
        self._closing = False
        self._tasks: set[asyncio.Task[Any]] = set()

    @property
    def last_seq(self) -> int:
        return self.session.last_seq

    @property
    def epoch(self) -> str | None:
        return self.session.epoch

    def _send(self, data: bytes) -> None:
        raise NotImplementedError

    def _auth_headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"} if self.token else {}

    def _resumed(self, recovered: bool, epoch: str, after: int, client_id: str | None = None) -> None:
        """The server says where the stream starts: after ``after`` in ``epoch``."""
        self.session.resync(epoch, after)
        self.recovered = recovered
        if client_id and self.client_id is None:
            self.client_id = client_id
        if self.on_resume is not None:
            self.on_resume(recovered, epoch)

    def _spawn(self, coro: Coroutine[Any, Any, Any]) -> asyncio.Task[Any]:
        task = asyncio.create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def call(self, command_type: str, payload: Any = None, *, timeout: float | None = None) -> Any:
        return await self.session.call(command_type, payload, timeout=timeout)

    async def start(self, command_type: str, payload: Any = None, *, timeout: float | None = None) -> OperationHandle:
        return await self.session.start(command_type, payload, timeout=timeout)

    def on_event(self, callback: EventCallback, types: Iterable[str] | None = None) -> Callable[[], None]:
        return self.session.on_event(callback, types)

    async def ack(self) -> None:
        """Acknowledge every event seen so far (needs a ``client_id``): retention keeps the rest for us."""
        if self.client_id is not None:
            await self.call("ACK_EVENTS", {"client_id": self.client_id, "last_seq": self.session.last_seq})

    async def _stop_tasks(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.wait(list(self._tasks), timeout=2)

    async def aclose(self) -> int:
        raise NotImplementedError

    async def __aenter__(self) -> RemoteClient:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()
