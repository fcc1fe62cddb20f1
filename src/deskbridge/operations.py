"""Long-running commands: answer at once with an ``operation_id``, then report.

An operation's progress ticks are throttled and conflated (the latest value of
every field wins), and it ends in exactly one terminal event whose ``status``
is ``completed``, ``failed`` or ``cancelled``. Work may be a coroutine
function (cancelled by cancelling its task) or a blocking function run in a
worker thread (cancelled by a flag it checks through :meth:`Operation.check`).
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import threading
import uuid
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from concurrent.futures import Executor
from pathlib import Path
from typing import Any

from deskbridge import protocol, store
from deskbridge.clock import SYSTEM_CLOCK, Clock
from deskbridge.errors import CommandError, ErrorCode
from deskbridge.protocol import TERMINAL_STATUSES, Status

log = logging.getLogger("deskbridge.operations")

Emit = Callable[[dict[str, Any]], None]
Work = Callable[["Operation"], Any] | Callable[["Operation"], Awaitable[Any]]


class OperationCancelled(Exception):
    """Raised inside a blocking operation's work by :meth:`Operation.check`."""


class Operation:
    """One running job. ``progress`` and ``check`` may be called from any thread."""

    def __init__(
        self,
        manager: Operations,
        command: str,
        event_type: str,
        work: Work,
        data: dict[str, Any],
    ) -> None:
        self.id = str(uuid.uuid4())
        self.command = command
        self.event_type = event_type
        self.status = Status.PENDING
        self.state: dict[str, Any] = {}
        self.result: Any = None
        self.error: dict[str, Any] | None = None
        self.created_ms = protocol.now_ms()
        self.finished_ms: int | None = None
        self._manager = manager
        self._work = work
        self._data = data
        self._cancel_requested = threading.Event()
        self._task: asyncio.Future[Any] | None = None
        self._last_emit = float("-inf")
        self._flush_handle: asyncio.TimerHandle | None = None
        self._dirty = False
        self.done = manager.loop.create_future()

    # -- called by the work -------------------------------------------------

    def progress(self, **fields: Any) -> None:
        """Record the latest state; subscribers see it at most once per throttle interval."""
        if threading.get_ident() == self._manager.loop_thread:
            self._manager._on_progress(self, fields)
        else:
            self._manager.loop.call_soon_threadsafe(self._manager._on_progress, self, fields)

    def check(self) -> None:
        """Raise :class:`OperationCancelled` if someone asked to cancel this operation."""
        if self._cancel_requested.is_set():
            raise OperationCancelled(self.id)

    # -- called by the router and the manager ------------------------------

    def started_data(self) -> dict[str, Any]:
        return {"operation_id": self.id, "status": self.status.value, **self._data}

    def launch(self) -> None:
        self._manager._launch(self)

    def snapshot(self) -> dict[str, Any]:
        return {
            "operation_id": self.id,
            "command": self.command,
            "event_type": self.event_type,
            "status": self.status.value,
            "state": dict(self.state),
            "result": self.result,
            "error": self.error,
            "created_at": self.created_ms,
            "finished_at": self.finished_ms,
        }


class Journal:
    """Which operations are running, on disk: a backend killed mid-operation ends them at its next start.

    Without it, a client holding an operation handle across a crash would
    wait forever for a terminal event that no process is left to send.
    """

    def __init__(self, path: Path) -> None:
        self._db = store.Database(path, _JOURNAL_MIGRATIONS, name=f"operation journal {path}")

    def started(self, op: Operation) -> None:
        with self._db.transaction() as db:
            db.execute("INSERT OR REPLACE INTO running VALUES (?, ?, ?)", (op.id, op.command, op.event_type))

    def finished(self, op: Operation) -> None:
        with self._db.transaction() as db:
            db.execute("DELETE FROM running WHERE operation_id = ?", (op.id,))

    def take_interrupted(self) -> list[tuple[str, str, str]]:
        """The operations a previous run left running; forgotten once taken.

        Read first: after a clean stop there are none, and a start then pays no write."""
        if not self._db.query("SELECT 1 FROM running LIMIT 1"):
            return []
        with self._db.transaction() as db:
            rows = [(r[0], r[1], r[2]) for r in db.execute("SELECT operation_id, command, event_type FROM running")]
            db.execute("DELETE FROM running")
        return rows

    def close(self) -> None:
        self._db.close()


_JOURNAL_MIGRATIONS = [
    "CREATE TABLE running (operation_id TEXT PRIMARY KEY, command TEXT NOT NULL, event_type TEXT NOT NULL);",
]


class Operations:
    """Registry of operations, their throttled progress and their terminal events."""

    def __init__(
        self,
        loop: asyncio.AbstractEventLoop,
        emit: Emit,
        executor: Executor,
        *,
        throttle: float = 0.1,
        keep_finished: int = 1000,
        clock: Clock = SYSTEM_CLOCK,
        journal: Journal | None = None,
    ) -> None:
        self.loop = loop
        self._journal = journal
        self.loop_thread = threading.get_ident()
        self._emit = emit
        self._executor = executor
        self._throttle = throttle
        self._keep_finished = keep_finished
        self._clock = clock
        self._ops: dict[str, Operation] = {}
        self._finished: OrderedDict[str, None] = OrderedDict()
        """The finished operations still kept, oldest first: forgetting one costs O(1), not a scan of every
        operation (N finishing together, at a shutdown or a mass cancel, would cost N²)."""

    def prepare(self, command: str, event_type: str, work: Work, data: dict[str, Any] | None = None) -> Operation:
        """Make an operation; a handler returns it and the router launches it after answering."""
        op = Operation(self, command, event_type, work, data or {})
        self._ops[op.id] = op
        return op

    def get(self, operation_id: str) -> Operation:
        try:
            return self._ops[operation_id]
        except KeyError:
            raise CommandError(ErrorCode.OPERATION_NOT_FOUND, f"no operation {operation_id!r}") from None

    def list(self, *, active_only: bool = False) -> list[Operation]:
        # list() copies atomically under the GIL: handlers in threads may be adding.
        return [op for op in list(self._ops.values()) if not (active_only and op.status in TERMINAL_STATUSES)]

    def cancel(self, operation_id: str) -> bool:
        """Ask an operation to stop; False when it had already finished."""
        op = self.get(operation_id)
        if op.status in TERMINAL_STATUSES:
            return False
        op._cancel_requested.set()
        if op.status is Status.PENDING:
            self._finish(op, Status.CANCELLED)
        elif op._task is not None and inspect.iscoroutinefunction(op._work):
            op._task.cancel()
        return True

    async def shutdown(self, timeout: float) -> None:
        """Cancel what runs and wait for it to report, at most ``timeout`` seconds."""
        running = self.list(active_only=True)
        for op in running:
            self.cancel(op.id)
        if running:
            await asyncio.wait([op.done for op in running], timeout=timeout)
        for op in running:
            if op.status not in TERMINAL_STATUSES:
                self._finish(op, Status.CANCELLED, error="backend shut down")

    # -- internals ----------------------------------------------------------

    def end_interrupted(self) -> int:
        """Give every operation a killed run left unfinished its terminal ``failed`` event."""
        if self._journal is None:
            return 0
        interrupted = self._journal.take_interrupted()
        for operation_id, command, event_type in interrupted:
            payload = {
                "operation_id": operation_id,
                "status": Status.FAILED.value,
                "error": f"the backend stopped while {command} ran; it did not finish",
                "error_code": ErrorCode.OPERATION_INTERRUPTED.value,
            }
            self._emit(protocol.progress_event(event_type, payload))
        return len(interrupted)

    def _launch(self, op: Operation) -> None:
        if op.status is not Status.PENDING:
            return
        op.status = Status.RUNNING
        if self._journal is not None:
            self._journal.started(op)
        if inspect.iscoroutinefunction(op._work):
            op._task = self.loop.create_task(op._work(op))
        else:
            op._task = self.loop.run_in_executor(self._executor, op._work, op)
        op._task.add_done_callback(lambda task: self._on_done(op, task))

    def _on_done(self, op: Operation, task: asyncio.Future[Any]) -> None:
        if op.status in TERMINAL_STATUSES:
            return
        if task.cancelled():
            self._finish(op, Status.CANCELLED)
            return
        exc = task.exception()
        if exc is None:
            op.result = task.result()
            self._finish(op, Status.COMPLETED)
        elif isinstance(exc, OperationCancelled):
            self._finish(op, Status.CANCELLED)
        elif isinstance(exc, CommandError):
            self._finish(op, Status.FAILED, error=exc.message, code=exc.code, details=exc.details)
        else:
            log.error("operation %s (%s) crashed", op.id, op.command, exc_info=exc)
            self._finish(op, Status.FAILED, error=f"internal error: {exc}", code=ErrorCode.INTERNAL_ERROR)

    def _on_progress(self, op: Operation, fields: dict[str, Any]) -> None:
        if op.status in TERMINAL_STATUSES:
            return
        op.state.update(fields)
        op._dirty = True
        now = self._clock.monotonic()
        if now - op._last_emit >= self._throttle:
            self._flush_progress(op)
        elif op._flush_handle is None:
            op._flush_handle = self.loop.call_at(
                self.loop.time() + (op._last_emit + self._throttle - now),
                self._flush_progress,
                op,
            )

    def _flush_progress(self, op: Operation) -> None:
        op._flush_handle = None
        if not op._dirty or op.status in TERMINAL_STATUSES:
            return
        op._dirty = False
        op._last_emit = self._clock.monotonic()
        payload = {"operation_id": op.id, "status": "in_progress", **op.state}
        self._emit(protocol.progress_event(op.event_type, payload))

    def _finish(
        self,
        op: Operation,
        status: Status,
        *,
        error: str | None = None,
        code: str | None = None,
        details: Any = None,
    ) -> None:
        if op._flush_handle is not None:
            op._flush_handle.cancel()
            op._flush_handle = None
        op.status = status
        op.finished_ms = protocol.now_ms()
        payload: dict[str, Any] = {"operation_id": op.id, **op.state, "status": status.value}
        if status is Status.COMPLETED:
            payload["progress"] = 100
            payload["result"] = op.result
        elif status is Status.CANCELLED:
            code = code or ErrorCode.OPERATION_CANCELLED
            error = error or "cancelled"
        if error is not None:
            op.error = {"error": error, "error_code": str(code or ErrorCode.INTERNAL_ERROR)}
            if details is not None:
                op.error["details"] = details
            payload.update(op.error)
        self._emit(protocol.progress_event(op.event_type, payload))
        if self._journal is not None and op._task is not None:
            self._journal.finished(op)
        if not op.done.done():
            op.done.set_result(status)
        self._finished[op.id] = None
        while len(self._finished) > self._keep_finished:
            oldest, _ = self._finished.popitem(last=False)
            self._ops.pop(oldest, None)
