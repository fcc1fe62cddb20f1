"""Making the stand-in misbehave on purpose, and remembering what it was asked.

Tests post rules to ``/_control/faults``; each names a path pattern
(``fnmatch``: ``/cdn/*.mp3``) and optionally a method, lets ``skip`` matching
requests through, then affects the next ``times`` ones (``null``: all).
Each rule counts its own matches. The kinds:

``respond``  answer ``status`` / ``headers`` / ``body`` / ``content_type``
             instead of the route: 401, 429 with ``Retry-After``, 5xx, 403,
             an HTML page or a JSON error served with 200;
``cut``      send the real headers and ``after_bytes`` of the body, then drop
             the connection (the client sees a body shorter than its
             Content-Length);
``short``    send only ``after_bytes`` of the body with a Content-Length that
             agrees: a file truncated before it reached the server;
``delay``    wait ``seconds``, then answer normally.

Every request but the control ones (``/_control/*``, or carrying an
``X-Standin-Control`` header) is recorded (method, path, query, Range,
whether it carried a bearer token, time) for tests to assert on.
"""

from __future__ import annotations

import asyncio
import fnmatch
import time
from typing import Literal

import msgspec
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

CONTROL_PREFIX = "/_control/"
CONTROL_HEADER = "x-standin-control"
"""A request carrying this header is the test's own: neither recorded nor faulted."""


class Fault(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    path: str
    method: str | None = None
    kind: Literal["respond", "cut", "short", "delay"] = "respond"
    skip: int = 0
    times: int | None = 1
    status: int = 500
    headers: dict[str, str] = {}
    body: str = ""
    content_type: str = "text/plain; charset=utf-8"
    after_bytes: int = 0
    seconds: float = 0.0


class Recorded(msgspec.Struct):
    method: str
    path: str
    query: str
    range: str | None
    bearer: bool
    time: float


class Faults:
    """The rules in force and the requests seen; an ASGI middleware around the stand-in's routes."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.rules: list[tuple[Fault, list[int]]] = []
        self.requests: list[Recorded] = []

    def set(self, rules: list[Fault]) -> None:
        self.rules = [(rule, [0]) for rule in rules]

    def _pick(self, method: str, path: str) -> Fault | None:
        chosen = None
        for rule, seen in self.rules:
            if (rule.method is None or rule.method.upper() == method) and fnmatch.fnmatchcase(path, rule.path):
                seen[0] += 1
                affected = seen[0] > rule.skip and (rule.times is None or seen[0] <= rule.skip + rule.times)
                if affected and chosen is None:
                    chosen = rule
        return chosen

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {key.decode("latin-1").lower(): value.decode("latin-1") for key, value in scope["headers"]}
        if scope["path"].startswith(CONTROL_PREFIX) or CONTROL_HEADER in headers:
            await self.app(scope, receive, send)
            return
        self.requests.append(
            Recorded(
                scope["method"],
                scope["path"],
                scope["query_string"].decode("latin-1"),
                headers.get("range"),
                headers.get("authorization", "").startswith("Bearer "),
                time.time(),
            )
        )
        fault = self._pick(scope["method"], scope["path"])
        if fault is None:
            await self.app(scope, receive, send)
        elif fault.kind == "respond":
            response = Response(fault.body, fault.status, fault.headers, media_type=fault.content_type)
            await response(scope, receive, send)
        elif fault.kind == "delay":
            await asyncio.sleep(fault.seconds)
            await self.app(scope, receive, send)
        else:
            await self.app(scope, receive, _Truncating(send, fault.after_bytes, honest=fault.kind == "short"))


class _Truncating:
    """Forwards the first ``limit`` body bytes; then ends the response (``honest``) or abandons it (a cut)."""

    def __init__(self, send: Send, limit: int, honest: bool) -> None:
        self._send = send
        self._room = limit
        self._honest = honest
        self._done = False

    async def __call__(self, message: Message) -> None:
        if self._done:
            return
        if message["type"] == "http.response.start" and self._honest:
            headers = [(k, v) for k, v in message["headers"] if k.lower() != b"content-length"]
            message = {**message, "headers": [*headers, (b"content-length", str(self._room).encode())]}
        elif message["type"] == "http.response.body":
            body: bytes = message.get("body", b"")
            if len(body) >= self._room:
                self._done = True
                # A cut leaves the response incomplete: the server drops the connection when the app returns.
                message = {**message, "body": body[: self._room], "more_body": not self._honest}
            self._room -= len(body)
        await self._send(message)
