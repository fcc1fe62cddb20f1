"""The browser wing's commands: an account's browser, its Suno session, the clips it can see.

Payload fields are seed 000's; fields it lacks (``account_name`` where the
seed has none) are optional. The handlers are ``async def``: Playwright and
the Suno client run on the backend's event loop.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

import msgspec

from deskbridge.changes import Changed
from deskbridge.payloads import Payload
from deskbridge.router import Commands
from deskbridge.studio.browser.browsers import Browsers, Closed, Launched
from deskbridge.studio.browser.recent_clips import RecentClips
from deskbridge.studio.browser.sessions import SessionCheck, Sessions, SessionToken
from deskbridge.studio.fields import SINGLE_LINE, AccountNameField, SessionTokenField, invalid
from deskbridge.studio.suno import sources
from deskbridge.studio.suno.sources import ClipFilters, Source, When

ProfileName = Annotated[str, msgspec.Meta(min_length=1, max_length=100, pattern=SINGLE_LINE)]


class LaunchBrowserPayload(Payload):
    account_name: AccountNameField
    headless: bool | None = None


class AccountPayload(Payload):
    account_name: AccountNameField


SunoId = Annotated[str, msgspec.Meta(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9_-]+$")]


class FetchClipsPayload(Payload):
    session_token: SessionTokenField | None = None
    profile_name: ProfileName | None = None
    use_my_songs: bool = False
    use_create_page: bool = False
    account_name: AccountNameField | None = None
    source: Source | Literal["create_page"] | None = None
    """Where to fetch from; when not given, the seed's flags say (use_create_page, use_my_songs, profile_name)."""
    workspace_id: SunoId | None = None
    playlist_id: SunoId | None = None
    created_after: When | None = None
    created_before: When | None = None
    liked_only: bool = False
    include_disliked: bool = False
    include_trashed: bool = False


class FetchedClips(msgspec.Struct, kw_only=True, omit_defaults=True):
    clips: list[dict[str, Any]]
    """As Suno sent them."""
    total: int
    source: Source | Literal["create_page"]
    profile_name: str | None = None
    workspace_id: str | None = None
    playlist_id: str | None = None
    foreign: int = 0
    """Someone else's clips of the library feed (sources of covers and remixes), left out."""
    filtered: int = 0
    """Clips the filters left out."""
    owner_checked: bool = True
    """False when the session's token names no account to check owners against (``my_songs``, ``library``)."""


class Online(msgspec.Struct, frozen=True):
    """What these handlers call."""

    browsers: Browsers
    sessions: Sessions
    recent_clips: RecentClips


def register(commands: Commands, online: Online, changed: Changed) -> None:
    _sessions(commands, online.browsers, online.sessions, changed)
    _clips(commands, online.sessions, online.recent_clips)


def _sessions(commands: Commands, browsers: Browsers, sessions: Sessions, changed: Changed) -> None:
    @commands.command("LAUNCH_BROWSER")
    async def launch_browser(payload: LaunchBrowserPayload) -> Launched:
        """Open the account's browser profile in Chrome or Chromium (headless or not) on Suno's sign-in page."""
        launched = await browsers.launch(payload.account_name, payload.headless)
        changed("browser", "opened", id=launched.account_name)
        return launched

    @commands.command("CLOSE_BROWSER")
    async def close_browser(payload: AccountPayload) -> Closed:
        """Close the account's browser if the studio has it open."""
        closed = await browsers.close(payload.account_name)
        if closed.closed:
            changed("browser", "closed", id=closed.account_name)
        return closed

    @commands.command("GET_SESSION_TOKEN")
    async def get_session_token(payload: AccountPayload) -> SessionToken:
        """The Suno session JWT of the account's signed-in browser, and when it expires."""
        return await sessions.session_token(payload.account_name)

    @commands.command("VERIFY_SESSION")
    async def verify_session(payload: AccountPayload) -> SessionCheck:
        """Whether the account's session is valid: an unexpired token that Suno accepts."""
        check = await sessions.verify(payload.account_name)
        changed("session", "verified", id=check.account_name, valid=check.valid, reason=check.reason)
        return check


def _clips(commands: Commands, sessions: Sessions, recent_clips: RecentClips) -> None:
    @commands.command("FETCH_CLIPS")
    async def fetch_clips(payload: FetchClipsPayload) -> FetchedClips:
        """The clips of a source: the account's create page, its songs (use_my_songs, library), a workspace, a
        playlist, or a profile's public clips; with a backup's filters (dates, liked, disliked, trashed)."""
        source = payload.source or _seed_source(payload)
        if source == "create_page":
            if payload.account_name is None:
                raise invalid("$.account_name", "use_create_page reads the account's browser: give its account_name")
            found = await recent_clips(payload.account_name)
            return FetchedClips(clips=msgspec.to_builtins(found), total=len(found), source="create_page")
        target = {"workspace": payload.workspace_id, "playlist": payload.playlist_id, "profile": payload.profile_name}
        if source in target and target[source] is None:
            field = {"workspace": "workspace_id", "playlist": "playlist_id", "profile": "profile_name"}[source]
            raise invalid(f"$.{field}", f"source {source} needs {field}")
        suno = await sessions.client(payload.session_token, payload.account_name, required=True)
        filters = ClipFilters(
            created_after=payload.created_after,
            created_before=payload.created_before,
            liked_only=payload.liked_only,
            include_disliked=payload.include_disliked,
            include_trashed=payload.include_trashed,
        )
        fetched = await sources.fetch(suno, source, target=target.get(source), filters=filters)
        return FetchedClips(
            clips=fetched.clips,
            total=len(fetched.clips),
            source=source,
            profile_name=payload.profile_name if source == "profile" else None,
            workspace_id=payload.workspace_id if source == "workspace" else None,
            playlist_id=payload.playlist_id if source == "playlist" else None,
            foreign=fetched.foreign,
            filtered=fetched.filtered,
            owner_checked=fetched.owner_checked,
        )


def _seed_source(payload: FetchClipsPayload) -> Source | Literal["create_page"]:
    """The seed's flags: the create page, then my songs, then a profile (as its example reads)."""
    if payload.use_create_page:
        return "create_page"
    if payload.use_my_songs:
        return "my_songs"
    if payload.profile_name is not None:
        return "profile"
    raise invalid(
        "$.use_my_songs", "say what to fetch: a source, use_my_songs true, a profile_name, or use_create_page"
    )
