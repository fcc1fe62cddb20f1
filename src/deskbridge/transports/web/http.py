"""Plain ASGI HTTP answers: the JSON envelope of a refusal, bodies read within a limit, headers, query numbers.

The hot paths (``/api/command``, ``/api/events``) answer through these rather
than through Starlette's request and response objects.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

from starlette.types import Receive, Scope, Send

from deskbridge import protocol
from deskbridge.errors import ErrorCodeInfo

JSON: Final = (b"content-type", b"application/json")

DOOR_CODES: Final = (
    ErrorCodeInfo("BAD_REQUEST", "the request is malformed (a bad Host header, a bad query)", 400),
    ErrorCodeInfo("UNAUTHORIZED", "the token is missing or wrong", 401),
    ErrorCodeInfo("FORBIDDEN_ORIGIN", "the page's Origin is not on the allowlist", 403),
    ErrorCodeInfo("MISDIRECTED_REQUEST", "the Host header does not name this server", 421),
    ErrorCodeInfo("METHOD_NOT_ALLOWED", "this path takes another HTTP method", 405),
    ErrorCodeInfo("UNSUPPORTED_MEDIA_TYPE", "the body is not application/json", 415),
)
"""The web door's own refusals, answered before a command reaches the router (docs/web.md)."""

REFUSAL_CODES: Final = {info.http_status: info.code for info in DOOR_CODES[:4]}


def error_body(error_code: str, message: str) -> bytes:
    """An ``ERROR_RESPONSE`` envelope for a refusal that never reached the router."""
    return protocol.failure(None, error_code, message)


async def respond(send: Send, status: int, body: bytes, headers: list[tuple[bytes, bytes]] | None = None) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [JSON, (b"content-length", str(len(body)).encode()), *(headers or ())],
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


async def disconnected(receive: Receive) -> None:
    """Return when the client goes away (the request's body messages come first)."""
    while (await receive())["type"] != "http.disconnect":
        pass


def header(scope: Scope, name: bytes) -> bytes | None:
    for key, value in scope["headers"]:
        if key == name:
            return bytes(value)
    return None


def is_json_content(scope: Scope) -> bool:
    ctype = (header(scope, b"content-type") or b"").split(b";")[0].strip().lower()
    return ctype == b"application/json" or ctype.endswith(b"+json")


def int_param(params: Mapping[str, str], name: str, default: int, low: int, high: int) -> int:
    raw = params.get(name)
    if raw is None or raw == "":
        return default
    value = int(raw)  # ValueError is the caller's 400
    if not low <= value <= high:
        raise ValueError(f"{name} must be between {low} and {high}")
    return value
