"""One backend behind any set of doors, and the process's lifetime, owned once.

``deskbridge stdio APPS`` is the stdio door alone, ``deskbridge serve APPS``
the web door alone, ``deskbridge stdio APPS --web`` both at once: the parent
process on stdin/stdout and everyone else (the dashboard, a relay,
``deskbridge call``) on the web door, sharing one router, one set of
operations and one event log. The host stops on SIGTERM/SIGINT, on end of
input on stdin, when the parent that spawned it exits, or when the web server
stops; then it closes the web clients with :attr:`CloseCode.GOING_AWAY`, the
backend, and last the stdio door (so the answers owed to the parent leave).
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import msgspec

from deskbridge.backend import Backend
from deskbridge.closecodes import CloseCode
from deskbridge.transports.stdio import StdioConfig, StdioDoor

if TYPE_CHECKING:
    from deskbridge.transports.web.config import WebConfig

PARENT_CHECK = 1.0


class StdioPipes(msgspec.Struct, frozen=True):
    """The protocol's private descriptors (:func:`deskbridge.transports.stdio.claim_stdio`), and the process
    that owns them, read as the process started: a parent that dies while the backend opens is still seen."""

    in_fd: int
    out_fd: int
    parent_pid: int


class Host:
    def __init__(
        self,
        backend: Backend,
        *,
        stdio: StdioPipes | None = None,
        stdio_config: StdioConfig | None = None,
        web: WebConfig | None = None,
    ) -> None:
        if stdio is None and web is None:
            raise ValueError("a host needs at least one door")
        self._backend = backend
        self._pipes = stdio
        self._stdio_config = stdio_config
        self._web_config = web

    async def run(self, on_ready: Callable[[dict[str, Any]], None]) -> None:
        """Open the doors, say ready (``on_ready`` gets the web door's address, if any), serve until told to stop.

        The backend is started already; ``OSError`` when the web door cannot listen (the backend is then closed).
        """
        loop = asyncio.get_running_loop()
        backend = self._backend
        stop: asyncio.Future[str] = loop.create_future()

        def stop_for(why: str) -> Callable[..., None]:
            def done(*_: object) -> None:
                if not stop.done():
                    stop.set_result(why)

            return done

        stdio = StdioDoor(backend.router, backend.events, self._stdio_config) if self._pipes is not None else None
        web = None
        if self._web_config is not None:
            from deskbridge.transports.web.server import WebServer  # the web stack: only for a web door

            web = WebServer(backend, self._web_config)
        web_info: dict[str, Any] = {}
        if web is not None:
            try:
                web_info = await web.start()
            except OSError:
                await backend.aclose()
                raise
            web.stopped.add_done_callback(stop_for("the web server stopped"))
        if sys.platform != "win32":
            loop.add_signal_handler(signal.SIGTERM, stop_for("SIGTERM"))
            loop.add_signal_handler(signal.SIGINT, stop_for("SIGINT"))
        if stdio is not None and self._pipes is not None:
            stdio.finished.add_done_callback(stop_for("end of input on stdin"))
            _watch_parent(self._pipes.parent_pid, stop_for("the parent process exited"), loop)
        on_ready(web_info)
        if stdio is not None and self._pipes is not None:
            await stdio.open(self._pipes.in_fd, self._pipes.out_fd)
        why = await stop
        if web is not None:
            await web.close(CloseCode.GOING_AWAY, f"the backend is shutting down: {why}")
        await backend.aclose(timeout=1.2)
        if stdio is not None:
            await stdio.close()
        if sys.platform != "win32":
            loop.remove_signal_handler(signal.SIGTERM)
            loop.remove_signal_handler(signal.SIGINT)


def _watch_parent(parent: int, stop: Callable[[], None], loop: asyncio.AbstractEventLoop) -> None:
    def check() -> None:
        if os.getppid() != parent:
            stop()
        else:
            loop.call_later(PARENT_CHECK, check)

    loop.call_later(PARENT_CHECK, check)
