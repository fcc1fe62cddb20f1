"""The studio's commands that reach out: browsers, Suno sessions, clip lists, downloads.

Payload fields are seed 000's; fields it lacks (``account_name`` where the
seed has none, ``parallel``) are optional. The handlers are ``async def``:
Playwright and the Suno client run on the backend's event loop, and the
download commands answer at once with an ``operation_id`` (docs/studio.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any, Literal

import msgspec

from deskbridge import protocol
from deskbridge.operations import Operation
from deskbridge.router import Commands
from deskbridge.studio.browser import Browsers, Closed, Launched
from deskbridge.studio.downloads import Downloads, Request
from deskbridge.studio.fields import SINGLE_LINE, AccountNameField, FilePath, invalid
from deskbridge.studio.recent_clips import RecentClips
from deskbridge.studio.sessions import SessionCheck, Sessions, SessionToken
from deskbridge.studio.suno import sources
from deskbridge.studio.suno.models import Clip, Format
from deskbridge.studio.suno.sources import ClipFilters, Source, When

SessionTokenField = Annotated[
    str, msgspec.Meta(max_length=16_384, pattern=r"^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$")
]
"""A JWT (what Clerk issues): three base64url parts. Anything else is refused before Suno is asked."""
ProfileName = Annotated[str, msgspec.Meta(min_length=1, max_length=100, pattern=SINGLE_LINE)]
Delay = Annotated[float, msgspec.Meta(ge=0, le=3600)]
Parallel = Annotated[int, msgspec.Meta(ge=1, le=16)]
BatchClips = Annotated[list[dict[str, Any]], msgspec.Meta(min_length=1, max_length=10_000)]


class LaunchBrowserPayload(msgspec.Struct, kw_only=True):
    account_name: AccountNameField
    headless: bool | None = None


class AccountPayload(msgspec.Struct, kw_only=True):
    account_name: AccountNameField


SunoId = Annotated[str, msgspec.Meta(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9_-]+$")]


class FetchClipsPayload(msgspec.Struct, kw_only=True):
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


class DownloadClipPayload(msgspec.Struct, kw_only=True):
    clip: dict[str, Any]
    """The clip as Suno gave it (all of it goes in the sidecar)."""
    output_dir: FilePath
    session_token: SessionTokenField | None = None
    account_name: AccountNameField | None = None
    with_thumbnail: bool = True
    append_uuid: bool = False
    format: Format | None = None
    authorize: bool | None = None
    """Spend one of Suno's downloads on a locked clip (default: ``studio.downloads.authorize``, false)."""
    sidecar: bool | None = None
    file_times: bool | None = None


class BatchDownloadPayload(msgspec.Struct, kw_only=True):
    clips: BatchClips
    output_dir: FilePath
    account_name: AccountNameField | None = None
    session_token: SessionTokenField | None = None
    with_thumbnail: bool = True
    append_uuid: bool = False
    delay: Delay = 0.0
    parallel: Parallel | None = None
    format: Format | None = None
    authorize: bool | None = None
    sidecar: bool | None = None
    file_times: bool | None = None


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


def _downloads(commands: Commands, downloads: Downloads) -> None:
    def asked(payload: DownloadClipPayload | BatchDownloadPayload) -> Request:
        return downloads.request(
            session_token=payload.session_token,
            account_name=payload.account_name,
            file_format=payload.format,
            with_thumbnail=payload.with_thumbnail,
            append_uuid=payload.append_uuid,
            authorize=payload.authorize,
            sidecar=payload.sidecar,
            file_times=payload.file_times,
        )

    @commands.command("DOWNLOAD_CLIP")
    async def download_clip(payload: DownloadClipPayload) -> Operation:
        """Download one clip into output_dir in a format, checked and tagged (with its cover if with_thumbnail);
        a locked clip only with authorize; an operation."""
        (clip,) = _typed([payload.clip], "$.clip")
        return await downloads.clip(clip, payload.clip, payload.output_dir, asked(payload))

    @commands.command("BATCH_DOWNLOAD")
    async def batch_download(payload: BatchDownloadPayload) -> Operation:
        """Download many clips, several at once, skipping those the account already has in this format; locked
        ones only with authorize, within Suno's allowance; an operation."""
        clips = _typed(payload.clips, "$.clips", indexed=True)
        originals = {clip.id: raw for clip, raw in zip(clips, payload.clips, strict=True)}
        return await downloads.batch(
            clips, originals, payload.output_dir, asked(payload), delay=payload.delay, parallel=payload.parallel
        )


def _typed(items: list[dict[str, Any]], where: str, *, indexed: bool = False) -> list[Clip]:
    """The typed view of each payload clip; ``INVALID_PAYLOAD`` at the first that is not one (a bad id...)."""
    typed = []
    for index, item in enumerate(items):
        try:
            typed.append(msgspec.convert(item, Clip, strict=False))
        except msgspec.ValidationError as exc:
            message, details = protocol.validation_details(exc)
            path = (f"{where}[{index}]" if indexed else where) + details["fields"][0][1:]
            raise invalid(path, f"not a clip: {message}") from None
    return typed
