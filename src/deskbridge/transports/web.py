"""The web door: WebSocket, HTTP commands, polling and long-polling on one port.

* WebSocket at ``/`` and ``/ws``: commands in, responses and live events out.
  A client resumes from ``?epoch=&after=`` (or a first ``SUBSCRIBE``
  message); the connection is attached to the live stream *before* history is
  read, and the two are merged by ``seq``, so there is no gap and no duplicate.
* ``POST /api/command``: one command in, its response out.
* ``GET /api/events`` (alias ``/desktop/events/poll``, seed 004): polling, and
  long-polling with ``wait``.
* Every app's :class:`~deskbridge.app.HttpEndpoint` runs its command.
* ``/openapi.json`` describes it all; ``/api/status`` says who is connected.
* ``GET /`` from a browser is the dashboard (:mod:`deskbridge.dashboard`), its
  files under ``/dashboard/``; anyone else gets the status as JSON.

The hot paths (WebSocket, command, events) are plain ASGI callables in front of
Starlette; Starlette serves the rest. Who may connect is decided by
:mod:`deskbridge.transports.security` before anything else runs.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import os
import signal
import socket
import sys
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Annotated, Any, Final

import msgspec
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import Message, Receive, Scope, Send

from deskbridge import dashboard, protocol
from deskbridge.app import HttpEndpoint
from deskbridge.backend import Backend
from deskbridge.config import convert
from deskbridge.errors import ErrorCode
from deskbridge.events import DEFAULT_PAGE, Resumed
from deskbridge.transports.closecodes import CloseCode
from deskbridge.transports.http_limits import BoundedHttpToolsProtocol
from deskbridge.transports.outbox import Outbox
from deskbridge.transports.security import TOKEN_FILE, Guard, Refusal, query_params

log = logging.getLogger("deskbridge.web")

MAX_PAGE: Final = 10_000
MAX_WAIT: Final = 60.0
POLL_CLIENT_IDLE: Final = 60.0
EVENTS_PATHS: Final = ("/api/events", "/desktop/events/poll")
WEBSOCKET_PATHS: Final = ("/", "/ws")


@dataclass
class WebConfig:
    """What ``deskbridge serve`` was asked for, plus the config file's ``"web"`` section."""

    host: str = "127.0.0.1"
    port: int = 8001
    token: str | None = None
    allowed_origins: tuple[str, ...] = ()
    allowed_hosts: tuple[str, ...] = ()
    outbox_bytes: int = 8 * 1024 * 1024
    subscribe_grace: float = 0.5

    @classmethod
    def from_config(cls, config: Mapping[str, Any], **given: Any) -> WebConfig:
        """The config file's ``"web"`` section with what the command line gave; a ``ConfigError`` naming a bad key."""
        section = convert(config.get("web", {}), _WebSection, owner="web", where="$.web")
        return cls(**msgspec.structs.asdict(section), **given)


class _WebSection(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    allowed_origins: tuple[str, ...] = WebConfig.allowed_origins
    """Origins allowed besides the server's own, ``file://`` and ``null``; ``app://desk*`` is a prefix."""
    allowed_hosts: tuple[str, ...] = WebConfig.allowed_hosts
    """Host names this server answers to besides its loopback names."""
    outbox_bytes: Annotated[int, msgspec.Meta(ge=64 * 1024, le=1024**3)] = WebConfig.outbox_bytes
    """What a connection may have queued before it is closed as too slow (4008)."""
    subscribe_grace: Annotated[float, msgspec.Meta(ge=0, le=60)] = WebConfig.subscribe_grace
    """How long a WebSocket without a cursor may take to send SUBSCRIBE before the live stream starts."""


# -- HTTP answers -------------------------------------------------------------------

_JSON: Final = (b"content-type", b"application/json")

# A refusal's error_code on the wire (docs/web.md): the framework's own codes where one fits.
_REFUSAL_CODES: Final = {400: "BAD_REQUEST", 401: "UNAUTHORIZED", 403: "FORBIDDEN_ORIGIN", 421: "MISDIRECTED_REQUEST"}


class _Outcome(msgspec.Struct):
    success: bool
    data: msgspec.Raw = msgspec.Raw(b"null")
    error_code: str | None = None


_outcome = msgspec.json.Decoder(_Outcome)

_STATUS: Final = {
    ErrorCode.PARSE_ERROR: 400,
    ErrorCode.INVALID_MESSAGE: 400,
    ErrorCode.INVALID_PAYLOAD: 400,
    ErrorCode.INVALID_QUEUE_PARAMETERS: 400,
    ErrorCode.INSUFFICIENT_PROMPTS: 400,
    ErrorCode.UNKNOWN_COMMAND: 404,
    ErrorCode.ACCOUNT_ALREADY_EXISTS: 409,
    ErrorCode.PROFILE_LOCKED: 409,
    ErrorCode.OPERATION_CANCELLED: 409,
    ErrorCode.MESSAGE_TOO_LARGE: 413,
    ErrorCode.NOT_IMPLEMENTED: 501,
    ErrorCode.SHUTTING_DOWN: 503,
    ErrorCode.EVENTS_NOT_STORED: 507,
}


def http_status(error_code: str | None) -> int:
    """The HTTP status that fits an ``ERROR_RESPONSE``'s ``error_code``."""
    if error_code in _STATUS:
        return _STATUS[ErrorCode(error_code)]
    if error_code and error_code.endswith("_NOT_FOUND"):
        return 404
    if error_code and error_code.endswith("_FAILED"):
        return 502
    return 500 if error_code in (None, ErrorCode.INTERNAL_ERROR) else 422


def error_body(error_code: str, message: str) -> bytes:
    """An ``ERROR_RESPONSE`` envelope for a refusal that never reached the router."""
    return protocol.encode(
        {"id": None, "type": protocol.ERROR_RESPONSE, "success": False, "error": message,
         "error_code": error_code, "timestamp": protocol.now_ms()}
    )  # fmt: skip


async def respond(send: Send, status: int, body: bytes, headers: list[tuple[bytes, bytes]] | None = None) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [_JSON, (b"content-length", str(len(body)).encode()), *(headers or ())],
        }
    )
    await send({"type": "http.response.body", "body": body})


async def read_body(receive: Receive, limit: int) -> bytes | None:
    """The whole request body, or None once it passes ``limit`` bytes."""
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return b""
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
        if not message.get("more_body", False):
            return chunks[0] if len(chunks) == 1 else b"".join(chunks)


def _header(scope: Scope, name: bytes) -> bytes | None:
    for key, value in scope["headers"]:
        if key == name:
            return bytes(value)
    return None


def is_json_content(scope: Scope) -> bool:
    ctype = (_header(scope, b"content-type") or b"").split(b";")[0].strip().lower()
    return ctype == b"application/json" or ctype.endswith(b"+json")


def events_answer(resumed: Resumed) -> bytes:
    """``{"events": [...], "last_seq", "head", "after", "epoch", "recovered", "more"}``, events spliced in as
    stored (the shape of ``GET_EVENTS``' data)."""
    return b"".join(
        (
            b'{"events":[',
            b",".join(resumed.events),
            b'],"last_seq":%d,"head":%d,"after":%d,"epoch":"%s","recovered":%s,"more":%s}'
            % (
                resumed.last_seq,
                resumed.head,
                resumed.after,
                resumed.epoch.encode(),
                b"true" if resumed.recovered else b"false",
                b"true" if resumed.more else b"false",
            ),
        )
    )


async def _disconnected(receive: Receive) -> None:
    """Return when the client goes away (the request's body messages come first)."""
    while (await receive())["type"] != "http.disconnect":
        pass


def _int_param(params: Mapping[str, str], name: str, default: int, low: int, high: int) -> int:
    raw = params.get(name)
    if raw is None or raw == "":
        return default
    value = int(raw)  # ValueError is the caller's 400
    if not low <= value <= high:
        raise ValueError(f"{name} must be between {low} and {high}")
    return value


class SubscribePayload(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """A resume cursor sent as the first WebSocket message (or in the URL)."""

    after: int | None = None
    epoch: str | None = None


_subscribe_decoder = msgspec.json.Decoder(SubscribePayload)


# -- WebSocket ----------------------------------------------------------------------


class _Connection:
    """One WebSocket client: commands in; responses and events out through one bounded outbox."""

    def __init__(self, door: WebDoor, scope: Scope, receive: Receive, send: Send) -> None:
        self.door = door
        self.events = door.backend.events
        self._receive = receive
        self._asgi_send = send
        self._params = query_params(scope)
        requested = self._params.get("client_id") or None
        self.info = door.backend.clients.connect("ws", requested)
        self.client_id = self.info.client_id
        self.outbox = Outbox(door.config.outbox_bytes, self._send_text, self._overflowed)
        self._sent_seq = 0
        self._paging = True  # until the catch-up from the cursor is done
        self._connected_seq = 0
        self._started = False
        self._tasks: set[asyncio.Task[Any]] = set()
        self._grace: asyncio.TimerHandle | None = None
        self._closing = False

    async def _send_text(self, data: bytes) -> None:
        self.door.settle_events()
        await self._asgi_send({"type": "websocket.send", "text": data.decode()})

    # -- the live stream ------------------------------------------------------------
    #
    # Events reach the outbox two ways: live, each committed batch as the log delivers it, or paged from the
    # log (``_paging``), a page at a time as the outbox drains. A connection pages while it catches up with
    # its cursor, and whenever a live batch would not fit in half its outbox (the other half is for responses;
    # the reader stops reading commands past it): a slow reader, or one commit bigger than the outbox. What it
    # is behind stays in the log, not in memory, and the connection stays open.
    # ``_sent_seq`` is the last event queued either way; paging ends, with no await in between, once it has
    # reached the log's head, so the next live batch follows it exactly.

    def _deliver(self, bodies: list[bytes]) -> None:
        if not self._paging:
            self._push_new(self.events.committed_seq, bodies)

    def _push_new(self, last: int, bodies: list[bytes]) -> None:
        """Queue a live batch ending at ``last`` (its seqs are consecutive); page from the log if it does not fit."""
        if not self._queue(range(last - len(bodies) + 1, last + 1), bodies):
            self._paging = True
            self._spawn(self._page(None))

    def _queue(self, seqs: Sequence[int], bodies: Sequence[bytes]) -> bool:
        """Queue the events after ``_sent_seq`` while they fit in half the outbox (the other half is for responses:
        the reader pauses past it), or while it is empty; False if some did not fit."""
        outbox = self.outbox
        room = outbox.limit // 2 - outbox.size
        sent = self._sent_seq
        try:
            for seq, body in zip(seqs, bodies, strict=True):
                if seq <= sent:
                    continue
                room -= len(body)
                if room < 0 and outbox.pending:
                    return False
                outbox.push(body)
                sent = seq
            return True
        finally:
            self._sent_seq = sent

    def _start(self, epoch: str | None, after: int | None, command_id: str | None) -> None:
        if self._started:
            return
        self._started = True
        if self._grace is not None:
            self._grace.cancel()
        if after is None:
            acked = self.events.acknowledged(self.client_id)
            after = acked if acked is not None else self._connected_seq
        else:
            if "client_id" in self._params:
                self.events.acknowledge(self.client_id, after)
            self.door.backend.clients.seen(self.client_id, after)
        resumed = self.events.resume(epoch, after, DEFAULT_PAGE)
        self._sent_seq = resumed.after
        self.outbox.push(self._notice(resumed, command_id))
        self._spawn(self._page(resumed))

    def _notice(self, resumed: Resumed, command_id: str | None) -> bytes:
        data = {
            "recovered": resumed.recovered,
            "epoch": resumed.epoch,
            "after": resumed.after,
            "last_seq": self.events.committed_seq,
            "client_id": self.client_id,
        }
        if command_id is not None:
            return protocol.success(command_id, "SUBSCRIBE", data)
        return protocol.encode({"type": "SUBSCRIBED", **data, "timestamp": protocol.now_ms()})

    async def _page(self, resumed: Resumed | None) -> None:
        """Events after ``_sent_seq`` from the log, as many as fit each time the outbox has drained, until live."""
        outbox = self.outbox
        while True:
            if resumed is None:
                await outbox.wait_empty()
                if outbox.overflowed or self._closing:
                    return
                resumed = self.events.resume(self.events.epoch, self._sent_seq, DEFAULT_PAGE)
                if not resumed.recovered:  # trimmed under our feet: say so
                    outbox.push(self._notice(resumed, None))
            if self._queue(resumed.seqs, resumed.events):
                self._sent_seq = max(self._sent_seq, resumed.last_seq)
                if not resumed.more and self._sent_seq >= self.events.committed_seq:
                    self._paging = False
                    return
            resumed = None

    # -- lifecycle -------------------------------------------------------------------

    def _spawn(self, coro: Awaitable[Any]) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _overflowed(self) -> None:
        log.warning("client %s cannot keep up: dropped (it may resume by seq)", self.client_id)
        self._spawn(self.close(CloseCode.SLOW_CONSUMER, "too slow: reconnect and resume from your last seq"))

    async def close(self, code: int, reason: str) -> None:
        """Close with ``code``; a peer that does not even read the close frame is cut off."""
        if self._closing:
            return
        self._closing = True
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self._asgi_send({"type": "websocket.close", "code": code, "reason": reason}), 2.0)
            return
        transport = getattr(getattr(self._asgi_send, "__self__", None), "transport", None)
        if transport is not None:
            transport.abort()

    async def run(self) -> None:
        await self._asgi_send({"type": "websocket.accept"})
        subscription = self.events.subscribe(self._deliver)
        self._connected_seq = self.events.committed_seq  # a client without a cursor: live from here
        writer = asyncio.ensure_future(self.outbox.run())
        try:
            if "after" in self._params or "epoch" in self._params:
                try:
                    after = _int_param(self._params, "after", 0, 0, 2**62)
                except ValueError as exc:
                    await self.close(CloseCode.BAD_REQUEST, f"bad cursor: {exc}")
                    return
                self._start(self._params.get("epoch") or None, after, None)
            else:
                grace = self.door.config.subscribe_grace
                self._grace = asyncio.get_running_loop().call_later(grace, self._start, None, None, None)
            await self._read_loop()
        finally:
            subscription.cancel()
            writer.cancel()
            for task in list(self._tasks):
                task.cancel()
            if self._grace is not None:
                self._grace.cancel()
            self.door.backend.clients.disconnect(self.info)

    async def _read_loop(self) -> None:
        receive, outbox = self._receive, self.outbox
        dispatch = self.door.backend.router.dispatch
        pause_at = outbox.limit // 2
        while True:
            message = await receive()
            if message["type"] != "websocket.receive":
                return
            text = message.get("text")
            if text is None:
                await self.close(CloseCode.UNSUPPORTED_DATA, "binary frames are not accepted: send JSON text")
                return
            data = text.encode()
            outbox.deferred = True  # the answers of commands that finish now leave below, with no task switch
            try:
                if b"SUBSCRIBE" not in data or not self._subscribe(data):
                    if not self._started:
                        self._start(None, None, None)
                    dispatch(data, outbox.push)
            finally:
                outbox.deferred = False
            if outbox.pending:
                await outbox.drain()
            if outbox.size > pause_at:
                await outbox.wait_empty()

    def _subscribe(self, data: bytes) -> bool:
        """Handle a ``SUBSCRIBE`` command here (it concerns this connection); False if it is not one."""
        command = protocol.parse_command(data)
        if not isinstance(command, protocol.Command) or command.type != "SUBSCRIBE":
            return False
        if self._started:
            self.outbox.push(
                protocol.failure(command.id, ErrorCode.INVALID_MESSAGE,
                                 "already subscribed: SUBSCRIBE must be the first message (or use ?after=)")
            )  # fmt: skip
            return True
        try:
            payload = _subscribe_decoder.decode(command.payload)
        except msgspec.ValidationError as exc:
            message, details = protocol.validation_details(exc)
            self.outbox.push(protocol.failure(command.id, ErrorCode.INVALID_PAYLOAD, message, details))
            return True
        self._start(payload.epoch, payload.after, command.id)
        return True


# -- the door ------------------------------------------------------------------------


class WebDoor:
    """The ASGI application of one backend: security first, hot paths by hand, Starlette for the rest."""

    def __init__(self, backend: Backend, config: WebConfig, port: int) -> None:
        self.backend = backend
        self.config = config
        self.port = port
        self.guard = Guard(
            token=config.token,
            port=port,
            bound_host=config.host,
            allowed_origins=config.allowed_origins,
            allowed_hosts=config.allowed_hosts,
        )
        self.closing = asyncio.get_running_loop().create_future()
        self._pollers: dict[str, float] = {}
        self._fast: dict[str, Callable[[Scope, Receive, Send], Awaitable[None]]] = {
            "/api/command": self.command,
            **dict.fromkeys(EVENTS_PATHS, self.poll),
        }
        self.starlette = Starlette(routes=self._routes())

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
        origin = _header(scope, b"origin")
        if origin is not None:
            send = self._with_cors(send, origin)
        handler = self._fast.get(scope["path"])
        await (handler or self.starlette)(scope, receive, send)

    async def _websocket(self, scope: Scope, receive: Receive, send: Send) -> None:
        await receive()  # websocket.connect
        refusal = self.guard.check(scope)
        if refusal is None and scope["path"] not in WEBSOCKET_PATHS:
            refusal = Refusal(404, CloseCode.BAD_REQUEST, f"no WebSocket at {scope['path']}; use /ws")
        if refusal is not None:
            await send({"type": "websocket.accept"})
            await send({"type": "websocket.close", "code": refusal.close_code, "reason": refusal.message})
            return
        await _Connection(self, scope, receive, send).run()

    async def _refuse_http(self, send: Send, refusal: Refusal) -> None:
        headers = [(b"www-authenticate", b"Bearer")] if refusal.status == 401 else []
        await respond(send, refusal.status, error_body(_REFUSAL_CODES[refusal.status], refusal.message), headers)

    async def _preflight(self, scope: Scope, send: Send) -> None:
        refusal = self.guard.check_host(scope) or self.guard.check_origin(scope)
        if refusal is not None:
            await self._refuse_http(send, refusal)
            return
        origin = _header(scope, b"origin") or b"null"
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
        return dashboard.wants_page((_header(scope, b"accept") or b"").decode("latin-1"))

    @staticmethod
    def _with_cors(send: Send, origin: bytes) -> Send:
        async def cors_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", ()), (b"access-control-allow-origin", origin),
                                      (b"vary", b"origin")]  # fmt: skip
            await send(message)

        return cors_send

    # -- POST /api/command -------------------------------------------------------------

    async def command(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["method"] != "POST":
            await respond(send, 405, error_body("METHOD_NOT_ALLOWED", "use POST"), [(b"allow", b"POST")])
            return
        if not is_json_content(scope):
            await respond(send, 415, error_body("UNSUPPORTED_MEDIA_TYPE", "send the command as application/json"))
            return
        body = await read_body(receive, self.backend.max_line)
        if body is None:
            await respond(
                send, 413, protocol.failure(None, ErrorCode.MESSAGE_TOO_LARGE, "body larger than the line limit")
            )
            return
        reply = await self.run_line(body)
        await respond(send, 200 if reply[1] is None else http_status(reply[1]), reply[0])

    async def run_line(self, line: bytes) -> tuple[bytes, str | None]:
        """Dispatch one command; its response and, when it failed, the error code."""
        answer: asyncio.Future[bytes] = asyncio.get_running_loop().create_future()
        self.backend.router.dispatch(line, answer.set_result)
        body = answer.result() if answer.done() else await answer
        self.settle_events()
        outcome = _outcome.decode(body)
        return body, None if outcome.success else (outcome.error_code or ErrorCode.INTERNAL_ERROR)

    def settle_events(self) -> None:
        """Commit the events appended so far, now: a response never leaves before the events its
        command raised are on disk, so a client that read "done" finds them after a kill -9."""
        events = self.backend.events
        if events.last_seq != events.committed_seq:
            events.flush()

    # -- GET /api/events ---------------------------------------------------------------

    async def poll(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["method"] != "GET":
            await respond(send, 405, error_body("METHOD_NOT_ALLOWED", "use GET"), [(b"allow", b"GET")])
            return
        params = query_params(scope)
        try:
            after = _int_param(params, "after", 0, 0, 2**62)
            limit = _int_param(params, "limit", DEFAULT_PAGE, 1, MAX_PAGE)
            wait = float(params.get("wait") or 0)
            if not 0 <= wait <= MAX_WAIT:
                raise ValueError(f"wait must be between 0 and {MAX_WAIT:g} seconds")
        except ValueError as exc:
            await respond(send, 400, protocol.failure(None, ErrorCode.INVALID_PAYLOAD, f"bad query: {exc}"))
            return
        epoch = params.get("epoch") or None
        self._track_poller(params.get("client_id") or None, after)
        events = self.backend.events
        resumed = events.resume(epoch, after, limit)
        if wait > 0 and resumed.recovered and not resumed.events:
            await self._wait_for_events(resumed.last_seq + 1, wait, receive)
            resumed = events.resume(epoch, after, limit)
        await respond(send, 200, events_answer(resumed))

    async def _wait_for_events(self, seq: int, wait: float, receive: Receive) -> None:
        """Until event ``seq`` is on disk, ``wait`` runs out, the client leaves or the server stops."""
        arrived = asyncio.ensure_future(self.backend.events.wait_committed(seq))
        left = asyncio.ensure_future(_disconnected(receive))
        try:
            await asyncio.wait([arrived, left, self.closing], timeout=wait, return_when=asyncio.FIRST_COMPLETED)
        finally:
            arrived.cancel()
            left.cancel()

    def _track_poller(self, client_id: str | None, after: int) -> None:
        """Polling clients appear in the registry while they poll; ``after`` is their acknowledgement."""
        key = client_id or "poll"
        now = asyncio.get_running_loop().time()
        if key not in self._pollers:
            self.backend.clients.connect("poll", key)
        self._pollers[key] = now
        self.backend.clients.seen(key, after)
        if client_id is not None:
            self.backend.events.acknowledge(client_id, after)
        for stale in [k for k, seen in self._pollers.items() if now - seen > POLL_CLIENT_IDLE]:
            del self._pollers[stale]
            self.backend.clients.disconnect(stale)

    # -- Starlette: the rest -------------------------------------------------------------

    def _routes(self) -> list[BaseRoute]:
        routes: list[BaseRoute] = [
            Route("/", self.home, methods=["GET"]),
            Route("/api/status", self.info, methods=["GET"]),
            Route("/openapi.json", self.openapi, methods=["GET"]),
            Mount(dashboard.PREFIX, StaticFiles(directory=dashboard.ASSETS)),
        ]
        taken = {"/", "/api/status", "/openapi.json", "/api/command", *EVENTS_PATHS}
        for app in self.backend.apps:
            for endpoint in app.http_endpoints:
                if endpoint.path in taken or dashboard.is_asset(endpoint.path):
                    log.warning("%s's %s %s is served by the door itself", app.name, endpoint.method, endpoint.path)
                    continue
                if endpoint.command not in self.backend.router.routes:
                    raise ValueError(f"{app.name}: {endpoint.path} names unknown command {endpoint.command}")
                routes.append(Route(endpoint.path, self._endpoint_handler(endpoint), methods=[endpoint.method]))
        return routes

    async def home(self, request: Request) -> Response:
        """``GET /``: the dashboard for a browser, the status (as ``/api/status``) for everyone else."""
        if self._wants_page(request.scope):
            return dashboard.page()
        response = await self.info(request)
        response.headers["vary"] = "accept"
        return response

    async def info(self, request: Request) -> Response:
        """Who serves here, through which doors, to which clients (with their acknowledged ``last_seq``)."""
        clients = [dataclasses.asdict(client) for client in self.backend.clients.list()]
        return JSONResponse(
            {"app": self.backend.name, "epoch": self.backend.events.epoch, "doors": self.backend.doors,
             "clients": clients, "openapi": "/openapi.json"}
        )  # fmt: skip

    async def openapi(self, request: Request) -> Response:
        from deskbridge.transports.openapi import describe

        return Response(protocol.encode(describe(self.backend)), media_type="application/json")

    def _endpoint_handler(self, endpoint: HttpEndpoint) -> Callable[[Request], Awaitable[Response]]:
        route = self.backend.router.routes[endpoint.command]

        async def handle(request: Request) -> Response:
            if request.method == "GET":
                try:
                    payload = msgspec.convert(dict(request.query_params), route.payload_type, strict=False)
                except msgspec.ValidationError as exc:
                    message, details = protocol.validation_details(exc)
                    body = protocol.failure(None, ErrorCode.INVALID_PAYLOAD, message, details)
                    return Response(body, 400, media_type="application/json")
            else:
                raw = await read_body(request.receive, self.backend.max_line)
                if raw is None:
                    body = protocol.failure(None, ErrorCode.MESSAGE_TOO_LARGE, "body larger than the line limit")
                    return Response(body, 413, media_type="application/json")
                if raw.strip() and not is_json_content(request.scope):
                    body = error_body("UNSUPPORTED_MEDIA_TYPE", "send the body as application/json")
                    return Response(body, 415, media_type="application/json")
                try:
                    payload = msgspec.json.decode(raw) if raw.strip() else {}
                except (msgspec.DecodeError, UnicodeDecodeError, RecursionError) as exc:
                    body = protocol.failure(None, ErrorCode.PARSE_ERROR, f"body is not valid JSON: {exc}")
                    return Response(body, 400, media_type="application/json")
            command = protocol.encode({"id": f"http-{endpoint.path}", "type": endpoint.command, "payload": payload})
            body, error = await self.run_line(command)
            if error is not None:
                return Response(body, http_status(error), media_type="application/json")
            data = _outcome.decode(body).data if endpoint.raw else body
            return Response(bytes(data), 200, media_type="application/json")

        return handle


# -- serving -----------------------------------------------------------------------------


class _Server(uvicorn.Server):
    """uvicorn without its own signal handling: ``serve`` stops it and then closes the backend."""

    @contextlib.contextmanager
    def capture_signals(self) -> Any:
        yield


def bind(host: str, port: int) -> socket.socket:
    """A listening socket created as TCP explicitly, so accepted sockets get TCP_NODELAY."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    if sys.platform != "win32":
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(2048)
    sock.setblocking(False)
    return sock


def _ws_implementation() -> str:
    from uvicorn.config import WS_PROTOCOLS

    return "websockets-sansio" if "websockets-sansio" in WS_PROTOCOLS else "websockets"


async def serve(backend: Backend, config: WebConfig, *, on_ready: Callable[[dict[str, Any]], None]) -> None:
    """Serve until SIGTERM/SIGINT; then stop taking connections, close the backend, flush the log."""
    sock = bind(config.host, config.port)
    port = sock.getsockname()[1]
    door = WebDoor(backend, config, port)
    server = _Server(
        uvicorn.Config(
            door,
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
    loop = asyncio.get_running_loop()

    def stop() -> None:
        if not door.closing.done():
            door.closing.set_result(None)
        server.should_exit = True

    if sys.platform != "win32":
        loop.add_signal_handler(signal.SIGTERM, stop)
        loop.add_signal_handler(signal.SIGINT, stop)
    running = asyncio.ensure_future(server.serve(sockets=[sock]))
    while not server.started and not running.done():  # noqa: ASYNC110 - uvicorn offers no "started" event
        await asyncio.sleep(0.01)
    if running.done():
        running.result()
        return
    name = f"[{config.host}]" if ":" in config.host else config.host
    backend.doors["http"] = f"http://{name}:{port}"
    backend.doors["ws"] = f"ws://{name}:{port}/ws"
    on_ready({"url": backend.doors["http"], "ws": backend.doors["ws"], "host": config.host, "port": port,
              "auth": config.token is not None, "pid": os.getpid()})  # fmt: skip
    await running
    stop()
    await backend.aclose(timeout=1.2)
