"""The stand-in itself: Suno's shapes, real media files, and each fault as a raw HTTP client sees it."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import httpx
import mutagen.mp3
import pytest

from deskbridge_standins.suno import StandinControl
from deskbridge_standins.suno.media import flat_jpeg, silent_mp3


def test_the_mp3_is_a_real_silent_stream(tmp_path: Path) -> None:
    path = tmp_path / "silence.mp3"
    path.write_bytes(silent_mp3(1_000_000))
    info = mutagen.mp3.MP3(path).info
    assert (info.bitrate, info.sample_rate, info.channels) == (128_000, 44_100, 1)
    assert info.length == pytest.approx(62.5, abs=0.1)
    assert 990_000 < path.stat().st_size <= 1_000_000


def test_the_jpeg_is_baseline_labelled_and_padded_to_size() -> None:
    image = flat_jpeg("cover of abc", 5000)
    assert len(image) == 5000
    assert image.startswith(b"\xff\xd8\xff\xe0")
    assert image.endswith(b"\xff\xd9")
    assert b"\xff\xc0\x00\x0b\x08\x00\x08\x00\x08\x01" in image, "SOF0: baseline, 8x8, one component"
    assert b"cover of abc" in image
    assert flat_jpeg("a") != flat_jpeg("b")


def test_it_runs_as_a_module_and_prints_its_base_url() -> None:
    command = [sys.executable, "-m", "deskbridge_standins.suno", "--port", "0", "--clips", "3"]
    with subprocess.Popen(command, stdout=subprocess.PIPE, text=True) as process:
        try:
            assert process.stdout is not None
            line = json.loads(process.stdout.readline())
            token = httpx.post(f"{line['base_url']}/_control/session", json={}).json()["jwt"]
            feed = httpx.get(
                f"{line['endpoints']['api_base']}/api/feed/v2", headers={"Authorization": f"Bearer {token}"}
            ).json()
            assert len(feed["clips"]) == 3
            assert line["endpoints"]["clerk_base"] == f"{line['base_url']}/clerk"
        finally:
            process.terminate()


def test_sign_in_sets_both_cookies_and_clerk_turns_the_client_cookie_into_tokens(suno: StandinControl) -> None:
    with httpx.Client(base_url=suno.base_url) as browser:
        page = browser.get("/sign-in")
        assert "window.Clerk = {session:" in page.text
        assert "getToken" in page.text
        assert browser.cookies.get("__session", path="/") is not None
        client_cookie = browser.cookies.get("__client", path="/clerk")
        assert client_cookie is not None
        sid = browser.get("/clerk/v1/client").json()["response"]["last_active_session_id"]
        assert sid in page.text
        jwt = browser.post(f"/clerk/v1/client/sessions/{sid}/tokens").json()["jwt"]
    billing = httpx.get(f"{suno.base_url}/api/billing/info/", headers={"Authorization": f"Bearer {jwt}"})
    assert billing.status_code == 200
    assert httpx.post(f"{suno.base_url}/clerk/v1/client/sessions/{sid}/tokens").status_code == 401


def test_tokens_expire_and_revoked_sessions_stop_working(suno: StandinControl) -> None:
    billing = f"{suno.base_url}/api/billing/info/"
    expired = suno.session(lifetime=-1)["jwt"]
    assert httpx.get(billing, headers={"Authorization": f"Bearer {expired}"}).status_code == 401
    live = suno.session()["jwt"]
    answer = httpx.get(billing, headers={"Authorization": f"Bearer {live}"}).json()
    assert {"credits", "plan", "download_usage"} <= answer.keys()
    suno.revoke()
    assert httpx.get(billing, headers={"Authorization": f"Bearer {live}"}).status_code == 401


def test_feeds_page_newest_first_in_suno_shapes(suno: StandinControl) -> None:
    suno.seed(*({} for _ in range(45)))
    auth = {"Authorization": f"Bearer {suno.session()['jwt']}"}
    pages = [httpx.get(f"{suno.base_url}/api/feed/v2?page={n}", headers=auth).json() for n in range(3)]
    assert [len(page["clips"]) for page in pages] == [20, 20, 5]
    assert [page["has_more"] for page in pages] == [True, True, False]
    assert [page["current_page"] for page in pages] == [0, 1, 2]
    dates = [clip["created_at"] for page in pages for clip in page["clips"]]
    assert dates == sorted(dates, reverse=True)
    first = pages[0]["clips"][0]
    fields = {"id", "title", "status", "audio_url", "image_url", "image_large_url", "display_name", "handle"}
    assert fields <= first.keys()
    assert {"prompt", "tags", "duration", "type"} <= first["metadata"].keys()

    v3 = httpx.post(f"{suno.base_url}/api/feed/v3", json={"cursor": None, "limit": 30}, headers=auth).json()
    rest = httpx.post(f"{suno.base_url}/api/feed/v3", json={"cursor": v3["next_cursor"], "limit": 30}, headers=auth)
    assert [len(v3["clips"]), len(rest.json()["clips"]), rest.json()["has_more"]] == [30, 15, False]

    profile = [httpx.get(f"{suno.base_url}/api/profiles/standin?page={n}").json()["clips"] for n in (1, 2, 3, 4)]
    assert [len(clips) for clips in profile] == [20, 20, 5, 0]


def test_files_are_served_whole_or_by_range(suno: StandinControl) -> None:
    (clip,) = suno.seed({})
    whole = httpx.get(clip["audio_url"])
    assert (whole.status_code, whole.headers["content-type"]) == (200, "audio/mpeg")
    tail = httpx.get(clip["audio_url"], headers={"Range": "bytes=1000-"})
    assert tail.status_code == 206
    assert tail.headers["content-range"] == f"bytes 1000-{len(whole.content) - 1}/{len(whole.content)}"
    assert tail.content == whole.content[1000:]
    assert httpx.get(clip["audio_url"], headers={"Range": f"bytes={len(whole.content)}-"}).status_code == 416
    cover = httpx.get(clip["image_large_url"])
    assert cover.headers["content-type"] == "image/jpeg"
    assert cover.content.startswith(b"\xff\xd8")


def test_locked_clips_are_unlocked_within_the_allowance_then_prepared_in_every_format(suno: StandinControl) -> None:
    first, second = suno.seed({"audio_url": suno.forbidden_url}, {"audio_url": suno.forbidden_url})
    suno.downloads(limit=2, used=1, processing={"wav": 1})
    auth = {"Authorization": f"Bearer {suno.session()['jwt']}"}
    api = httpx.Client(base_url=suno.base_url, headers=auth)
    assert httpx.get(first["audio_url"]).status_code == 403
    assert api.get(f"/api/download/clip/{first['id']}").json()["reason"] == "not_authorized"

    def authorize(clip_id: str) -> dict[str, object]:
        answer: dict[str, object] = api.post(
            "/api/download/authorize", json={"item_id": clip_id, "item_type": "clip"}
        ).json()
        return answer

    usage = api.get("/api/billing/info/").json()["download_usage"]
    assert (usage["current_period_downloads_used"], usage["current_period_downloads_limit"]) == (1, 2)
    assert authorize(first["id"]) == {"ok": True, "already_unlocked": False, "credit_deducted": True}
    assert authorize(first["id"]) == {"ok": True, "already_unlocked": True, "credit_deducted": False}
    refused = authorize(second["id"])
    assert (refused["ok"], refused["credit_deducted"]) == (False, False)
    assert api.get("/api/billing/info/").json()["download_usage"]["current_period_downloads_used"] == 2
    heads = {"mp3": b"\xff\xfb", "m4a": b"\x00\x00\x00\x1cftypM4A ", "wav": b"RIFF", "mp4": b"\x00\x00\x00\x1cftypisom"}
    types = {"mp3": "audio/mpeg", "m4a": "audio/mp4", "wav": "audio/wav", "mp4": "video/mp4"}
    for fmt, head in heads.items():
        poll = api.get(f"/api/download/clip/{first['id']}", params={"format": fmt}).json()
        if fmt == "wav":
            assert poll == {"ok": True, "status": "processing"}
            poll = api.get(f"/api/download/clip/{first['id']}", params={"format": fmt}).json()
        assert poll["status"] == "ready"
        file = httpx.get(poll["download_url"])
        assert file.headers["content-type"] == types[fmt]
        assert file.content.startswith(head)
        assert httpx.get(poll["download_url"].replace("sig=", "sig=x")).status_code == 403


def test_feed_v3_pages_by_cursor_with_the_web_app_s_filters_and_v2_holds_foreign_clips(suno: StandinControl) -> None:
    suno.settings(page_size=2)
    seeded = suno.seed(
        {"title": "mine 1", "project": {"id": "w1", "name": "Demos"}},
        {"title": "a cover's source", "handle": "someone"},
        {"title": "mine 2", "is_trashed": True},
        {"title": "mine 3"},
    )
    api = httpx.Client(base_url=suno.base_url, headers={"Authorization": f"Bearer {suno.session()['jwt']}"})
    assert [clip["title"] for clip in api.get("/api/feed/v2").json()["clips"]] == ["mine 1", "a cover's source"]
    mine = {"presence": "True", "userId": seeded[0]["user_id"]}
    titles, cursor = [], None
    while True:
        page = api.post(
            "/api/feed/v3", json={"cursor": cursor, "limit": 2, "filters": {"user": mine, "trashed": "False"}}
        )
        titles += [clip["title"] for clip in page.json()["clips"]]
        cursor = page.json()["next_cursor"]
        if not page.json()["has_more"]:
            break
    assert titles == ["mine 1", "mine 3"]
    assert seeded[1]["user_id"] != seeded[0]["user_id"]
    workspace = {"workspace": {"presence": "True", "workspaceId": "w1"}}
    assert [
        c["title"] for c in api.post("/api/feed/v3", json={"cursor": None, "filters": workspace}).json()["clips"]
    ] == ["mine 1"]
    assert api.post("/api/feed/v3", json={"cursor": "nonsense", "limit": 2}).status_code == 422
    projects = api.get("/api/project/me", params={"page": 1}).json()["projects"]
    assert {project["id"] for project in projects} == {"default", "w1"}


def test_playlists_page_from_one_and_a_private_one_is_its_owner_s(suno: StandinControl) -> None:
    clips = suno.seed(*({"title": f"song {n}"} for n in range(25)))
    (public, private) = suno.playlists(
        {"name": "Theirs", "clip_ids": [clip["id"] for clip in clips], "owner_handle": "someone"},
        {"name": "Mine", "clip_ids": [clips[0]["id"]], "is_public": False},
    )
    pages = [httpx.get(f"{suno.base_url}/api/playlist/{public['id']}", params={"page": n}).json() for n in (0, 1, 2)]
    assert pages[0]["playlist_clips"] == pages[1]["playlist_clips"], "page 0 repeats page 1"
    assert [len(page["playlist_clips"]) for page in pages] == [20, 20, 5]
    assert pages[2]["playlist_clips"][0]["relative_index"] == 20
    assert httpx.get(f"{suno.base_url}/api/playlist/{private['id']}").status_code == 401
    auth = {"Authorization": f"Bearer {suno.session()['jwt']}"}
    mine = httpx.get(f"{suno.base_url}/api/playlist/{private['id']}", headers=auth).json()
    assert [entry["clip"]["id"] for entry in mine["playlist_clips"]] == [clips[0]["id"]]


def test_fault_rules_count_their_matches(suno: StandinControl) -> None:
    (clip,) = suno.seed({})
    suno.faults(
        {"path": "/cdn/*.mp3", "status": 403, "times": 1},
        {"path": "/cdn/image_*", "status": 503, "skip": 1, "times": 2, "headers": {"Retry-After": "1"}},
    )
    assert [httpx.get(clip["audio_url"]).status_code for _ in range(2)] == [403, 200]
    covers = [httpx.get(clip["image_url"]) for _ in range(4)]
    assert [cover.status_code for cover in covers] == [200, 503, 503, 200]
    assert covers[1].headers["retry-after"] == "1"


def test_a_cut_drops_the_connection_mid_body_and_a_short_file_has_an_honest_length(suno: StandinControl) -> None:
    (clip,) = suno.seed({})
    suno.faults({"path": "/cdn/*.mp3", "kind": "cut", "after_bytes": 5000, "times": 1})
    with pytest.raises(httpx.RemoteProtocolError):
        httpx.get(clip["audio_url"])
    suno.faults({"path": "/cdn/*.mp3", "kind": "short", "after_bytes": 5000, "times": 1})
    short = httpx.get(clip["audio_url"])
    assert (short.status_code, len(short.content), short.headers["content-length"]) == (200, 5000, "5000")


def test_a_fault_can_answer_html_with_200(suno: StandinControl) -> None:
    (clip,) = suno.seed({})
    suno.faults({"path": "/cdn/*", "status": 200, "content_type": "text/html", "body": "<html>busy</html>"})
    answer = httpx.get(clip["audio_url"])
    assert (answer.status_code, answer.headers["content-type"], answer.text) == (
        200,
        "text/html; charset=utf-8",
        "<html>busy</html>",
    )


def test_requests_are_recorded_with_their_range_and_whether_they_carried_a_token(suno: StandinControl) -> None:
    (clip,) = suno.seed({})
    httpx.get(clip["audio_url"], headers={"Range": "bytes=10-"})
    httpx.get(f"{suno.base_url}/api/clip/{clip['id']}", headers={"Authorization": "Bearer nope"})
    seen = suno.requests()
    assert [(r["method"], r["path"], r["range"], r["bearer"]) for r in seen] == [
        ("GET", f"/cdn/{clip['id']}.mp3", "bytes=10-", False),
        ("GET", f"/api/clip/{clip['id']}", None, True),
    ]
    assert suno.requests("/api/*") == seen[1:]
