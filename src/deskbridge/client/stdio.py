"""Spawn a backend over stdio and talk to it, as an Electron main process would.

A front end that saves :attr:`StdioClient.cursor` and passes it back as
``spawn(..., resume=cursor)`` misses no event, whether the backend was killed
before its last events reached the pipe or the front end itself restarted: the
client replays what the log holds after the cursor (``GET_EVENTS``, page by
page) before any live event, as the web clients do (docs/protocol.md, "Resume
over stdio").
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import logging
import os
import sys
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any

import msgspec

from deskbridge import protocol
from deskbridge.client.remote import ResumeCallback
from deskbridge.client.session import (
    ClientError,
    ConnectionLost,
    Cursor,
    EventCallback,
    OperationHandle,
    Session,
)

log = logging.getLogger("deskbridge.client.stdio")
_decode = msgspec.json.Decoder().decode
RESUME_PAGE = 1000


class BackendStartError(ClientError):
    """The backend died or failed before it was ready; the message holds its stderr tail."""


def this_deskbridge() -> list[str]:
    """The ``deskbridge`` this code runs in: a frozen bundle's own executable, else ``python -m deskbridge``."""
    if getattr(sys, "frozen", False):
        return [sys.executable]
    return [sys.executable, "-m", "deskbridge"]


class StdioClient:
    """A backend child process and the session that speaks to it.

    Without ``resume``, the client starts at the ready line's ``last_seq``: it
    sees the events raised from then on. With ``resume=(epoch, last_seq)`` it
    first replays every event the log holds after that cursor, then the live
    ones, each once and in order; :attr:`recovered` says whether the log could
    prove that nothing was missed.
    """

    def __init__(
        self,
        process: asyncio.subprocess.Process,
        ready: dict[str, Any],
        *,
        resume: tuple[str, int] | None = None,
        on_resume: ResumeCallback | None = None,
    ) -> None:
        self.process = process
        self.ready = ready
        self.session = Session(self._write)
        self.stderr_tail: collections.deque[str] = collections.deque(maxlen=50)
        self.on_resume = on_resume
        #: Whether the resume proved that no event was missed: False means "reload your state" (the log
        #: is a new one, or its history after the cursor was trimmed). None until the replay's first answer.
        self.recovered: bool | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self._caught_up: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self._caught_up.add_done_callback(lambda f: f.cancelled() or f.exception())  # not everyone awaits it
        # Live events read while the replay runs: handed to the session after it, merged by seq.
        self._held: list[dict[str, Any]] | None = None
        self._replay_from: Cursor | None = None
        epoch, head = str(ready["epoch"]), int(ready["last_seq"])
        if resume is None:
            self._resumed(True, epoch, head)
            self._caught_up.set_result(True)
            return
        cursor = Cursor(str(resume[0]), int(resume[1]))
        if cursor == (epoch, head):  # nothing happened since: nothing to ask
            self._resumed(True, epoch, head)
            self._caught_up.set_result(True)
        else:
            self.session.resync(*cursor)  # the replay's events are counted from here
            self._held = []
            self._replay_from = cursor

    @classmethod
    async def spawn(
        cls,
        apps: str | Sequence[str] = "studio",
        *,
        data_dir: Path | str | None = None,
        args: Sequence[str] = (),
        command: Sequence[str] | None = None,
        env: dict[str, str] | None = None,
        ready_timeout: float = 30.0,
        resume: tuple[str, int] | None = None,
        on_resume: ResumeCallback | None = None,
    ) -> StdioClient:
        """Start ``deskbridge stdio <apps>`` and wait for its ``BACKEND_READY`` line.

        ``resume``: a :class:`Cursor` (or ``(epoch, last_seq)``) saved from :attr:`cursor` earlier. The
        events after it are replayed to the listeners before any live one; add listeners right after
        this returns, before awaiting anything else, and they get every one of them.
        :meth:`caught_up` waits for the end of the replay. ``on_resume(recovered, epoch)`` is called
        once the client knows where its stream starts (at once without ``resume``).
        """
        if resume is not None:
            epoch, last_seq = resume
            if not isinstance(epoch, str) or not isinstance(last_seq, int) or last_seq < 0:
                raise ValueError(f"resume must be (epoch: str, last_seq: int >= 0), not {resume!r}")
        names = [apps] if isinstance(apps, str) else list(apps)
        argv = [*list(command or this_deskbridge()), "stdio", *names, *args]
        if data_dir is not None:
            argv += ["--data-dir", str(data_dir)]
        process = await asyncio.create_subprocess_exec(
            *argv,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            env={**os.environ, **(env or {})},
            limit=protocol.DEFAULT_MAX_LINE,
        )
        assert process.stderr is not None
        tail: collections.deque[str] = collections.deque(maxlen=50)
        try:
            ready = await asyncio.wait_for(cls._read_ready(process.stderr, tail), ready_timeout)
        except (TimeoutError, BackendStartError) as exc:
            with contextlib.suppress(ProcessLookupError):
                process.kill()
            await process.wait()
            text = "\n".join(tail)
            raise BackendStartError(f"backend did not start ({exc or 'timeout'}); stderr:\n{text}") from None
        client = cls(process, ready, resume=resume, on_resume=on_resume)
        client.stderr_tail = tail
        client._tasks = [
            asyncio.create_task(client._read_stdout()),
            asyncio.create_task(client._read_stderr()),
        ]
        if client._replay_from is not None:
            client._tasks.append(asyncio.create_task(client._replay(client._replay_from)))
        return client

    @staticmethod
    async def _read_ready(stderr: asyncio.StreamReader, tail: collections.deque[str]) -> dict[str, Any]:
        while True:
            line = await stderr.readline()
            if not line:
                raise BackendStartError("exited before it was ready")
            tail.append(line.decode("utf-8", "replace").rstrip())
            try:
                message = _decode(line)
            except msgspec.DecodeError:
                continue
            if isinstance(message, dict) and message.get("type") == "BACKEND_READY":
                return message
            if isinstance(message, dict) and message.get("type") == "BACKEND_ERROR":
                raise BackendStartError(str(message.get("error")))

    async def _read_stdout(self) -> None:
        assert self.process.stdout is not None
        framer = protocol.LineFramer()
        reason: BaseException = ConnectionLost("backend closed its stdout")
        try:
            while chunk := await self.process.stdout.read(256 * 1024):
                for line in framer.feed(chunk):
                    if isinstance(line, bytes):
                        self._receive(_decode(line))
        except Exception as exc:  # a garbled stream ends the session rather than hanging it
            reason = ConnectionLost(f"bad output from backend: {exc}")
        code = await self.process.wait()
        tail = "\n".join(list(self.stderr_tail)[-10:])
        lost = ConnectionLost(f"{reason} (exit code {code}); stderr tail:\n{tail}")
        # Live events still held behind an unfinished replay are dropped, not delivered: the cursor
        # stays before the gap, and the next resume replays them from the log.
        self._held = None
        if not self._caught_up.done():
            self._caught_up.set_exception(lost)
        self.session.close(lost)

    def _receive(self, message: Any) -> None:
        if self._held is not None and isinstance(message, dict) and message.get("seq") is not None:
            self._held.append(message)
        else:
            self.session.feed(message)

    async def _replay(self, cursor: Cursor) -> None:
        """Hand the session every event after ``cursor``, page by page, then the live events held meanwhile."""
        epoch, after = cursor
        first = True
        try:
            while True:
                page = await self.session.call("GET_EVENTS", {"epoch": epoch, "after": after, "limit": RESUME_PAGE})
                if first:
                    first = False
                    self._resumed(bool(page["recovered"]), str(page["epoch"]), int(page["after"]))
                for event in page["events"]:
                    self.session.feed(event)
                epoch, after = str(page["epoch"]), int(page["last_seq"])
                if not page["more"]:
                    break
        except ConnectionLost:
            return  # the backend is gone: _read_stdout reports it
        except Exception as exc:  # it cannot replay (RemoteError: an older backend): go on live, say so
            log.warning("cannot replay the events after %s: %s", cursor, exc)
            self._resumed(
                False, str(self.ready["epoch"]), int(self.ready["last_seq"]) if first else self.session.last_seq
            )
        held, self._held = self._held or [], None
        for event in held:  # what the replay already delivered is dropped by seq
            self.session.feed(event)
        if not self._caught_up.done():
            self._caught_up.set_result(bool(self.recovered))

    def _resumed(self, recovered: bool, epoch: str, after: int) -> None:
        """The stream starts after ``after`` in ``epoch``: a new log restarts ``seq``, so the cursor moves."""
        self.session.resync(epoch, after)
        self.recovered = recovered
        if self.on_resume is not None:
            self.on_resume(recovered, epoch)

    async def _read_stderr(self) -> None:
        assert self.process.stderr is not None
        while line := await self.process.stderr.readline():
            self.stderr_tail.append(line.decode("utf-8", "replace").rstrip())

    def _write(self, data: bytes) -> None:
        stdin = self.process.stdin
        if stdin is None or stdin.is_closing():
            raise ConnectionLost("backend stdin is closed")
        stdin.write(data + b"\n")

    @property
    def cursor(self) -> Cursor:
        """``(epoch, last_seq)`` of the last event handed to the listeners: save it, pass it as ``resume``."""
        return Cursor(self.session.epoch or str(self.ready["epoch"]), self.session.last_seq)

    @property
    def epoch(self) -> str:
        return self.cursor.epoch

    @property
    def last_seq(self) -> int:
        return self.session.last_seq

    async def caught_up(self, timeout: float | None = None) -> bool:
        """Wait until every event after the ``resume`` cursor has reached the listeners; return :attr:`recovered`.

        Returns at once without ``resume``. Raises :class:`ConnectionLost` when the backend dies first.
        """
        return await asyncio.wait_for(asyncio.shield(self._caught_up), timeout)

    def on_event(self, callback: EventCallback, types: Iterable[str] | None = None) -> Callable[[], None]:
        """Call ``callback`` for every new event (of ``types``), replayed ones first; returns an unsubscriber."""
        return self.session.on_event(callback, types)

    async def call(self, command_type: str, payload: Any = None, *, timeout: float | None = None) -> Any:
        return await self.session.call(command_type, payload, timeout=timeout)

    async def start(self, command_type: str, payload: Any = None, *, timeout: float | None = None) -> OperationHandle:
        return await self.session.start(command_type, payload, timeout=timeout)

    async def aclose(self, timeout: float = 5.0) -> int:
        """Close stdin (the backend's cue to shut down) and wait for it to exit."""
        if self.process.stdin is not None and not self.process.stdin.is_closing():
            self.process.stdin.close()
        try:
            code = await asyncio.wait_for(self.process.wait(), timeout)
        except TimeoutError:
            self.process.kill()
            code = await self.process.wait()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.wait_for(task, 1.0)
        return code

    async def __aenter__(self) -> StdioClient:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()
