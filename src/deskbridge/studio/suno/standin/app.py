"""The stand-in Suno's routes: a sign-in page, the create page, Clerk, the studio API, the CDN, and a control API.

One Starlette app serves every Suno host under one base URL
(:func:`standin_endpoints` says where each host lives: Clerk under
``/clerk``, the CDN under ``/cdn``), with the shapes of
``reference/suno.md``, so the studio's real code, pointed at these base
URLs, cannot tell it from Suno. ``/_control/*`` is for tests only: seed
clips, change settings, mint or revoke sessions, set faults
(:mod:`.faults`), read the requests received.
"""

from __future__ import annotations

import re
from typing import Any

import msgspec
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

from deskbridge.studio.suno.endpoints import Endpoints
from deskbridge.studio.suno.standin import downloads, feed, playlists
from deskbridge.studio.suno.standin.create_page import CAPTCHA_PAGE, CREATE_PAGE, Creations
from deskbridge.studio.suno.standin.faults import Fault, Faults
from deskbridge.studio.suno.standin.state import Settings, SunoState

_RANGE = re.compile(r"bytes=(\d*)-(\d*)")
_AUDIO = re.compile(r"(?P<id>[A-Za-z0-9_-]+)\.mp3")
_COVER = re.compile(r"image_(?P<large>large_)?(?P<id>[A-Za-z0-9_-]+)\.jpeg")

_SIGN_IN_PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><title>Suno</title></head>
<body><h1>Signed in</h1>
<script>
// Like the real page, Clerk appears a moment after load: callers wait for window.Clerk.session.
setTimeout(function () {
  window.Clerk = {session: {id: "%(sid)s", getToken: async function () {
    const answer = await fetch("/clerk/v1/client/sessions/%(sid)s/tokens", {method: "POST", credentials: "include"});
    if (!answer.ok) { throw new Error("Clerk refused the session: " + answer.status); }
    return (await answer.json()).jwt;
  }}};
}, 50);
</script>
</body></html>
"""


def standin_endpoints(base_url: str) -> Endpoints:
    """Where each Suno host lives on a stand-in served at ``base_url``; every path stays Suno's."""
    return Endpoints(
        site_origin=base_url, clerk_base=f"{base_url}/clerk", api_base=base_url, cdn_base=f"{base_url}/cdn"
    )


def _json(data: Any, status: int = 200) -> Response:
    return Response(msgspec.json.encode(data), status, media_type="application/json")


def _detail(status: int, detail: str) -> Response:
    return _json({"detail": detail}, status)


def _page(request: Request, name: str, default: int) -> int | None:
    value = request.query_params.get(name, str(default))
    return int(value) if value.isdigit() else None


def _serve_bytes(request: Request, data: bytes, media_type: str) -> Response:
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


def create_app(state: SunoState) -> Faults:
    """The ASGI app to serve: the routes, wrapped in their fault table and request log."""

    creations = Creations(state)

    def session(request: Request) -> str | None:
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        return state.session_of(token) if scheme.lower() == "bearer" else None

    def unauthorized() -> Response:
        return _detail(401, "Unauthorized")

    # -- the site and Clerk -------------------------------------------------

    async def sign_in(request: Request) -> Response:
        client, session_id = state.sign_in()
        response = HTMLResponse(_SIGN_IN_PAGE % {"sid": session_id})
        response.set_cookie("__session", state.mint(session_id), path="/", samesite="lax")
        response.set_cookie("__client", client, path="/clerk", httponly=True, samesite="lax", max_age=365 * 86400)
        return response

    async def clerk_client(request: Request) -> Response:
        client = request.cookies.get("__client", "")
        session_id = state.sessions.get(client)
        if session_id is None:
            return _json({"response": None, "client": None})
        sessions = [{"id": session_id, "status": "active", "user": {"id": state.user_id}}]
        return _json({"response": {"id": "client_standin", "last_active_session_id": session_id, "sessions": sessions}})

    async def clerk_token(request: Request) -> Response:
        session_id = request.path_params["sid"]
        if state.sessions.get(request.cookies.get("__client", "")) != session_id:
            return _json({"errors": [{"code": "authentication_invalid", "message": "Unauthorized request"}]}, 401)
        return _json({"object": "token", "jwt": state.mint(session_id)})

    # -- creating songs -------------------------------------------------------

    async def create_page(request: Request) -> Response:
        return HTMLResponse(CREATE_PAGE)

    async def captcha_page(request: Request) -> Response:
        return HTMLResponse(CAPTCHA_PAGE)

    async def captcha_check(request: Request) -> Response:
        return unauthorized() if session(request) is None else _json({"required": creations.settings.captcha})

    async def generate(request: Request) -> Response:
        if session(request) is None:
            return unauthorized()
        status, answer = creations.generate(msgspec.convert(await request.json(), dict[str, Any]))
        return _json(answer, status)

    # -- control (tests only) ----------------------------------------------------

    async def control_reset(request: Request) -> Response:
        faults.set([])
        faults.requests.clear()
        state.settings = state.defaults
        state.sessions.clear()
        state.add_clips([], replace=True)
        state.allowance.reset()
        state.playlists.playlists.clear()
        creations.reset()
        return _json({"ok": True})

    async def control_create(request: Request) -> Response:
        if request.method == "POST":
            creations.configure(msgspec.convert(await request.json(), dict[str, Any]))
        return _json({"settings": creations.settings, "requests": creations.requests})

    async def control_clips(request: Request) -> Response:
        body = await request.json()
        return _json(state.add_clips(body.get("clips", []), replace=bool(body.get("replace", False))))

    async def control_settings(request: Request) -> Response:
        changes = msgspec.convert(await request.json(), dict[str, Any])
        state.settings = msgspec.convert({**msgspec.to_builtins(state.settings), **changes}, Settings)
        return _json(state.settings)

    async def control_faults(request: Request) -> Response:
        faults.set(msgspec.convert(await request.json(), list[Fault]))
        return _json({"ok": True})

    async def control_session(request: Request) -> Response:
        body = await request.json()
        client, session_id = state.sign_in()
        lifetime = body.get("lifetime")
        return _json({"client": client, "session_id": session_id, "jwt": state.mint(session_id, lifetime)})

    async def control_revoke(request: Request) -> Response:
        state.sessions.clear()
        return _json({"ok": True})

    async def control_requests(request: Request) -> Response:
        if request.method == "DELETE":
            faults.requests.clear()
        return _json(faults.requests)

    routes = [
        Route("/sign-in", sign_in),
        Route("/clerk/v1/client", clerk_client),
        Route("/clerk/v1/client/sessions/{sid}/tokens", clerk_token, methods=["POST"]),
        Route("/create", create_page),
        Route("/captcha/hcaptcha.html", captcha_page),
        Route("/api/c/check", captcha_check, methods=["POST"]),
        Route("/api/generate/v2-web/", generate, methods=["POST"]),
        Route("/_control/reset", control_reset, methods=["POST"]),
        Route("/_control/clips", control_clips, methods=["POST"]),
        Route("/_control/settings", control_settings, methods=["POST"]),
        Route("/_control/faults", control_faults, methods=["POST"]),
        Route("/_control/session", control_session, methods=["POST"]),
        Route("/_control/revoke", control_revoke, methods=["POST"]),
        Route("/_control/requests", control_requests, methods=["GET", "DELETE"]),
        Route("/_control/create", control_create, methods=["GET", "POST"]),
        *feed.routes(state),
        *downloads.routes(state, state.allowance),
        *playlists.routes(state, state.playlists),
    ]
    faults = Faults(Starlette(routes=routes))
    return faults
