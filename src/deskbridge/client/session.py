"""The client's protocol core, independent of the transport under it.

A transport feeds every decoded message to :meth:`Session.feed` and gives the
session a ``send`` function. The session matches responses to calls, routes
progress events to their operation handles, drops events it has already seen
(by ``seq``), and fails every pending call at once when the connection goes.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import os
from collections import OrderedDict
from collections.abc import AsyncIterator, Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from deskbridge import protocol

log = logging.getLogger("deskbridge.client")

Send = Callable[[bytes], None]
EventCallback = Callable[[dict[str, Any]], None]

EARLY_OPERATIONS = 256


class Cursor(NamedTuple):
    """Where a client stands in the event log: the log's ``epoch`` and the ``seq`` of the last event handled.

    Save it (it is a plain ``(epoch, last_seq)`` tuple, JSON-friendly) and hand it back to resume:
    ``StdioClient.spawn(..., resume=cursor)`` delivers every event after it, once each, in order.
    """

    epoch: str
    last_seq: int


class ClientError(Exception):
    """Base of every error the client raises."""


class RemoteError(ClientError):
    """The backend answered with an error: ``error_code`` says which."""

    def __init__(self, error_code: str, message: str, details: Any = None, response: Any = None) -> None:
        super().__init__(f"{error_code}: {message}")
        self.error_code = error_code
        self.message = message
        self.details = details
        self.response = response


class OperationFailed(RemoteError):
    """An operation ended ``failed`` or ``cancelled``; ``status`` says which."""

    def __init__(self, status: str, payload: dict[str, Any]) -> None:
        super().__init__(
            str(payload.get("error_code", "OPERATION_CANCELLED" if status == "cancelled" else "INTERNAL_ERROR")),
            str(payload.get("error", status)),
            payload.get("details"),
            payload,
        )
        self.status = status


class ConnectionLost(ClientError):
    """The connection closed before the answer came."""


@dataclass
class _Pending:
    future: asyncio.Future[Any]
    operation: bool = False


@dataclass
class OperationHandle:
    """A running operation: iterate it for progress, await :meth:`result` for the end."""

    id: str
    data: dict[str, Any]
    _session: Session
    _queue: asyncio.Queue[dict[str, Any]] = field(default_factory=asyncio.Queue)
    _done: asyncio.Future[dict[str, Any]] = field(default_factory=lambda: asyncio.get_running_loop().create_future())
    last: dict[str, Any] | None = None

    def _push(self, payload: dict[str, Any]) -> None:
        self.last = payload
        self._queue.put_nowait(payload)
        if payload.get("status") in protocol.TERMINAL_STATUSES and not self._done.done():
            self._done.set_result(payload)

    def _lost(self, exc: BaseException) -> None:
        if not self._done.done():
            self._done.set_exception(exc)
            self._done.exception()  # marked retrieved: not every caller awaits result()
        self._queue.put_nowait({"status": "lost"})

    async def __aiter__(self) -> AsyncIterator[dict[str, Any]]:
        """Progress payloads, ending with the terminal one."""
        while True:
            payload = await self._queue.get()
            if payload.get("status") == "lost":
                await self._done
            yield payload
            if payload.get("status") in protocol.TERMINAL_STATUSES:
                return

    async def result(self, timeout: float | None = None) -> Any:
        """The operation's result; raises :class:`OperationFailed` when it failed or was cancelled."""
        payload = await asyncio.wait_for(asyncio.shield(self._done), timeout)
        status = payload["status"]
        if status != "completed":
            raise OperationFailed(status, payload)
        return payload.get("result")

    async def cancel(self) -> bool:
        data = await self._session.call("CANCEL_OPERATION", {"operation_id": self.id})
        return bool(data["cancelled"])


class Session:
    def __init__(self, send: Send) -> None:
        self._send = send
        self._ids = itertools.count(1)
        self._prefix = f"c{os.getpid()}-{id(self):x}-"
        self._pending: dict[Any, _Pending] = {}
        self._operations: dict[str, OperationHandle] = {}
        self._listeners: list[tuple[frozenset[str] | None, EventCallback]] = []
        self._closed: BaseException | None = None
        # Progress that arrived before its operation's response (polling reads events and
        # responses on different requests); replayed into the handle when it is made.
        self._early: OrderedDict[str, list[dict[str, Any]]] = OrderedDict()
        self.last_seq = 0
        self.epoch: str | None = None
        self._gated: list[dict[str, Any]] | None = None

    # -- requests -----------------------------------------------------------

    async def call(self, command_type: str, payload: Any = None, *, timeout: float | None = None) -> Any:
        """Send a command and return its ``data``; raises :class:`RemoteError` on an error response."""
        return await self._request(command_type, payload, timeout, operation=False)

    async def start(self, command_type: str, payload: Any = None, *, timeout: float | None = None) -> OperationHandle:
        """Start an operation; its handle exists before any of its progress can arrive."""
        handle: OperationHandle = await self._request(command_type, payload, timeout, operation=True)
        return handle

    async def _request(self, command_type: str, payload: Any, timeout: float | None, *, operation: bool) -> Any:
        if self._closed is not None:
            raise ConnectionLost(str(self._closed))
        command_id = self._prefix + str(next(self._ids))
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._pending[command_id] = _Pending(future, operation)
        message = {"id": command_id, "type": command_type, "payload": {} if payload is None else payload}
        try:
            self._send(protocol.encode(message))
            return await asyncio.wait_for(future, timeout)
        finally:
            self._pending.pop(command_id, None)

    # -- events -------------------------------------------------------------

    def on_event(self, callback: EventCallback, types: Iterable[str] | None = None) -> Callable[[], None]:
        """Call ``callback`` for every new event (of ``types``); returns a function that unsubscribes."""
        entry = (frozenset(types) if types is not None else None, callback)
        self._listeners.append(entry)
        return lambda: self._listeners.remove(entry) if entry in self._listeners else None

    # -- fed by the transport -----------------------------------------------

    def feed(self, message: dict[str, Any]) -> None:
        seq = message.get("seq")
        if seq is not None:
            self._event(message, seq)
            return
        pending = self._pending.get(message.get("id"))
        if pending is None or pending.future.done():
            return
        if message.get("success"):
            data = message.get("data")
            if pending.operation and isinstance(data, dict) and "operation_id" in data:
                handle = OperationHandle(data["operation_id"], data, self)
                self._operations[handle.id] = handle
                for payload in self._early.pop(handle.id, ()):
                    self._progress(handle, payload)
                pending.future.set_result(handle)
            else:
                pending.future.set_result(data)
        else:
            pending.future.set_exception(
                RemoteError(
                    str(message.get("error_code", "INTERNAL_ERROR")),
                    str(message.get("error", "")),
                    message.get("details"),
                    message,
                )
            )

    def _event(self, message: dict[str, Any], seq: int) -> None:
        if seq <= self.last_seq:
            return
        self.last_seq = seq
        if self._gated is not None:
            self._gated.append(message)
            return
        self._dispatch(message, seq)

    def gate(self) -> None:
        """Keep events (counted, not yet delivered) until :meth:`open_gate`: while a client connects, the
        caller has had no chance to add its listeners, and events it resumed would reach nobody."""
        if self._gated is None:
            self._gated = []

    def open_gate(self) -> None:
        """Deliver the events kept since :meth:`gate`, in order, then every event as it comes."""
        gated, self._gated = self._gated or [], None
        for message in gated:
            self._dispatch(message, message["seq"])

    def _dispatch(self, message: dict[str, Any], seq: int) -> None:
        payload = message.get("payload")
        if isinstance(payload, dict) and "operation_id" in payload:
            operation_id = str(payload["operation_id"])
            handle = self._operations.get(operation_id)
            if handle is not None:
                self._progress(handle, payload)
            elif any(p.operation for p in self._pending.values()):
                self._early.setdefault(operation_id, []).append(payload)
                while len(self._early) > EARLY_OPERATIONS:
                    self._early.popitem(last=False)
        for types, callback in list(self._listeners):
            if types is None or message.get("type") in types:
                try:
                    callback(message)
                except Exception:  # one listener's bug stops neither the others nor the stream
                    log.exception("event listener %r failed on the event with seq %s", callback, seq)

    def _progress(self, handle: OperationHandle, payload: dict[str, Any]) -> None:
        handle._push(payload)
        if payload.get("status") in protocol.TERMINAL_STATUSES:
            self._operations.pop(handle.id, None)

    def resync(self, epoch: str, after: int) -> None:
        """The server (re)starts the stream after ``after`` in ``epoch``: the cursor moves there (your own
        cursor when it could continue it; 0 in a new log, whose ``seq`` restarts; wherever it starts otherwise)."""
        self.epoch, self.last_seq = epoch, after

    def fail_call(self, command_id: str, reason: BaseException) -> None:
        """One call's request was lost (a failed HTTP request): fail that call alone."""
        pending = self._pending.get(command_id)
        if pending is not None and not pending.future.done():
            pending.future.set_exception(reason)

    def fail_pending(self, reason: BaseException) -> None:
        """The connection dropped but the client will reconnect: fail the calls in flight, keep the rest.

        Operation handles stay: their progress comes back with the resumed event stream.
        """
        lost = reason if isinstance(reason, ConnectionLost) else ConnectionLost(str(reason))
        for pending in self._pending.values():
            if not pending.future.done():
                pending.future.set_exception(lost)

    def close(self, reason: BaseException) -> None:
        """Fail everything still waiting: nothing hangs after the connection goes."""
        if self._closed is not None:
            return
        self._closed = reason
        lost = reason if isinstance(reason, ConnectionLost) else ConnectionLost(str(reason))
        self.fail_pending(lost)
        for handle in self._operations.values():
            handle._lost(lost)
        self._operations.clear()
