"""Where a stand-in user keeps songs besides the library: playlists (theirs and others') and workspaces.

Shapes from public captures (Oct 2026): ``GET /api/playlist/{id}?page=N``
(pages from 1; page 0 repeats page 1) answers the playlist with
``playlist_clips: [{clip, relative_index}]``; ``/api/playlist/me`` and
``/api/project/me`` list the account's playlists and workspaces, pages from 1.
A workspace is a clip's ``project``; clips without one are in ``default``
("My Workspace"). A public playlist is readable without a session; a private
one only by its owner.
"""

from __future__ import annotations

from typing import Any, Final

import msgspec
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from deskbridge_standins.suno.playlist_store import PlaylistIn, Playlists
from deskbridge_standins.suno.responses import detail, json_response, page_number, session, unauthorized
from deskbridge_standins.suno.state import SunoState

PAGE_SIZE: Final = 20
DEFAULT_WORKSPACE: Final = "default"


def routes(state: SunoState, playlists: Playlists) -> list[Route]:
    def summary(playlist_id: str, item: PlaylistIn, owner: str) -> dict[str, Any]:
        return {
            "id": playlist_id,
            "entity_type": "playlist_schema",
            "name": item.name,
            "description": "",
            "is_public": item.is_public,
            "is_owned": owner == state.settings.handle,
            "is_trashed": False,
            "user_handle": owner,
            "user_display_name": owner,
            "song_count": len(item.clip_ids),
            "num_total_results": len(item.clip_ids),
            "feed_id": f"generic_playlist:{playlist_id}",
            "playlist_clips": [],
            "current_page": 0,
        }

    async def playlist(request: Request) -> Response:
        found = playlists.playlists.get(request.path_params["id"].rstrip("/"))
        if found is None:
            return detail(404, "Playlist not found")
        item, owner = found
        if not item.is_public and (session(state, request) is None or owner != state.settings.handle):
            return detail(404, "Playlist not found") if session(state, request) else unauthorized()
        page = page_number(request, "page", 1)
        if page is None:
            return detail(422, "page must be a number")
        page = max(page, 1)
        clips = [clip for clip in map(state.clip, item.clip_ids) if clip is not None]
        chunk = clips[(page - 1) * PAGE_SIZE : page * PAGE_SIZE]
        start = (page - 1) * PAGE_SIZE
        return json_response(
            {
                **summary(request.path_params["id"], item, owner),
                "playlist_clips": [{"clip": clip, "relative_index": start + n} for n, clip in enumerate(chunk)],
                "current_page": page,
            }
        )

    async def my_playlists(request: Request) -> Response:
        if session(state, request) is None:
            return unauthorized()
        page = max(page_number(request, "page", 1) or 1, 1)
        mine = [
            summary(pid, item, owner)
            for pid, (item, owner) in playlists.playlists.items()
            if owner == state.settings.handle
        ]
        return json_response(
            {
                "num_total_results": len(mine),
                "current_page": page,
                "playlists": mine[(page - 1) * PAGE_SIZE : page * PAGE_SIZE],
            }
        )

    async def my_workspaces(request: Request) -> Response:
        if session(state, request) is None:
            return unauthorized()
        page = max(page_number(request, "page", 1) or 1, 1)
        counts: dict[str, tuple[str, int]] = {DEFAULT_WORKSPACE: ("My Workspace", 0)}
        for clip in state.library():
            project = clip.get("project") or {"id": DEFAULT_WORKSPACE, "name": "My Workspace"}
            name, count = counts.get(project["id"], (project.get("name", ""), 0))
            counts[project["id"]] = (name, count + 1)
        projects = [
            {"id": pid, "name": name, "description": "", "clip_count": count, "shared": False, "can_invite": False}
            for pid, (name, count) in counts.items()
        ]
        return json_response(
            {
                "num_total_results": len(projects),
                "current_page": page,
                "projects": projects[(page - 1) * PAGE_SIZE : page * PAGE_SIZE],
            }
        )

    async def control_playlists(request: Request) -> Response:
        body = msgspec.json.decode(await request.body(), type=dict[str, Any])
        items = msgspec.convert(body.get("playlists", []), list[PlaylistIn])
        return json_response(playlists.add(items, state.settings.handle, replace=bool(body.get("replace", True))))

    return [
        Route("/_control/playlists", control_playlists, methods=["POST"]),
        Route("/api/playlist/me", my_playlists),
        Route("/api/playlist/{id:path}", playlist),
        Route("/api/project/me", my_workspaces),
    ]
