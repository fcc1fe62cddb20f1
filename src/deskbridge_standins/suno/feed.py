"""The studio API's clip lists: the library feeds (v2 pages, v3 cursors, by ids), public profiles, one clip."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from deskbridge_standins.suno.responses import detail, json_response, page_number, session, unauthorized
from deskbridge_standins.suno.state import SunoState


def routes(state: SunoState) -> list[Route]:
    async def feed_v2(request: Request) -> Response:
        if session(state, request) is None:
            return unauthorized()
        page = page_number(request, "page", 0)
        if page is None:
            return detail(422, "page must be a number from 0")
        clips, size = state.library(), state.settings.page_size
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
        body = await request.json()
        cursor, limit = body.get("cursor"), int(body.get("limit") or state.settings.page_size)
        start = int(cursor) if isinstance(cursor, str) and cursor.isdigit() else 0
        clips = state.library()
        more = start + limit < len(clips)
        return json_response(
            {
                "clips": clips[start : start + limit],
                "next_cursor": str(start + limit) if more else None,
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
                "user_id": state.user_id,
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
