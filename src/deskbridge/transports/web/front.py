"""The ASGI front of the web door: security first, the hot paths by hand, Starlette for the rest.

* WebSocket at ``/`` and ``/ws`` (:mod:`.connection`).
* ``POST /api/command`` and the apps' HTTP endpoints (:mod:`.endpoints`).
* ``GET /api/events`` and ``/desktop/events/poll`` (:mod:`.polling`).
* ``/openapi.json`` describes it all; ``/api/status`` says who is connected.
* ``GET /`` from a browser is the dashboard (:mod:`deskbridge.dashboard`), its
  files under ``/dashboard/``; anyone else gets the status as JSON.

Who may connect is decided by :mod:`.security` before anything else runs;
CORS answers follow the same decision.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Final

import msgspec
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import Message, Receive, Scope, Send

from deskbridge import dashboard, protocol
from deskbridge.backend import Backend
from deskbridge.closecodes import CloseCode, fit_reason
from deskbridge.roles import Role
from deskbridge.transports.web.config import WebConfig
from deskbridge.transports.web.connection import Connection
from deskbridge.transports.web.endpoints import COMMAND_PATH, HttpCommands
from deskbridge.transports.web.http import REFUSAL_CODES, error_body, header, respond
from deskbridge.transports.web.openapi import describe
from deskbridge.transports.web.polling import EVENTS_PATHS, Polling
from deskbridge.transports.web.security import TOKEN_FILE, Guard, Refusal

WEBSOCKET_PATHS: Final = ("/", "/ws")

Handler = Callable[[Scope, Receive, Send], Awaitable[None]]


class WebDoor:
    """The ASGI application of one backend; ``close_clients`` ends every WebSocket with a code."""

    def __init__(self, backend: Backend, config: WebConfig, port: int) -> None:
        self.backend = backend
        self.config = config
        self.guard = Guard(
            token=config.token,
            port=port,
            bound_host=config.host,
            allowed_origins=config.allowed_origins,
            allowed_hosts=config.allowed_hosts,
            tokenless=backend.door_policy.is_tokenless,
            client_token=config.client_token,
        )
        self.policy = backend.door_policy
        self.closing: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._connections: set[Connection] = set()
        self.commands = HttpCommands(
            backend.router, backend.events, backend.error_codes, backend.max_line, role_of=self.guard.role
        )
        polling = Polling(
            backend.events,
            backend.clients,
            self.closing,
            backend.cursors,
            enabled=self.policy.polling,
            idle=config.poll_idle,
        )
        self._fast: dict[str, Handler] = {COMMAND_PATH: self.commands, **dict.fromkeys(EVENTS_PATHS, polling)}
        routes: list[BaseRoute] = [
            Route("/", self.home, methods=["GET"]),
            Route("/api/status", self.info, methods=["GET"]),
            Route("/openapi.json", self.openapi, methods=["GET"]),
            Mount(dashboard.PREFIX, StaticFiles(directory=dashboard.ASSETS)),
        ]
        taken = {"/", "/api/status", "/openapi.json", *self._fast}
        routes += self.commands.routes(backend.apps, taken, dashboard.is_asset)
        self.starlette = Starlette(routes=routes)

    async def close_clients(self, code: CloseCode, reason: str) -> None:
        """Stop: long polls answer now, and every WebSocket is closed with ``code``."""
        if not self.closing.done():
            self.closing.set_result(None)
        await asyncio.gather(*(connection.close(code, reason) for connection in list(self._connections)))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind == "websocket":
            await self._websocket(scope, receive, send)
            return
        if kind != "http":
            return
        if scope["method"] == "OPTIONS":
            await self._preflight(scope, send)
            return
        if dashboard.is_asset(scope["path"]):  # the page's files hold no data: no token
            refusal = self.guard.check_host(scope) or self.guard.check_origin(scope)
        else:
            refusal = self.guard.check(scope)
        if refusal is not None:
            if refusal.status == 401 and scope["path"] == "/" and self._wants_page(scope):
                await dashboard.refusal(self.backend.data_dir / TOKEN_FILE)(scope, receive, send)
                return
            await self._refuse_http(send, refusal)
            return
        origin = header(scope, b"origin")
        if origin is not None:
            send = self._with_cors(send, origin)
        handler = self._fast.get(scope["path"])
        await (handler or self.starlette)(scope, receive, send)

    async def _websocket(self, scope: Scope, receive: Receive, send: Send) -> None:
        await receive()  # websocket.connect
        refusal = self.guard.check(scope)
        if refusal is None and scope["path"] not in WEBSOCKET_PATHS:
            refusal = Refusal(404, CloseCode.BAD_REQUEST, f"no WebSocket at {scope['path']}; use /ws")
        if refusal is None and not self.policy.websocket:
            refusal = Refusal(403, CloseCode.BAD_REQUEST, "WebSocket is turned off here (config); poll for events")
        if refusal is None and self.closing.done():
            refusal = Refusal(503, CloseCode.GOING_AWAY, "the backend is shutting down")
        if refusal is not None:
            await send({"type": "websocket.accept"})
            await send({"type": "websocket.close", "code": refusal.close_code, "reason": fit_reason(refusal.message)})
            return
        backend, config = self.backend, self.config
        connection = Connection(
            scope,
            receive,
            send,
            events=backend.events,
            dispatch=backend.router.dispatch,
            clients=backend.clients,
            outbox_bytes=config.outbox_bytes,
            subscribe_grace=config.subscribe_grace,
            cursors=backend.cursors if self.policy.cursorless else None,
            role=self.guard.role(scope),
        )
        self._connections.add(connection)
        try:
            await connection.run()
        finally:
            self._connections.discard(connection)

    async def _refuse_http(self, send: Send, refusal: Refusal) -> None:
        headers = [(b"www-authenticate", b"Bearer")] if refusal.status == 401 else []
        await respond(send, refusal.status, error_body(REFUSAL_CODES[refusal.status], refusal.message), headers)

    async def _preflight(self, scope: Scope, send: Send) -> None:
        refusal = self.guard.check_host(scope) or self.guard.check_origin(scope)
        if refusal is not None:
            await self._refuse_http(send, refusal)
            return
        origin = header(scope, b"origin") or b"null"
        headers = [
            (b"access-control-allow-origin", origin),
            (b"access-control-allow-methods", b"GET, POST, OPTIONS"),
            (b"access-control-allow-headers", b"authorization, content-type"),
            (b"access-control-max-age", b"600"),
            (b"vary", b"origin"),
        ]
        await send({"type": "http.response.start", "status": 204, "headers": headers})
        await send({"type": "http.response.body", "body": b""})

    @staticmethod
    def _wants_page(scope: Scope) -> bool:
        return dashboard.wants_page((header(scope, b"accept") or b"").decode("latin-1"))

    @staticmethod
    def _with_cors(send: Send, origin: bytes) -> Send:
        async def cors_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", ()), (b"access-control-allow-origin", origin),
                                      (b"vary", b"origin")]  # fmt: skip
            await send(message)

        return cors_send

    # -- Starlette: the rest -------------------------------------------------------------

    async def home(self, request: Request) -> Response:
        """``GET /``: the dashboard for a browser, the status (as ``/api/status``) for everyone else."""
        if self._wants_page(request.scope):
            return dashboard.page()
        response = await self.info(request)
        response.headers["vary"] = "accept"
        return response

    async def info(self, request: Request) -> Response:
        """Who serves here, through which doors, to which clients (with their acknowledged ``last_seq``), and the
        asker's ``role`` with the commands it may not run (the dashboard hides their controls)."""
        clients = [msgspec.structs.asdict(client) for client in self.backend.clients.list()]
        role = self.guard.role(request.scope)
        denied = sorted(self.backend.access.owner_only) if role is not Role.OWNER else []
        return JSONResponse(
            {"app": self.backend.name, "epoch": self.backend.events.epoch, "doors": self.backend.doors,
             "clients": clients, "openapi": "/openapi.json", "role": role, "denied": denied}
        )  # fmt: skip

    async def openapi(self, request: Request) -> Response:
        return Response(protocol.encode(describe(self.backend)), media_type="application/json")
