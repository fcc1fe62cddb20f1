"""The stdio door: NDJSON commands on stdin, responses and events on stdout.

The protocol owns the real stdin and stdout. :func:`claim_stdio` moves them to
private descriptors and points fd 0 at the null device and fd 1 at stderr, so
a stray ``print()``, a library or a child process can neither corrupt the
stream nor steal its input. Reads are taken in chunks and every response and
event produced in one turn of the loop leaves in one write (per-message reads
and writes cost 3-5x, see ``shared/reference/performance.md``).

A front end that stops reading (frozen, SIGSTOPped) costs a bounded amount of
memory: live events are written while what waits for the pipe stays under
``outbox_bytes`` (the config file's ``"stdio"`` section); past it, the door
stops taking them and, as the pipe drains, reads them back from the event log
a page at a time after the last one it wrote, until it has caught up and goes
live again. Responses are always written (commands stop being read while the
pipe is full), so an answer may come before events older than it.
"""

from __future__ import annotations

import asyncio
import os
import stat
import sys
import threading
from collections.abc import Mapping, Sequence
from typing import Annotated, Any, Final, Protocol, cast

import msgspec

from deskbridge import protocol
from deskbridge.caller import CALLER, Caller
from deskbridge.config import convert
from deskbridge.events import DEFAULT_PAGE, EventLog
from deskbridge.router import Router

READ_CHUNK = 256 * 1024
STDIO_CALLER = Caller("stdio")
MAX_PENDING = 1024


class StdioConfig(msgspec.Struct, frozen=True):
    """The config file's ``"stdio"`` section."""

    outbox_bytes: int = 8 * 1024 * 1024
    """What may wait for the pipe (a front end that does not read) before events are left in the log."""

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> StdioConfig:
        """A ``ConfigError`` naming a bad key."""
        if "stdio" not in config:  # the default, without building the section's validator at every start
            return _DEFAULT_STDIO
        section = convert(config.get("stdio", {}), _StdioSection, owner="stdio", where="$.stdio")
        return cls(outbox_bytes=section.outbox_bytes)


_DEFAULT_STDIO: Final = StdioConfig()


class _StdioSection(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    outbox_bytes: Annotated[int, msgspec.Meta(ge=64 * 1024, le=1024**3)] = _DEFAULT_STDIO.outbox_bytes


def claim_stdio() -> tuple[int, int]:
    """Take fds 0 and 1 for the protocol; return the private copies (not inherited by children)."""
    proto_in = os.dup(0)
    proto_out = os.dup(1)
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    os.close(null)
    os.dup2(2, 1)
    sys.stdin = open(os.devnull, encoding="utf-8")  # noqa: SIM115 - replaces the process's stdin
    sys.stdout = sys.stderr
    return proto_in, proto_out


def _is_stream(fd: int) -> bool:
    """Pipes, sockets and terminals can use asyncio's pipe transports; regular files cannot, nor can other
    character devices (the null device cannot be polled: uvloop aborts on it)."""
    mode = os.fstat(fd).st_mode
    terminal = stat.S_ISCHR(mode) and os.isatty(fd)
    return sys.platform != "win32" and (stat.S_ISFIFO(mode) or stat.S_ISSOCK(mode) or terminal)


class _Reader(Protocol):
    """Where stdin is read from: a pipe transport, or :class:`_ThreadReader`."""

    def pause_reading(self) -> None: ...

    def resume_reading(self) -> None: ...


class _ReadSide(asyncio.Protocol):
    def __init__(self, door: StdioDoor) -> None:
        self._door = door

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        """The door holds the transport from here: input already waiting in the pipe may arrive before
        ``connect_read_pipe`` returns (uvloop reads it first), and may need reading paused at once."""
        self._door.reading_from(cast(_Reader, transport))  # uvloop's read transports are not ReadTransport

    def data_received(self, data: bytes) -> None:
        self._door.feed(data)

    def eof_received(self) -> bool | None:
        self._door.end_of_input()
        return None

    def connection_lost(self, exc: Exception | None) -> None:
        self._door.end_of_input()


class _WriteSide(asyncio.Protocol):
    def __init__(self, door: StdioDoor) -> None:
        self._door = door
        self.closed = asyncio.get_running_loop().create_future()

    def pause_writing(self) -> None:
        self._door.set_output_blocked(True)

    def resume_writing(self) -> None:
        self._door.set_output_blocked(False)

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.closed.done():
            self.closed.set_result(None)
        self._door.end_of_input()


class _ThreadReader:
    """For stdin that is a regular file, or Windows: a thread reading chunks."""

    def __init__(self, fd: int, door: StdioDoor, loop: asyncio.AbstractEventLoop) -> None:
        self._fd = fd
        self._door = door
        self._loop = loop
        self._running = threading.Event()
        self._running.set()
        threading.Thread(target=self._run, name="deskbridge-stdin", daemon=True).start()

    def _run(self) -> None:
        while True:
            self._running.wait()
            try:
                chunk = os.read(self._fd, READ_CHUNK)
            except OSError:
                chunk = b""
            if not chunk:
                self._loop.call_soon_threadsafe(self._door.end_of_input)
                return
            self._loop.call_soon_threadsafe(self._door.feed, chunk)

    def pause_reading(self) -> None:
        self._running.clear()

    def resume_reading(self) -> None:
        self._running.set()


class StdioDoor:
    """Feeds framed lines to the router and writes everything back (events in order, each write's answers before
    its events); ``finished`` at end of input."""

    def __init__(self, router: Router, events: EventLog, config: StdioConfig | None = None) -> None:
        self._router = router
        self._events = events
        self._loop = asyncio.get_running_loop()
        self._framer = protocol.LineFramer(router.max_line)
        self._budget = (config or StdioConfig()).outbox_bytes
        self._out: list[bytes] = []
        self._out_bytes = 0
        self._sent_seq = events.committed_seq
        """The last event handed to the pipe (or queued for it)."""
        self._paging = False
        self._pager: asyncio.Task[None] | None = None
        self._drained = asyncio.Event()
        """Set while the pipe takes data: stdout is open and its transport is not paused."""
        self._answers: list[bytes] = []
        """Responses, written before the events of the same write: a command's answer comes before the events
        it raised (they are stored already), as the seed's clients read it (send, then readline the answer)."""
        self._flush_scheduled = False
        self._feeding = False
        self._output_blocked = False
        self._input_paused = False
        self._reader: _Reader | None = None
        self._writer: asyncio.WriteTransport | None = None
        self._write_side: _WriteSide | None = None
        self._out_fd = -1
        self.finished = self._loop.create_future()
        # Attached from the start: an event an app raises while the door is
        # still opening is held in ``_out`` and written once stdout is ready.
        self._opened = False
        self._subscription = events.subscribe(self._deliver)

    async def open(self, in_fd: int, out_fd: int) -> None:
        self._out_fd = out_fd
        if _is_stream(out_fd):
            out_file = os.fdopen(out_fd, "wb", buffering=0)
            transport, self._write_side = await self._loop.connect_write_pipe(lambda: _WriteSide(self), out_file)
            transport.set_write_buffer_limits(high=self._budget)
            self._writer = transport
        self._opened = True
        self._drained.set()
        self._flush()
        if _is_stream(in_fd):
            in_file = os.fdopen(in_fd, "rb", buffering=0)
            await self._loop.connect_read_pipe(lambda: _ReadSide(self), in_file)
        else:
            self.reading_from(_ThreadReader(in_fd, self, self._loop))

    # -- input --------------------------------------------------------------

    def reading_from(self, reader: _Reader) -> None:
        self._reader = reader

    def feed(self, data: bytes) -> None:
        if self.finished.done():
            return
        self._feeding = True
        CALLER.set(STDIO_CALLER)  # the router copies it into each command's context
        dispatch, reply = self._router.dispatch, self._reply
        try:
            for item in self._framer.feed(data):
                dispatch(item, reply)
        finally:
            self._feeding = False
        self._flush()
        self._update_input()

    def end_of_input(self) -> None:
        if self.finished.done():
            return
        CALLER.set(STDIO_CALLER)
        for item in self._framer.close():
            self._router.dispatch(item, self._reply)
        self._flush()
        self.finished.set_result(None)

    # -- output -------------------------------------------------------------

    def _reply(self, body: bytes) -> None:
        self._answers.append(body)
        self._out_bytes += len(body)
        if not self._feeding:
            self._schedule_flush()
            self._update_input()

    def _deliver(self, bodies: list[bytes]) -> None:
        if self._paging:
            return  # they are in the log: the pager reads them as the pipe drains
        last = self._events.committed_seq
        if not self._queue(range(last - len(bodies) + 1, last + 1), bodies):
            self._paging = True
            self._pager = self._loop.create_task(self._page())
        self._schedule_flush()

    def _waiting_bytes(self) -> int:
        return self._out_bytes + (self._writer.get_write_buffer_size() if self._writer is not None else 0)

    def _queue(self, seqs: Sequence[int], bodies: Sequence[bytes]) -> bool:
        """Queue the events after ``_sent_seq`` until what waits for the pipe passes the budget (the one that
        passes it is queued, so that the transport pauses and says when it has drained); False if some are left."""
        waiting = self._waiting_bytes()
        for seq, body in zip(seqs, bodies, strict=True):
            if seq <= self._sent_seq:
                continue
            if waiting > self._budget:
                return False
            self._out.append(body)
            self._out_bytes += len(body)
            waiting += len(body)
            self._sent_seq = seq
        return True

    async def _page(self) -> None:
        """Events after ``_sent_seq`` from the log, a page at a time as the pipe drains, until caught up."""
        events = self._events
        while True:
            await self._drained.wait()
            if events.closed:  # shutting down: the rest is in the log, for the next start's resume
                return
            resumed = events.resume(None, self._sent_seq, DEFAULT_PAGE)
            if self._queue(resumed.seqs, resumed.events):
                self._sent_seq = max(self._sent_seq, resumed.last_seq)
                if not resumed.more and self._sent_seq >= events.committed_seq:
                    self._paging = False  # no await since the read: the next live batch follows it exactly
                    self._flush()
                    return
            self._flush()
            await asyncio.sleep(0)  # let commands and the pipe's own callbacks run between pages

    def _schedule_flush(self) -> None:
        if not self._flush_scheduled:
            self._flush_scheduled = True
            self._loop.call_soon(self._flush)

    def _flush(self) -> None:
        self._flush_scheduled = False
        if not (self._out or self._answers) or not self._opened:
            return
        self._events.settle()
        self._answers.extend(self._out)
        self._answers.append(b"")
        data = b"\n".join(self._answers)
        self._out.clear()
        self._answers.clear()
        self._out_bytes = 0
        if self._writer is not None:
            if not self._writer.is_closing():
                self._writer.write(data)
        else:
            view = memoryview(data)
            while view:
                view = view[os.write(self._out_fd, view) :]

    # -- backpressure -------------------------------------------------------

    def set_output_blocked(self, blocked: bool) -> None:
        self._output_blocked = blocked
        if blocked:
            self._drained.clear()
        else:
            self._drained.set()
        self._update_input()

    def _update_input(self) -> None:
        if self._reader is None:
            return  # nothing read yet: the first input's own call pauses reading if it must
        pending = self._router.pending
        should_pause = self._output_blocked or pending >= MAX_PENDING
        if should_pause and not self._input_paused:
            self._input_paused = True
            self._reader.pause_reading()
        elif self._input_paused and not self._output_blocked and pending <= MAX_PENDING // 2:
            self._input_paused = False
            self._reader.resume_reading()

    async def close(self, timeout: float = 0.4) -> None:
        """Write everything still queued, then let go of stdout (events not yet paged stay in the log)."""
        self._subscription.cancel()
        if self._pager is not None:
            self._pager.cancel()
        self._flush()
        if self._writer is not None and self._write_side is not None:
            self._writer.close()
            try:
                await asyncio.wait_for(asyncio.shield(self._write_side.closed), timeout)
            except TimeoutError:
                self._writer.abort()
