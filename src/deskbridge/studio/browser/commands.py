"""The browser wing's commands: an account's browser, its Suno session, the clips it can see.

Payload fields are seed 000's; fields it lacks (``account_name`` where the
seed has none) are optional. The handlers are ``async def``: Playwright and
the Suno client run on the backend's event loop.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Literal

import msgspec

from deskbridge.changes import Changed
from deskbridge.payloads import Payload
from deskbridge.router import Commands
from deskbridge.studio.browser.browsers import Browsers, Closed, Launched
from deskbridge.studio.browser.recent_clips import RecentClips
from deskbridge.studio.browser.sessions import SessionCheck, Sessions, SessionToken
from deskbridge.studio.fields import SINGLE_LINE, AccountNameField, SessionTokenField, invalid
from deskbridge.studio.suno.models import Clip

ProfileName = Annotated[str, msgspec.Meta(min_length=1, max_length=100, pattern=SINGLE_LINE)]


class LaunchBrowserPayload(Payload):
    account_name: AccountNameField
    headless: bool | None = None


class AccountPayload(Payload):
    account_name: AccountNameField


class FetchClipsPayload(Payload):
    session_token: SessionTokenField | None = None
    profile_name: ProfileName | None = None
    use_my_songs: bool = False
    use_create_page: bool = False
    account_name: AccountNameField | None = None


class FetchedClips(msgspec.Struct, kw_only=True, omit_defaults=True):
    clips: list[Clip]
    total: int
    source: Literal["my_songs", "profile", "create_page"]
    profile_name: str | None = None


@dataclass(frozen=True)
class Online:
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
        """The clips on the account's create page, its library (use_my_songs), or a profile's public clips."""
        if payload.use_create_page:
            if payload.account_name is None:
                raise invalid("$.account_name", "use_create_page reads the account's browser: give its account_name")
            clips = await recent_clips(payload.account_name)
            return FetchedClips(clips=clips, total=len(clips), source="create_page")
        if not payload.use_my_songs and payload.profile_name is None:
            raise invalid("$.use_my_songs", "say what to fetch: use_my_songs true, a profile_name, or use_create_page")
        suno = await sessions.client(payload.session_token, payload.account_name, required=True)
        if payload.use_my_songs:
            clips = await suno.library()
            return FetchedClips(clips=clips, total=len(clips), source="my_songs")
        assert payload.profile_name is not None
        clips = await suno.profile_clips(payload.profile_name)
        return FetchedClips(clips=clips, total=len(clips), source="profile", profile_name=payload.profile_name)
