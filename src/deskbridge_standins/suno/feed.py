"""The studio API's clip lists: the library feeds (v2 pages, v3 cursors, by ids), public profiles, one clip.

The v2 feed pages everything the account's library shows, the sources of
its covers and remixes too, whoever made them: a clip's owner is its
``user_id``/``handle``. The v3 feed (the web app's since 2026) takes a body
``{cursor, limit, filters}`` as public captures show it: ``user`` or
``workspace`` (``{"presence": "True", "userId"|"workspaceId": ...}``),
``disliked`` and ``trashed`` (``"False"`` leaves those out), and answers
``{clips, next_cursor, has_more}`` with an opaque cursor. Filters the
stand-in does not know are ignored, as Suno's are by an older server.
"""

from __future__ import annotations

import base64
from typing import Any, Final

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from deskbridge_standins.suno.playlists import DEFAULT_WORKSPACE
from deskbridge_standins.suno.responses import (
    detail,
    json_object,
    json_response,
    not_an_object,
    page_number,
    session,
    unauthorized,
)
from deskbridge_standins.suno.state import SunoState

MAX_LIMIT: Final = 100


def _cursor(offset: int) -> str:
    return base64.urlsafe_b64encode(f"offset:{offset}".encode()).decode()


def _offset(cursor: object) -> int | None:
    if cursor is None:
        return 0
    try:
        kind, _, value = base64.urlsafe_b64decode(str(cursor).encode()).decode().partition(":")
    except (ValueError, UnicodeDecodeError):
        return None
    return int(value) if kind == "offset" and value.isdigit() else None


def _presence(filters: dict[str, Any], name: str, key: str) -> str | None:
    value = filters.get(name)
    if isinstance(value, dict) and value.get("presence") == "True":
        found = value.get(key)
        return found if isinstance(found, str) else ""
    return None


def _kept(clip: dict[str, Any], filters: dict[str, Any]) -> bool:
    user = _presence(filters, "user", "userId")
    if user is not None and clip.get("user_id") != user:
        return False
    workspace = _presence(filters, "workspace", "workspaceId")
    if workspace is not None and (clip.get("project") or {}).get("id", DEFAULT_WORKSPACE) != workspace:
        return False
    if filters.get("disliked") == "False" and clip.get("is_disliked"):
        return False
    return not (filters.get("trashed") == "False" and clip.get("is_trashed"))


def routes(state: SunoState) -> list[Route]:
    async def feed_v2(request: Request) -> Response:
        if session(state, request) is None:
            return unauthorized()
        page = page_number(request, "page", 0)
        if page is None:
            return detail(422, "page must be a number from 0")
        clips, size = [clip for clip in state.clips if not clip.get("is_trashed")], state.settings.page_size
        chunk = clips[page * size : (page + 1) * size]
        return json_response(
            {
                "clips": chunk,
                "num_total_results": len(clips),
                "current_page": page,
                "has_more": (page + 1) * size < len(clips),
            }
        )

    async def feed_v3(request: Request) -> Response:
        if session(state, request) is None:
            return unauthorized()
        body = await json_object(request)
        if body is None:
            return not_an_object()
        start = _offset(body.get("cursor"))
        limit = body.get("limit", state.settings.page_size)
        if start is None or not isinstance(limit, int) or not 0 < limit <= MAX_LIMIT:
            return detail(422, "invalid cursor or limit")
        asked = body.get("filters")
        filters: dict[str, Any] = asked if isinstance(asked, dict) else {}
        clips = [clip for clip in state.clips if _kept(clip, filters)]
        more = start + limit < len(clips)
        return json_response(
            {
                "clips": clips[start : start + limit],
                "next_cursor": _cursor(start + limit) if more else None,
                "has_more": more,
            }
        )

    async def feed_ids(request: Request) -> Response:
        if session(state, request) is None:
            return unauthorized()
        wanted = request.query_params.get("ids", "").split(",")
        return json_response([clip for clip in map(state.clip, wanted) if clip is not None])

    async def profile(request: Request) -> Response:
        handle = request.path_params["handle"]
        page = page_number(request, "page", 1)
        if page is None or page < 1:
            return detail(422, "page must be a number from 1")
        if handle != state.settings.handle and not state.public_clips(handle):
            return detail(404, "Profile not found")
        clips, size = state.public_clips(handle), state.settings.page_size
        return json_response(
            {
                "user_id": clips[0]["user_id"] if clips else state.user_id,
                "handle": handle,
                "display_name": clips[0]["display_name"] if clips else state.settings.display_name,
                "profile_description": "",
                "clips": clips[(page - 1) * size : page * size],
                "num_total_clips": len(clips),
                "current_page": page,
            }
        )

    async def clip(request: Request) -> Response:
        found = state.clip(request.path_params["id"])
        if found is None:
            return detail(404, "Clip not found")
        if not found["is_public"] and session(state, request) is None:
            return unauthorized()
        return json_response(found)

    return [
        Route("/api/feed/v2", feed_v2),
        Route("/api/feed/v3", feed_v3, methods=["POST"]),
        Route("/api/feed/", feed_ids),
        Route("/api/profiles/{handle}", profile),
        Route("/api/clip/{id}", clip),
    ]
