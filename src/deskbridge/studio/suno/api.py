"""The Suno HTTP API as the studio uses it: sessions, libraries, clips, download authorization.

One :class:`SunoClient` per account session, over an ``httpx.AsyncClient``
the caller owns (so the backend and its tests share connection pooling and
timeouts)::

    client = SunoClient(http, endpoints, token, refresh_token=clerk.token)
    await client.check_session()                   # billing info; 401 means sign in again
    usage = (await client.billing()).download_usage # the download allowance, if Suno says it
    clips = await client.library(known_ids=seen)    # every feed v2 page, newest first
    raw = await client.library_v3(user_id=me)       # the library (or a workspace) through feed v3's cursor
    raw = await client.playlist_clips(playlist_id)  # a playlist's clips, page by page
    spaces = await client.workspaces()              # the account's workspaces
    clips = await client.profile_clips("@someone")  # a handle's public clips
    clip = await client.clip(clip_id)               # CLIP_NOT_FOUND if Suno has no such clip
    auth = await client.authorize_download(clip_id) # metered: never called blindly
    poll = await client.download_poll(clip_id, "wav")  # one look at a file being prepared

Every call carries ``Authorization: Bearer <jwt>``. A token that expires
within ``refresh_margin`` seconds is refreshed first; a 401 triggers one
refresh through ``refresh_token`` and one more try, then ``SESSION_NOT_FOUND``.
429 and 5xx answers are retried with exponential backoff honouring
``Retry-After`` (:class:`~deskbridge.studio.suno.retry.RetryPolicy`), except
on the metered authorize call, which is retried only when Suno said 429
(the request was refused, so nothing was spent). Other failures raise
:class:`~deskbridge.studio.suno.errors.SunoError`. Tokens are never logged
nor put in a message.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Collection, Mapping
from typing import Any, Final, TypeVar

import httpx
import msgspec

from deskbridge.errors import CommandError, ErrorCode
from deskbridge.studio.errors import StudioError
from deskbridge.studio.suno import tokens
from deskbridge.studio.suno.endpoints import Endpoints
from deskbridge.studio.suno.errors import SunoError
from deskbridge.studio.suno.models import Clip, Workspace, clip_of
from deskbridge.studio.suno.retry import RETRY_STATUSES, RetryPolicy

Sleep = Callable[[float], Awaitable[None]]
TokenSource = Callable[[], Awaitable[str]]
T = TypeVar("T")

MAX_PAGES: Final = 10_000
"""A feed that claims more pages than this is broken; stop rather than loop forever."""
_METERED_RETRY: Final = frozenset({429})
Raw = dict[str, Any]
"""A clip as Suno sent it."""


class FeedPage(msgspec.Struct):
    clips: list[Raw]
    has_more: bool = False


class FeedV3Page(msgspec.Struct):
    clips: list[Raw]
    next_cursor: str | None = None
    has_more: bool = False


class ProfilePage(msgspec.Struct):
    clips: list[Clip] = []


class WorkspacePage(msgspec.Struct):
    projects: list[Workspace] = []


class PlaylistEntry(msgspec.Struct):
    clip: Raw | None = None


class PlaylistPage(msgspec.Struct):
    playlist_clips: list[PlaylistEntry] = []


class DownloadUsage(msgspec.Struct, kw_only=True):
    """``download_usage`` of ``billing/info`` (since 2026-09-03): the period's downloads, and bought ones on top."""

    current_period_downloads_used: int = 0
    current_period_downloads_limit: int = 0
    additional_download_remaining: int = 0

    @property
    def remaining(self) -> int:
        """What Suno's web app shows: the period's downloads left, plus those bought on top."""
        period = self.current_period_downloads_limit - self.current_period_downloads_used
        return max(0, period) + max(0, self.additional_download_remaining)


class BillingInfo(msgspec.Struct, kw_only=True):
    download_usage: DownloadUsage | None = None


class DownloadAuthorization(msgspec.Struct, kw_only=True):
    ok: bool
    already_unlocked: bool | None = None
    credit_deducted: bool | None = None
    reason: str | None = None
    message: str | None = None


class DownloadPoll(msgspec.Struct, kw_only=True):
    """One answer of ``download/clip``: ``processing``, ``rate_limited``, ``ready`` (with the URL) or ``error``."""

    ok: bool | None = None
    status: str | None = None
    download_url: str | None = None
    reason: str | None = None
    message: str | None = None
    detail: str | None = None


class SunoClient:
    def __init__(
        self,
        http: httpx.AsyncClient,
        endpoints: Endpoints,
        token: str,
        *,
        refresh_token: TokenSource | None = None,
        retry: RetryPolicy | None = None,
        sleep: Sleep = asyncio.sleep,
        page_delay: float = 0.0,
        refresh_margin: float = 10.0,
        device_id: str | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._http = http
        self.endpoints = endpoints
        self._token = token
        self._refresh = refresh_token
        self._retry = retry or RetryPolicy()
        self._sleep = sleep
        self._page_delay = page_delay
        self._margin = refresh_margin
        self._device_id = device_id
        self._clock = clock
        self._refresh_lock = asyncio.Lock()

    # -- what the studio asks -------------------------------------------------

    async def check_session(self) -> dict[str, Any]:
        """Suno's billing info (credits, plan, download usage): the cheapest proof that the session works."""
        response = await self._request("GET", self.endpoints.billing_path)
        return self._decode(response, dict[str, Any])

    async def billing(self) -> BillingInfo:
        """The billing info the downloads need: ``download_usage`` (``None`` if Suno did not send it)."""
        return self._decode(await self._request("GET", self.endpoints.billing_path), BillingInfo)

    async def library(self, *, known_ids: Collection[str] = ()) -> list[Clip]:
        """The clips of :meth:`library_raw`, typed (those without a valid id left out)."""
        return [clip for clip in map(clip_of, await self.library_raw(known_ids=known_ids)) if clip is not None]

    async def library_raw(self, *, known_ids: Collection[str] = ()) -> list[Raw]:
        """The library feed's clips as Suno sent them, newest first, from v2 page 0 until ``has_more`` is false.

        The feed holds the sources of covers and remixes too, whoever made
        them: callers that want the account's own clips check the owner. A
        rescan passes the ids it already has: listing stops after the first
        page made only of known clips (the feed is newest first, so the rest
        is known too); that page's clips are not repeated in the result.
        """
        found: list[Raw] = []
        for page in range(MAX_PAGES):
            if page:
                await self._sleep(self._page_delay)
            params = {**self.endpoints.feed_params, "page": str(page)}
            feed = self._decode(await self._request("GET", self.endpoints.feed_path, params=params), FeedPage)
            if known_ids and feed.clips and all(clip.get("id") in known_ids for clip in feed.clips):
                break
            found.extend(feed.clips)
            if not feed.has_more or not feed.clips:
                break
        return found

    async def library_v3(
        self,
        *,
        user_id: str | None = None,
        workspace_id: str | None = None,
        include_disliked: bool = False,
        include_trashed: bool = False,
    ) -> list[Raw]:
        """Clips through feed v3's cursor, as the web app pages the library: the account's (``user_id``) or a
        workspace's, with the web app's filters (``endpoints.feed_v3_filters``), disliked and trashed ones only
        when asked for."""
        filters = dict(self.endpoints.feed_v3_filters)
        if include_disliked:
            filters.pop("disliked", None)
        if include_trashed:
            filters.pop("trashed", None)
        if workspace_id is not None:
            filters["workspace"] = {"presence": "True", "workspaceId": workspace_id}
        elif user_id is not None:
            filters["user"] = {"presence": "True", "userId": user_id}
        found: list[Raw] = []
        cursor: str | None = None
        seen: set[str] = set()
        for page in range(MAX_PAGES):
            if page:
                await self._sleep(self._page_delay)
            body = {"cursor": cursor, "limit": self.endpoints.feed_v3_limit, "filters": filters}
            feed = self._decode(await self._request("POST", self.endpoints.feed_v3_path, json=body), FeedV3Page)
            found.extend(feed.clips)
            if not feed.has_more or not feed.next_cursor or feed.next_cursor in seen or not feed.clips:
                break
            cursor = feed.next_cursor
            seen.add(cursor)
        return found

    async def workspaces(self) -> list[Workspace]:
        """The account's workspaces (``/api/project/me``), pages from 1 until one comes back empty."""
        found: list[Workspace] = []
        for page in range(1, MAX_PAGES):
            if page > 1:
                await self._sleep(self._page_delay)
            params = {**self.endpoints.workspaces_params, "page": str(page)}
            projects = self._decode(
                await self._request("GET", self.endpoints.workspaces_path, params=params), WorkspacePage
            ).projects
            fresh = [space for space in projects if space.id not in {known.id for known in found}]
            if not fresh:
                break
            found.extend(fresh)
        return found

    async def playlist_clips(self, playlist_id: str) -> list[Raw]:
        """A playlist's clips as Suno sent them, pages from 1 until one brings nothing new; ``INVALID_PAYLOAD`` if
        Suno has no such playlist (or it is someone else's private one)."""
        found: list[Raw] = []
        seen: set[str] = set()
        for page in range(1, MAX_PAGES):
            if page > 1:
                await self._sleep(self._page_delay)
            response = await self._request(
                "GET", self.endpoints.playlist_path, params={"page": str(page)}, ids={"id": playlist_id}
            )
            if response.status_code == 404:
                raise CommandError(
                    ErrorCode.INVALID_PAYLOAD, f"Suno has no playlist {playlist_id!r} that this account can see"
                )
            entries = self._decode(response, PlaylistPage).playlist_clips
            fresh = [entry.clip for entry in entries if entry.clip is not None and entry.clip.get("id") not in seen]
            if not fresh:
                break
            seen.update(str(clip.get("id")) for clip in fresh)
            found.extend(fresh)
        return found

    async def account_user_id(self) -> str | None:
        """The account's Suno user id, from its session token (what its own clips carry as ``user_id``)."""
        return tokens.string_claim(await self._fresh_token(), self.endpoints.user_id_claim)

    async def account_handle(self) -> str | None:
        return tokens.string_claim(await self._fresh_token(), self.endpoints.handle_claim)

    async def profile_clips(self, handle: str) -> list[Clip]:
        """The public clips of ``handle`` (``@name`` or ``name``), from page 1 until a page comes back empty."""
        name = handle.strip().removeprefix("@")
        if not name:
            raise CommandError(ErrorCode.INVALID_PAYLOAD, "a profile handle is needed, like @name")
        found: list[Clip] = []
        for page in range(1, MAX_PAGES):
            if page > 1:
                await self._sleep(self._page_delay)
            params = {**self.endpoints.profile_params, "page": str(page)}
            response = await self._request("GET", self.endpoints.profile_path, params=params, ids={"handle": name})
            if response.status_code == 404:
                raise CommandError(ErrorCode.INVALID_PAYLOAD, f"Suno has no profile @{name}")
            clips = self._decode(response, ProfilePage).clips
            if not clips:
                break
            found.extend(clips)
        return found

    async def clip(self, clip_id: str) -> Clip:
        response = await self._request("GET", self.endpoints.clip_path, ids={"id": clip_id})
        if response.status_code == 404:
            raise CommandError(StudioError.CLIP_NOT_FOUND, f"Suno has no clip {clip_id!r}")
        return self._decode(response, Clip)

    async def authorize_download(self, clip_id: str) -> DownloadAuthorization:
        """Ask Suno to let this account download a clip; may spend quota or credits, so it is never repeated blindly."""
        response = await self._request(
            "POST",
            self.endpoints.authorize_path,
            json={"item_id": clip_id, "item_type": "clip"},
            metered=True,
        )
        if response.status_code == 404:
            raise CommandError(StudioError.CLIP_NOT_FOUND, f"Suno has no clip {clip_id!r}")
        return self._decode(response, DownloadAuthorization, accept=(200, 400, 402, 403))

    async def download_poll(self, clip_id: str, file_format: str = "mp3") -> DownloadPoll:
        """One look at a clip's file in a format: ready (with its URL), still processing, rate limited, or an
        error; the downloads wing does the waiting. A 403 is read like a 200 (Suno's answer
        says why)."""
        response = await self._request(
            "GET", self.endpoints.download_path, params={"format": file_format}, ids={"id": clip_id}
        )
        if response.status_code == 404:
            raise CommandError(StudioError.CLIP_NOT_FOUND, f"Suno has no clip {clip_id!r}")
        return self._decode(response, DownloadPoll, accept=(200, 400, 403))

    # -- the plumbing ---------------------------------------------------------

    async def _request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str] | None = None,
        json: Any = None,
        ids: Mapping[str, str] | None = None,
        metered: bool = False,
    ) -> httpx.Response:
        """One API call with its retries and at most one token refresh; the answer of the last try.

        A ``metered`` call may have spent something once Suno received it, so
        it is retried only on 429 (refused unprocessed), never after a
        connection failure.
        """
        url = self.endpoints.api(path, **(ids or {}))
        retry_statuses = _METERED_RETRY if metered else RETRY_STATUSES
        refreshed = False
        failures = 0
        while True:
            token = await self._fresh_token()
            try:
                response = await self._http.request(method, url, params=params, json=json, headers=self._headers(token))
            except httpx.TransportError as exc:
                failures += 1
                if metered or failures >= self._retry.attempts:
                    raise SunoError(f"cannot reach Suno ({method} {path}): {exc!r}") from None
                await self._sleep(self._retry.delay(failures))
                continue
            if response.status_code == 401:
                if refreshed or self._refresh is None:
                    raise CommandError(
                        StudioError.SESSION_NOT_FOUND, "Suno refused the session token: sign in to Suno again"
                    )
                await self._replace_token(token)
                refreshed = True
                continue
            if response.status_code in retry_statuses and failures + 1 < self._retry.attempts:
                failures += 1
                await self._sleep(self._retry.delay(failures, response.headers.get("retry-after")))
                continue
            return response

    def _decode(self, response: httpx.Response, shape: type[T], accept: tuple[int, ...] = (200,)) -> T:
        path = response.request.url.path
        if response.status_code not in accept:
            raise SunoError(f"Suno answered HTTP {response.status_code} to {path}", response.status_code)
        try:
            return msgspec.json.decode(response.content, type=shape, strict=False)
        except msgspec.DecodeError as exc:
            raise SunoError(f"Suno's answer to {path} was not what the studio expects: {exc}") from None

    def _headers(self, token: str) -> dict[str, str]:
        headers = {
            "Authorization": f"Bearer {token}",
            "Origin": self.endpoints.site_origin,
            "Referer": self.endpoints.site_origin + "/",
        }
        if self._device_id:
            headers["device-id"] = self._device_id
        return headers

    async def _fresh_token(self) -> str:
        """The current token, refreshed first when it is about to expire (and a refresher was given)."""
        if self._refresh is not None and tokens.expires_within(self._token, self._margin, self._clock()):
            await self._replace_token(self._token)
        return self._token

    async def _replace_token(self, stale: str) -> None:
        """Replace ``stale`` by a new token, once however many concurrent calls found it stale."""
        assert self._refresh is not None
        async with self._refresh_lock:
            if self._token == stale:
                self._token = await self._refresh()
