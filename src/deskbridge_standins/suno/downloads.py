"""Getting a clip's file: billing (the download allowance), authorizing a clip, preparing a file, and the CDN.

The rules live in :mod:`.allowance`; these routes speak Suno's shapes of
Sept-Dec 2026. The CDN serves a clip's MP3 at ``/cdn/<id>.mp3`` only while
its ``audio_url`` is not the ``/api/forbidden`` placeholder (clips from
before August 2026); prepared files of every format come from
``/cdn/authorized/<id>.<format>?sig=...`` with their own content type.
"""

from __future__ import annotations

import re
from typing import Any

import msgspec
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from deskbridge_standins.suno.allowance import FORMATS, MEDIA_TYPES, PERIOD_END, Allowance
from deskbridge_standins.suno.responses import (
    detail,
    json_object,
    json_response,
    not_an_object,
    serve_bytes,
    session,
    unauthorized,
)
from deskbridge_standins.suno.state import SunoState

_AUDIO = re.compile(r"(?P<id>[A-Za-z0-9_-]+)\.mp3")
_PREPARED = re.compile(r"(?P<id>[A-Za-z0-9_-]+)\.(?P<format>mp3|m4a|wav|mp4)")
_COVER = re.compile(r"image_(?P<large>large_)?(?P<id>[A-Za-z0-9_-]+)\.jpeg")
_ACCESS_DENIED = "<Error><Code>AccessDenied</Code></Error>"


def routes(state: SunoState, allowance: Allowance) -> list[Route]:
    async def billing(request: Request) -> Response:
        if session(state, request) is None:
            return unauthorized()
        info: dict[str, Any] = {
            "credits": state.settings.credits,
            "total_credits_left": state.settings.credits,
            "subscription_type": "pro",
            "is_active": True,
            "plan": {"id": "pro", "name": "Pro Plan", "level": 2},
            "period": "month",
            "period_end": PERIOD_END,
            "download_usage": allowance.usage(),
            "download_credit_packs": [],
        }
        return json_response(info)

    async def authorize(request: Request) -> Response:
        if session(state, request) is None:
            return unauthorized()
        body = await json_object(request)
        if body is None:
            return not_an_object()
        if body.get("item_type") != "clip":
            return detail(400, "item_type must be clip")
        found = state.clip(str(body.get("item_id")))
        return detail(404, "Clip not found") if found is None else json_response(allowance.authorize(found))

    async def download(request: Request) -> Response:
        if session(state, request) is None:
            return unauthorized()
        found = state.clip(request.path_params["id"])
        if found is None:
            return detail(404, "Clip not found")
        fmt = request.query_params.get("format", "mp3")
        if fmt not in FORMATS:
            return detail(400, "unknown format")
        return json_response(allowance.poll(found, fmt, state.base_url))

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

    async def cdn_prepared(request: Request) -> Response:
        name = request.path_params["name"]
        prepared = _PREPARED.fullmatch(name)
        if prepared is None or request.query_params.get("sig") != allowance.sign(name):
            return Response(_ACCESS_DENIED, 403, media_type="application/xml")
        fmt = prepared["format"]
        data = state.audio() if fmt == "mp3" else allowance.file(fmt, state.settings.audio_bytes)
        return serve_bytes(request, data, MEDIA_TYPES[fmt])

    async def control_downloads(request: Request) -> Response:
        """Tests set the allowance and the preparation's hiccups; the answer says them, and what is unlocked."""
        changes = msgspec.json.decode(await request.body(), type=dict[str, Any])
        settings = allowance.configure(changes)
        return json_response({"settings": settings, "unlocked": sorted(allowance.unlocked), "usage": allowance.usage()})

    return [
        Route("/_control/downloads", control_downloads, methods=["POST"]),
        Route("/api/billing/info/", billing),
        Route("/api/download/authorize", authorize, methods=["POST"]),
        Route("/api/download/clip/{id}", download),
        Route("/api/forbidden", forbidden),
        Route("/cdn/authorized/{name}", cdn_prepared),
        Route("/cdn/{name}", cdn_file),
    ]
