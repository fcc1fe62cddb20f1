"""The studio's commands that reach out: browsers, Suno sessions, clip lists, downloads.

Payload fields are seed 000's; fields it lacks (``account_name`` where the
seed has none, ``parallel``) are optional. The handlers are ``async def``:
Playwright and the Suno client run on the backend's event loop, and the
download commands answer at once with an ``operation_id`` (docs/studio.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Literal

import msgspec

from deskbridge.operations import Operation
from deskbridge.router import Commands
from deskbridge.studio.browser import Browsers, Closed, Launched
from deskbridge.studio.downloads import Downloads
from deskbridge.studio.fields import SINGLE_LINE, AccountNameField, FilePath, invalid
from deskbridge.studio.recent_clips import RecentClips
from deskbridge.studio.sessions import SessionCheck, Sessions, SessionToken
from deskbridge.studio.suno.models import Clip

SessionTokenField = Annotated[
    str, msgspec.Meta(max_length=16_384, pattern=r"^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$")
]
"""A JWT (what Clerk issues): three base64url parts. Anything else is refused before Suno is asked."""
ProfileName = Annotated[str, msgspec.Meta(min_length=1, max_length=100, pattern=SINGLE_LINE)]
Delay = Annotated[float, msgspec.Meta(ge=0, le=3600)]
Parallel = Annotated[int, msgspec.Meta(ge=1, le=16)]
BatchClips = Annotated[list[Clip], msgspec.Meta(min_length=1, max_length=10_000)]


class LaunchBrowserPayload(msgspec.Struct, kw_only=True):
    account_name: AccountNameField
    headless: bool | None = None


class AccountPayload(msgspec.Struct, kw_only=True):
    account_name: AccountNameField


class FetchClipsPayload(msgspec.Struct, kw_only=True):
    session_token: SessionTokenField | None = None
    profile_name: ProfileName | None = None
    use_my_songs: bool = False
    use_create_page: bool = False
    account_name: AccountNameField | None = None


class DownloadClipPayload(msgspec.Struct, kw_only=True):
    clip: Clip
    output_dir: FilePath
    session_token: SessionTokenField | None = None
    account_name: AccountNameField | None = None
    with_thumbnail: bool = True
    append_uuid: bool = False


class BatchDownloadPayload(msgspec.Struct, kw_only=True):
    clips: BatchClips
    output_dir: FilePath
    account_name: AccountNameField | None = None
    session_token: SessionTokenField | None = None
    with_thumbnail: bool = True
    append_uuid: bool = False
    delay: Delay = 0.0
    parallel: Parallel | None = None


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
    downloads: Downloads


def register(commands: Commands, online: Online) -> None:
    _sessions(commands, online.browsers, online.sessions)
    _clips(commands, online.sessions, online.recent_clips)
    _downloads(commands, online.downloads)


def _sessions(commands: Commands, browsers: Browsers, sessions: Sessions) -> None:
    @commands.command("LAUNCH_BROWSER")
    async def launch_browser(payload: LaunchBrowserPayload) -> Launched:
        """Open the account's browser profile in Chrome or Chromium (headless or not) on Suno's sign-in page."""
        return await browsers.launch(payload.account_name, payload.headless)

    @commands.command("CLOSE_BROWSER")
    async def close_browser(payload: AccountPayload) -> Closed:
        """Close the account's browser if the studio has it open."""
        return await browsers.close(payload.account_name)

    @commands.command("GET_SESSION_TOKEN")
    async def get_session_token(payload: AccountPayload) -> SessionToken:
        """The Suno session JWT of the account's signed-in browser, and when it expires."""
        return await sessions.session_token(payload.account_name)

    @commands.command("VERIFY_SESSION")
    async def verify_session(payload: AccountPayload) -> SessionCheck:
        """Whether the account's session is valid: an unexpired token that Suno accepts."""
        return await sessions.verify(payload.account_name)


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


def _downloads(commands: Commands, downloads: Downloads) -> None:
    @commands.command("DOWNLOAD_CLIP")
    async def download_clip(payload: DownloadClipPayload) -> Operation:
        """Download one clip into output_dir, tagged (and with its cover if with_thumbnail); an operation."""
        return await downloads.clip(
            payload.clip,
            payload.output_dir,
            session_token=payload.session_token,
            account_name=payload.account_name,
            with_thumbnail=payload.with_thumbnail,
            append_uuid=payload.append_uuid,
        )

    @commands.command("BATCH_DOWNLOAD")
    async def batch_download(payload: BatchDownloadPayload) -> Operation:
        """Download many clips, several at once, skipping those the account already has; an operation."""
        return await downloads.batch(
            payload.clips,
            payload.output_dir,
            session_token=payload.session_token,
            account_name=payload.account_name,
            with_thumbnail=payload.with_thumbnail,
            append_uuid=payload.append_uuid,
            delay=payload.delay,
            parallel=payload.parallel,
        )
