"""What every route of the stand-in answers with: JSON in Suno's shapes, its errors, files as a CDN serves them."""

from __future__ import annotations

import re
from typing import Any

import msgspec
from starlette.requests import Request
from starlette.responses import Response

from deskbridge_standins.suno.state import SunoState

_RANGE = re.compile(r"bytes=(\d*)-(\d*)")


def json_response(data: Any, status: int = 200) -> Response:
    return Response(msgspec.json.encode(data), status, media_type="application/json")


def detail(status: int, text: str) -> Response:
    """Suno's API errors: ``{"detail": ...}``."""
    return json_response({"detail": text}, status)


def unauthorized() -> Response:
    return detail(401, "Unauthorized")


async def json_object(request: Request) -> dict[str, Any] | None:
    """The request's body as a JSON object, or None when it is not one (:func:`not_an_object` answers that)."""
    try:
        return msgspec.json.decode(await request.body(), type=dict[str, Any])
    except msgspec.DecodeError:  # a ValidationError (valid JSON, not an object) is one too
        return None


def not_an_object() -> Response:
    return detail(422, "the body must be a JSON object")


def page_number(request: Request, name: str, default: int) -> int | None:
    value = request.query_params.get(name, str(default))
    return int(value) if value.isdigit() else None


def session(state: SunoState, request: Request) -> str | None:
    """The session of the request's bearer token, if it is a live one."""
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    return state.session_of(token) if scheme.lower() == "bearer" else None


def serve_bytes(request: Request, data: bytes, media_type: str) -> Response:
    """``data`` whole, or the one byte range asked for (206), as a CDN does."""
    headers = {"Accept-Ranges": "bytes", "Cache-Control": "public, max-age=31536000"}
    asked = _RANGE.fullmatch(request.headers.get("range", "").strip())
    if asked is None or asked[0] == "bytes=-":
        return Response(data, 200, headers, media_type)
    size = len(data)
    if asked[1]:
        start, end = int(asked[1]), min(int(asked[2]) if asked[2] else size - 1, size - 1)
    else:
        start, end = max(0, size - int(asked[2])), size - 1
    if start > end:
        return Response(b"", 416, {"Content-Range": f"bytes */{size}"})
    return Response(data[start : end + 1], 206, {**headers, "Content-Range": f"bytes {start}-{end}/{size}"}, media_type)
