"""Spawn a backend over stdio and talk to it, as an Electron main process would."""

from __future__ import annotations

import asyncio
import collections
import contextlib
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType
from typing import Any

import msgspec

from deskbridge import protocol
from deskbridge.client.session import ClientError, ConnectionLost, OperationHandle, Session

_decode = msgspec.json.Decoder().decode


class BackendStartError(ClientError):
    """The backend died or failed before it was ready; the message holds its stderr tail."""


class StdioClient:
    """A backend child process and the session that speaks to it."""

    def __init__(self, process: asyncio.subprocess.Process, ready: dict[str, Any]) -> None:
        self.process = process
        self.ready = ready
        self.session = Session(self._write)
        self.stderr_tail: collections.deque[str] = collections.deque(maxlen=50)
        self._tasks: list[asyncio.Task[None]] = []

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
    ) -> StdioClient:
        """Start ``deskbridge stdio <apps>`` and wait for its ``BACKEND_READY`` line."""
        names = [apps] if isinstance(apps, str) else list(apps)
        argv = [*list(command or [sys.executable, "-m", "deskbridge"]), "stdio", *names, *args]
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
        client = cls(process, ready)
        client.stderr_tail = tail
        client._tasks = [
            asyncio.create_task(client._read_stdout()),
            asyncio.create_task(client._read_stderr()),
        ]
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
                        self.session.feed(_decode(line))
        except Exception as exc:  # a garbled stream ends the session rather than hanging it
            reason = ConnectionLost(f"bad output from backend: {exc}")
        code = await self.process.wait()
        tail = "\n".join(list(self.stderr_tail)[-10:])
        self.session.close(ConnectionLost(f"{reason} (exit code {code}); stderr tail:\n{tail}"))

    async def _read_stderr(self) -> None:
        assert self.process.stderr is not None
        while line := await self.process.stderr.readline():
            self.stderr_tail.append(line.decode("utf-8", "replace").rstrip())

    def _write(self, data: bytes) -> None:
        stdin = self.process.stdin
        if stdin is None or stdin.is_closing():
            raise ConnectionLost("backend stdin is closed")
        stdin.write(data + b"\n")

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
