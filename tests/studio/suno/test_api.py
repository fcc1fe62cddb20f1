"""The Suno client against the stand-in: paging, retries, token refresh, and what it refuses to repeat."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from deskbridge.errors import CommandError, ErrorCode
from deskbridge.studio.errors import StudioError
from deskbridge.studio.suno.api import SunoClient
from deskbridge.studio.suno.clerk import ClerkSession
from deskbridge.studio.suno.endpoints import Endpoints
from deskbridge.studio.suno.errors import SunoError
from deskbridge_standins.suno import StandinControl
from tests.studio.suno.support import FastSleep, client_for

pytestmark = pytest.mark.anyio


class CountingRefresh:
    """A ``refresh_token`` callback that gets real tokens from the stand-in and counts its calls."""

    def __init__(self, suno: StandinControl) -> None:
        self.suno = suno
        self.calls = 0

    async def __call__(self) -> str:
        self.calls += 1
        return self.suno.session()["jwt"]


async def test_the_library_is_every_feed_page_from_page_zero(
    suno: StandinControl, http: httpx.AsyncClient, sleep: FastSleep
) -> None:
    seeded = suno.seed(*({} for _ in range(45)))
    client = SunoClient(http, suno.endpoints, suno.session()["jwt"], sleep=sleep, page_delay=1.5)
    clips = await client.library()
    assert [clip.id for clip in clips] == [clip["id"] for clip in seeded], "all 45, newest first"
    assert [r["query"].split("page=")[1] for r in suno.requests("/api/feed/v2")] == ["0", "1", "2"]
    assert all("hide_disliked=true" in r["query"] for r in suno.requests("/api/feed/v2"))
    assert sleep.delays == [1.5, 1.5], "paced between pages, not before the first"
    assert clips[0].metadata.prompt
    assert clips[0].display_name == "Stand-in Artist"


async def test_a_rescan_stops_at_the_first_page_it_already_knows(
    suno: StandinControl, http: httpx.AsyncClient, sleep: FastSleep
) -> None:
    old = suno.seed(*({} for _ in range(50)))
    new = suno.seed(*({} for _ in range(3)), replace=False)
    clips = await client_for(suno, http, sleep).library(known_ids={clip["id"] for clip in old})
    assert [clip.id for clip in clips][:3] == [clip["id"] for clip in new]
    assert len(suno.requests("/api/feed/v2")) == 2, "page 1 was all known: pages 2 and 3 are never fetched"


async def test_a_profile_is_read_from_page_one_until_an_empty_page(
    suno: StandinControl, http: httpx.AsyncClient, sleep: FastSleep
) -> None:
    suno.seed(*({"handle": "someone", "is_public": n % 2 == 0} for n in range(50)), {"title": "mine"})
    clips = await client_for(suno, http, sleep).profile_clips("@someone")
    assert len(clips) == 25
    assert {clip.handle for clip in clips} == {"someone"}
    assert [r["query"] for r in suno.requests("/api/profiles/someone")] == [
        f"clips_sort_by=created_at&page={n}" for n in (1, 2, 3)
    ]
    with pytest.raises(CommandError) as caught:
        await client_for(suno, http, sleep).profile_clips("@nobody")
    assert caught.value.code is ErrorCode.INVALID_PAYLOAD


async def test_one_clip_or_clip_not_found(suno: StandinControl, http: httpx.AsyncClient, sleep: FastSleep) -> None:
    (seeded,) = suno.seed({"title": "Ünïcode ✓", "metadata": {"tags": "jazz"}})
    client = client_for(suno, http, sleep)
    clip = await client.clip(seeded["id"])
    assert (clip.title, clip.metadata.tags, clip.status) == ("Ünïcode ✓", "jazz", "complete")
    with pytest.raises(CommandError) as caught:
        await client.clip("no-such-clip")
    assert caught.value.code is StudioError.CLIP_NOT_FOUND


async def test_429_waits_as_long_as_retry_after_says(
    suno: StandinControl, http: httpx.AsyncClient, sleep: FastSleep
) -> None:
    suno.faults({"path": "/api/billing/info/", "status": 429, "times": 2, "headers": {"Retry-After": "3"}})
    billing = await client_for(suno, http, sleep).check_session()
    assert billing["plan"]["name"] == "Pro Plan"
    assert sleep.delays == [3, 3]


async def test_5xx_backs_off_exponentially_then_gives_up(
    suno: StandinControl, http: httpx.AsyncClient, sleep: FastSleep
) -> None:
    suno.faults({"path": "/api/feed/v2", "status": 503, "times": 2})
    suno.seed({})
    assert len(await client_for(suno, http, sleep).library()) == 1
    assert sleep.delays == [2, 4]

    suno.faults({"path": "/api/feed/v2", "status": 502, "times": None})
    with pytest.raises(SunoError) as caught:
        await client_for(suno, http, sleep).library()
    assert caught.value.status == 502
    assert "502" in caught.value.message
    assert len(suno.requests("/api/feed/v2")) == 3 + 4, "4 tries in all for the failing call"


async def test_a_401_is_answered_by_one_refresh_and_the_call_goes_through(
    suno: StandinControl, http: httpx.AsyncClient, sleep: FastSleep
) -> None:
    refresh = CountingRefresh(suno)
    client = client_for(suno, http, sleep, refresh_token=refresh)
    suno.faults({"path": "/api/billing/info/", "status": 401, "times": 1})
    await client.check_session()
    assert refresh.calls == 1
    assert [r["path"] for r in suno.requests()] == ["/api/billing/info/"] * 2


async def test_a_token_about_to_expire_is_refreshed_before_it_is_sent(
    suno: StandinControl, http: httpx.AsyncClient, sleep: FastSleep
) -> None:
    refresh = CountingRefresh(suno)
    client = SunoClient(http, suno.endpoints, suno.session(lifetime=5)["jwt"], refresh_token=refresh, sleep=sleep)
    await client.check_session()
    await client.check_session()
    assert refresh.calls == 1, "refreshed early (5 s left < 10 s margin), then the new token lasts"
    assert len(suno.requests("/api/billing/info/")) == 2, "no 401 round trip"


async def test_a_second_401_means_the_session_is_gone(
    suno: StandinControl, http: httpx.AsyncClient, sleep: FastSleep
) -> None:
    refresh = CountingRefresh(suno)
    token = suno.session()["jwt"]
    client = client_for(suno, http, sleep, token=token, refresh_token=refresh)
    suno.faults({"path": "/api/billing/info/", "status": 401, "times": None})
    with pytest.raises(CommandError) as caught:
        await client.check_session()
    assert caught.value.code is StudioError.SESSION_NOT_FOUND
    assert refresh.calls == 1
    assert token not in caught.value.message

    without_refresh = client_for(suno, http, sleep)
    with pytest.raises(CommandError) as caught:
        await without_refresh.check_session()
    assert caught.value.code is StudioError.SESSION_NOT_FOUND


async def test_concurrent_401s_share_one_refresh(
    suno: StandinControl, http: httpx.AsyncClient, sleep: FastSleep
) -> None:
    refresh = CountingRefresh(suno)
    client = client_for(suno, http, sleep, token=suno.session(lifetime=-1)["jwt"], refresh_token=refresh)
    await asyncio.gather(*(client.check_session() for _ in range(5)))
    assert refresh.calls == 1


async def test_clerk_turns_the_client_cookie_into_fresh_tokens_until_the_session_is_revoked(
    suno: StandinControl, http: httpx.AsyncClient, sleep: FastSleep
) -> None:
    session = suno.session()
    clerk = ClerkSession(http, suno.endpoints, session["client"])
    client = SunoClient(http, suno.endpoints, suno.session(lifetime=-1)["jwt"], refresh_token=clerk.token, sleep=sleep)
    assert "credits" in await client.check_session()
    assert [r["path"] for r in suno.requests("/clerk/*")] == [
        "/clerk/v1/client",
        f"/clerk/v1/client/sessions/{session['session_id']}/tokens",
    ]
    suno.revoke()
    with pytest.raises(CommandError) as caught:
        await clerk.token()
    assert caught.value.code is StudioError.SESSION_NOT_FOUND


async def test_authorize_is_never_retried_after_a_server_error_but_is_after_429(
    suno: StandinControl, http: httpx.AsyncClient, sleep: FastSleep
) -> None:
    (clip,) = suno.seed({"audio_url": suno.forbidden_url})
    client = client_for(suno, http, sleep)
    suno.faults({"path": "/api/download/authorize", "status": 500, "times": 1})
    with pytest.raises(SunoError):
        await client.authorize_download(clip["id"])
    assert len(suno.requests("/api/download/authorize")) == 1

    suno.faults({"path": "/api/download/authorize", "status": 429, "times": 1, "headers": {"Retry-After": "2"}})
    authorization = await client.authorize_download(clip["id"])
    assert authorization.ok
    assert len(suno.requests("/api/download/authorize")) == 3


async def test_a_download_poll_is_one_look_and_billing_says_the_allowance(
    suno: StandinControl, http: httpx.AsyncClient, sleep: FastSleep
) -> None:
    (clip,) = suno.seed({"audio_url": suno.forbidden_url})
    suno.downloads(limit=20, used=5, additional=2, processing={"wav": 1})
    client = client_for(suno, http, sleep)
    usage = (await client.billing()).download_usage
    assert usage is not None
    assert usage.remaining == 17
    locked = await client.download_poll(clip["id"], "wav")
    assert (locked.ok, locked.reason) == (False, "not_authorized")
    authorization = await client.authorize_download(clip["id"])
    assert (authorization.ok, authorization.already_unlocked, authorization.credit_deducted) == (True, False, True)
    assert (await client.download_poll(clip["id"], "wav")).status == "processing"
    ready = await client.download_poll(clip["id"], "wav")
    assert ready.status == "ready"
    assert ready.download_url is not None
    assert ready.download_url.startswith(f"{suno.base_url}/cdn/authorized/{clip['id']}.wav?sig=")
    assert sleep.delays == [], "the waiting is the caller's"
    again = await client.authorize_download(clip["id"])
    assert (again.ok, again.already_unlocked, again.credit_deducted) == (True, True, False)
    usage = (await client.billing()).download_usage
    assert usage is not None
    assert usage.remaining == 16


async def test_an_unreachable_suno_is_a_clear_error(http: httpx.AsyncClient, sleep: FastSleep) -> None:
    client = SunoClient(http, Endpoints(api_base="http://127.0.0.1:9"), "token", sleep=sleep)
    with pytest.raises(SunoError, match="cannot reach Suno"):
        await client.check_session()
    assert sleep.delays == [2, 4, 8, 16]
