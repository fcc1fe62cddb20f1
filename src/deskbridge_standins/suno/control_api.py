"""``/_control/*``, for tests only: seed clips, change settings, mint or revoke sessions, set faults, read requests.

:class:`~.control.StandinControl` is its client.
"""

from __future__ import annotations

from typing import Any

import msgspec
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from deskbridge_standins.suno.create_page import Creations
from deskbridge_standins.suno.faults import Fault, Faults
from deskbridge_standins.suno.responses import json_response
from deskbridge_standins.suno.state import Settings, SunoState


def routes(state: SunoState, creations: Creations, faults: Faults) -> list[Route]:
    async def control_reset(request: Request) -> Response:
        faults.set([])
        faults.requests.clear()
        state.settings = state.defaults
        state.sessions.clear()
        state.add_clips([], replace=True)
        state.allowance.reset()
        state.playlists.playlists.clear()
        creations.reset()
        return json_response({"ok": True})

    async def control_create(request: Request) -> Response:
        if request.method == "POST":
            creations.configure(msgspec.convert(await request.json(), dict[str, Any]))
        return json_response({"settings": creations.settings, "requests": creations.requests})

    async def control_clips(request: Request) -> Response:
        body = await request.json()
        return json_response(state.add_clips(body.get("clips", []), replace=bool(body.get("replace", False))))

    async def control_settings(request: Request) -> Response:
        changes = msgspec.convert(await request.json(), dict[str, Any])
        state.settings = msgspec.convert({**msgspec.to_builtins(state.settings), **changes}, Settings)
        return json_response(state.settings)

    async def control_faults(request: Request) -> Response:
        faults.set(msgspec.convert(await request.json(), list[Fault]))
        return json_response({"ok": True})

    async def control_session(request: Request) -> Response:
        body = await request.json()
        client, session_id = state.sign_in()
        lifetime = body.get("lifetime")
        return json_response({"client": client, "session_id": session_id, "jwt": state.mint(session_id, lifetime)})

    async def control_revoke(request: Request) -> Response:
        state.sessions.clear()
        return json_response({"ok": True})

    async def control_requests(request: Request) -> Response:
        if request.method == "DELETE":
            faults.requests.clear()
        return json_response(faults.requests)

    return [
        Route("/_control/reset", control_reset, methods=["POST"]),
        Route("/_control/clips", control_clips, methods=["POST"]),
        Route("/_control/settings", control_settings, methods=["POST"]),
        Route("/_control/faults", control_faults, methods=["POST"]),
        Route("/_control/session", control_session, methods=["POST"]),
        Route("/_control/revoke", control_revoke, methods=["POST"]),
        Route("/_control/requests", control_requests, methods=["GET", "DELETE"]),
        Route("/_control/create", control_create, methods=["GET", "POST"]),
    ]
