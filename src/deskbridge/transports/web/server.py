"""The web door's server: a listening socket, uvicorn around the ASGI front, and a way to stop it.

It handles no signal: the host (:mod:`deskbridge.host`) owns the process's
lifetime and calls :meth:`WebServer.close`, which tells every WebSocket client
why it is closed before the server stops.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import sys
from typing import Any

import uvicorn

from deskbridge.backend import Backend
from deskbridge.closecodes import CloseCode
from deskbridge.transports.web.config import WebConfig
from deskbridge.transports.web.front import WebDoor
from deskbridge.transports.web.http_limits import BoundedHttpToolsProtocol


class _Server(uvicorn.Server):
    """uvicorn without its own signal handling."""

    @contextlib.contextmanager
    def capture_signals(self) -> Any:
        yield


def bind(host: str, port: int) -> socket.socket:
    """A listening socket created as TCP explicitly, so accepted sockets get TCP_NODELAY."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    if sys.platform != "win32":
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError:
        sock.close()
        raise
    sock.listen(2048)
    sock.setblocking(False)
    return sock


def _ws_implementation() -> str:
    from uvicorn.config import WS_PROTOCOLS

    return "websockets-sansio" if "websockets-sansio" in WS_PROTOCOLS else "websockets"


class WebServer:
    """The web door of ``backend`` on ``config.host:config.port``, from :meth:`start` to :meth:`close`."""

    def __init__(self, backend: Backend, config: WebConfig) -> None:
        self._backend = backend
        self._config = config
        self._running: asyncio.Future[None] | None = None
        self.door: WebDoor | None = None

    async def start(self) -> dict[str, Any]:
        """Listen and serve; what a ready line says about this door. ``OSError`` if the address is taken."""
        backend, config = self._backend, self._config
        sock = bind(config.host, config.port)
        port = sock.getsockname()[1]
        self.door = WebDoor(backend, config, port)
        self._server = _Server(
            uvicorn.Config(
                self.door,
                lifespan="off",
                http=BoundedHttpToolsProtocol,  # httptools, with bounds on a request's head
                ws=_ws_implementation(),
                ws_per_message_deflate=False,
                ws_max_size=backend.max_line,
                access_log=False,
                log_config=None,
                server_header=False,
                timeout_graceful_shutdown=2,
            )
        )
        self._running = asyncio.ensure_future(self._server.serve(sockets=[sock]))
        while not self._server.started and not self._running.done():  # noqa: ASYNC110 - uvicorn has no event
            await asyncio.sleep(0.01)
        if self._running.done():
            self._running.result()
            raise OSError(f"the web door on {config.host}:{port} stopped as it started")
        name = f"[{config.host}]" if ":" in config.host else config.host
        backend.doors["http"] = f"http://{name}:{port}"
        backend.doors["ws"] = f"ws://{name}:{port}/ws"
        return {"url": backend.doors["http"], "ws": backend.doors["ws"], "host": config.host, "port": port,
                "auth": config.token is not None, "pid": os.getpid()}  # fmt: skip

    @property
    def stopped(self) -> asyncio.Future[None]:
        """Done when the server stopped by itself."""
        assert self._running is not None, "start() first"
        return self._running

    async def close(self, code: CloseCode, reason: str) -> None:
        """Close every WebSocket with ``code`` (docs/web.md), end long polls, stop listening and serving."""
        if self.door is not None:
            await self.door.close_clients(code, reason)
        if self._running is not None:
            self._server.should_exit = True
            with contextlib.suppress(Exception):
                await self._running
