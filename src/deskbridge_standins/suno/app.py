"""The stand-in Suno's app: every Suno host under one base URL, its routes gathered from one module per concern.

One Starlette app serves every Suno host under one base URL
(:func:`standin_endpoints` says where each host lives: Clerk under
``/clerk``, the CDN under ``/cdn``), with the shapes of
``reference/suno.md``, so the studio's real code, pointed at these base
URLs, cannot tell it from Suno. The routes: :mod:`.sign_in` (the site and
Clerk), :mod:`.feed` (clip lists), :mod:`.downloads` (billing, authorizing,
preparing, the CDN; its rules in :mod:`.allowance`), :mod:`.playlists`
(and workspaces), :mod:`.create_page` (creating songs) and
:mod:`.control_api` (tests only), all wrapped in the fault table and request
log of :mod:`.faults`.
"""

from __future__ import annotations

from starlette.applications import Starlette

from deskbridge.studio.suno.endpoints import Endpoints
from deskbridge_standins.suno import control_api, create_page, downloads, feed, playlists, sign_in
from deskbridge_standins.suno.create_page import Creations
from deskbridge_standins.suno.faults import Faults
from deskbridge_standins.suno.state import SunoState


def standin_endpoints(base_url: str) -> Endpoints:
    """Where each Suno host lives on a stand-in served at ``base_url``; every path stays Suno's."""
    return Endpoints(
        site_origin=base_url, clerk_base=f"{base_url}/clerk", api_base=base_url, cdn_base=f"{base_url}/cdn"
    )


def create_app(state: SunoState) -> Faults:
    """The ASGI app to serve: the routes, wrapped in their fault table and request log."""
    creations = Creations(state)
    app = Starlette()
    faults = Faults(app)
    app.router.routes.extend(
        [
            *sign_in.routes(state),
            *feed.routes(state),
            *downloads.routes(state, state.allowance),
            *playlists.routes(state, state.playlists),
            *create_page.routes(state, creations),
            *control_api.routes(state, creations, faults),
        ]
    )
    return faults
