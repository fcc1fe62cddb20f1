"""The site's sign-in page and Clerk: the cookies a browser profile keeps, and the JWTs Clerk mints from them."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

from deskbridge_standins.suno.responses import json_response
from deskbridge_standins.suno.state import SunoState

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


def routes(state: SunoState) -> list[Route]:
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
            return json_response({"response": None, "client": None})
        sessions = [{"id": session_id, "status": "active", "user": {"id": state.user_id}}]
        return json_response(
            {"response": {"id": "client_standin", "last_active_session_id": session_id, "sessions": sessions}}
        )

    async def clerk_token(request: Request) -> Response:
        session_id = request.path_params["sid"]
        if state.sessions.get(request.cookies.get("__client", "")) != session_id:
            return json_response(
                {"errors": [{"code": "authentication_invalid", "message": "Unauthorized request"}]}, 401
            )
        return json_response({"object": "token", "jwt": state.mint(session_id)})

    return [
        Route("/sign-in", sign_in),
        Route("/clerk/v1/client", clerk_client),
        Route("/clerk/v1/client/sessions/{sid}/tokens", clerk_token, methods=["POST"]),
    ]
