"""Commands over HTTP: ``POST /api/command`` and every app's :class:`~deskbridge.app.HttpEndpoint`.

The answer's status comes from the error code's declared HTTP status
(:class:`~deskbridge.errors.ErrorCodes`): the door knows no app's codes.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Collection, Sequence
from typing import Any

import msgspec
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from deskbridge import payloads, protocol
from deskbridge.app import AppSpec, HttpEndpoint
from deskbridge.caller import CALLER, Caller
from deskbridge.errors import ErrorCode, ErrorCodes
from deskbridge.events import EventLog
from deskbridge.roles import Role
from deskbridge.router import Router
from deskbridge.transports.web.http import error_body, is_json_content, read_body, respond

log = logging.getLogger("deskbridge.web")

COMMAND_PATH = "/api/command"


class _Outcome(msgspec.Struct):
    success: bool
    data: msgspec.Raw = msgspec.Raw(b"null")
    error_code: str | None = None


_outcome = msgspec.json.Decoder(_Outcome)


def _json(body: bytes, status: int) -> Response:
    return Response(body, status, media_type="application/json")


class HttpCommands:
    """Runs commands for HTTP requests; an answer leaves once its command's events are stored."""

    def __init__(
        self,
        router: Router,
        events: EventLog,
        codes: ErrorCodes,
        max_line: int,
        *,
        role_of: Callable[[Scope], Role] = lambda scope: Role.OWNER,
    ) -> None:
        self._router = router
        self._role_of = role_of
        self._events = events
        self._codes = codes
        self._max_line = max_line

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """``POST /api/command``: one command in, its response envelope out."""
        if scope["method"] != "POST":
            await respond(send, 405, error_body("METHOD_NOT_ALLOWED", "use POST"), [(b"allow", b"POST")])
            return
        if not is_json_content(scope):
            await respond(send, 415, error_body("UNSUPPORTED_MEDIA_TYPE", "send the command as application/json"))
            return
        body = await read_body(receive, self._max_line)
        if body is None:
            await respond(
                send, 413, protocol.failure(None, ErrorCode.MESSAGE_TOO_LARGE, "body larger than the line limit")
            )
            return
        reply, error = await self.run_line(body, self._role_of(scope))
        await respond(send, 200 if error is None else self._codes.http_status(error), reply)

    async def run_line(self, line: bytes, role: Role) -> tuple[bytes, str | None]:
        """Dispatch one command as ``role``; its response and, when it failed, the error code."""
        answer: asyncio.Future[bytes] = asyncio.get_running_loop().create_future()
        CALLER.set(Caller("http", role=role))
        self._router.dispatch(line, answer.set_result)
        body = answer.result() if answer.done() else await answer
        self._events.settle()
        outcome = _outcome.decode(body)
        return body, None if outcome.success else (outcome.error_code or ErrorCode.INTERNAL_ERROR)

    def routes(self, apps: Sequence[AppSpec], taken: Collection[str], served: Callable[[str], bool]) -> list[Route]:
        """Starlette routes for the apps' endpoints; a path the door serves itself (``taken``, ``served``) stays
        the door's."""
        routes = []
        for app in apps:
            for endpoint in app.http_endpoints:
                if endpoint.path in taken or served(endpoint.path):
                    log.warning("%s's %s %s is served by the door itself", app.name, endpoint.method, endpoint.path)
                    continue
                if endpoint.command not in self._router.routes:
                    raise ValueError(f"{app.name}: {endpoint.path} names unknown command {endpoint.command}")
                routes.append(Route(endpoint.path, self._endpoint(endpoint), methods=[endpoint.method]))
        return routes

    def _endpoint(self, endpoint: HttpEndpoint) -> Callable[[Request], Awaitable[Response]]:
        route = self._router.routes[endpoint.command]

        async def handle(request: Request) -> Response:
            payload: Any
            if request.method == "GET":
                try:
                    # ``token`` is the door's credential (security.py), not a field of the command
                    query = {k: v for k, v in request.query_params.items() if k != "token"}
                    payload = msgspec.convert(query, route.payload_type, strict=False)
                except msgspec.ValidationError as exc:
                    message, details = payloads.invalid(exc, route.payload_type)
                    return _json(protocol.failure(None, ErrorCode.INVALID_PAYLOAD, message, details), 400)
            else:
                raw = await read_body(request.receive, self._max_line)
                if raw is None:
                    body = protocol.failure(None, ErrorCode.MESSAGE_TOO_LARGE, "body larger than the line limit")
                    return _json(body, 413)
                if raw.strip() and not is_json_content(request.scope):
                    return _json(error_body("UNSUPPORTED_MEDIA_TYPE", "send the body as application/json"), 415)
                try:
                    payload = msgspec.json.decode(raw) if raw.strip() else {}
                except (msgspec.DecodeError, UnicodeDecodeError, RecursionError) as exc:
                    return _json(protocol.failure(None, ErrorCode.PARSE_ERROR, f"body is not valid JSON: {exc}"), 400)
            command = protocol.encode({"id": f"http-{endpoint.path}", "type": endpoint.command, "payload": payload})
            body, error = await self.run_line(command, self._role_of(request.scope))
            if error is not None:
                return _json(body, self._codes.http_status(error))
            return _json(bytes(_outcome.decode(body).data) if endpoint.raw else body, 200)

        return handle
