"""Getting a clip's file: billing (the download quota), authorizing a clip, the download poll, and the CDN."""

from __future__ import annotations

import re

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from deskbridge_standins.suno.responses import detail, json_response, serve_bytes, session, unauthorized
from deskbridge_standins.suno.state import FORMATS, SunoState

_AUDIO = re.compile(r"(?P<id>[A-Za-z0-9_-]+)\.mp3")
_COVER = re.compile(r"image_(?P<large>large_)?(?P<id>[A-Za-z0-9_-]+)\.jpeg")
_ACCESS_DENIED = "<Error><Code>AccessDenied</Code></Error>"


def routes(state: SunoState) -> list[Route]:
    async def billing(request: Request) -> Response:
        return unauthorized() if session(state, request) is None else json_response(state.billing())

    async def authorize(request: Request) -> Response:
        if session(state, request) is None:
            return unauthorized()
        body = await request.json()
        if body.get("item_type") != "clip":
            return detail(400, "item_type must be clip")
        found = state.clip(str(body.get("item_id")))
        return detail(404, "Clip not found") if found is None else json_response(state.authorize(found))

    async def download(request: Request) -> Response:
        if session(state, request) is None:
            return unauthorized()
        found = state.clip(request.path_params["id"])
        if found is None:
            return detail(404, "Clip not found")
        if request.query_params.get("format", "mp3") not in FORMATS:
            return detail(400, "unknown format")
        if found["id"] not in state.authorized and not found["is_download_unlocked"]:
            return detail(403, "Download not authorized")
        polls = state.polls[found["id"]] = state.polls.get(found["id"], 0) + 1
        if polls <= state.settings.download_polls:
            return json_response({"status": "processing", "download_url": None})
        signature = state.file_signature(found["id"])
        url = f"{state.base_url}/cdn/authorized/{found['id']}.mp3?sig={signature}"
        return json_response({"status": "complete", "download_url": url})

    async def forbidden(request: Request) -> Response:
        return detail(403, "Forbidden")

    async def cdn_file(request: Request) -> Response:
        name = request.path_params["name"]
        if (audio := _AUDIO.fullmatch(name)) is not None:
            found = state.clip(audio["id"])
            if found is None or state.is_forbidden(found):
                return Response(_ACCESS_DENIED, 403, media_type="application/xml")
            return serve_bytes(request, state.audio(), "audio/mpeg")
        if (cover := _COVER.fullmatch(name)) is not None and state.clip(cover["id"]) is not None:
            return serve_bytes(request, state.cover(cover["id"], large=bool(cover["large"])), "image/jpeg")
        return Response("<Error><Code>NoSuchKey</Code></Error>", 404, media_type="application/xml")

    async def cdn_authorized(request: Request) -> Response:
        audio = _AUDIO.fullmatch(request.path_params["name"])
        if audio is None or request.query_params.get("sig") != state.file_signature(audio["id"]):
            return Response(_ACCESS_DENIED, 403, media_type="application/xml")
        return serve_bytes(request, state.audio(), "audio/mpeg")

    return [
        Route("/api/billing/info/", billing),
        Route("/api/download/authorize", authorize, methods=["POST"]),
        Route("/api/download/clip/{id}", download),
        Route("/api/forbidden", forbidden),
        Route("/cdn/authorized/{name}", cdn_authorized),
        Route("/cdn/{name}", cdn_file),
    ]
