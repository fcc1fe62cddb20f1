"""Downloads against Suno's download allowance, in every format, from every place songs are kept: over stdio.

The stand-in speaks Suno's shapes of Sept-Dec 2026: ``billing/info``'s
``download_usage``, ``download/authorize`` answers, ``download/clip`` polls
that say ``processing``, ``rate_limited``, ``ready`` or ``error``, files of
each format with their real headers, feed v3 cursors, playlists and
workspaces, and other people's clips in the v2 feed.
"""

from __future__ import annotations

import json
import os
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from mutagen.id3 import ID3
from mutagen.mp4 import MP4
from mutagen.wave import WAVE

from deskbridge_standins.suno import StandinControl
from tests.studio.standin_studio import FAST_PREPARATION, events_of, studio_on, terminal
from tests.studio.suno import support
from tests.support import BackendProcess

standin, suno = support.standin, support.suno


@pytest.fixture
def token(suno: StandinControl) -> str:
    return suno.session()["jwt"]


def run(studio: BackendProcess, command: str, payload: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    started = studio.ok(command, payload)
    return started["operation_id"], terminal(studio, started["operation_id"])


def locked(suno: StandinControl, *titles: str, **fields: Any) -> list[dict[str, Any]]:
    return suno.seed(*({"title": title, "audio_url": suno.forbidden_url, **fields} for title in titles))


def batch(token: str, clips: list[dict[str, Any]], out: Path, **fields: Any) -> dict[str, Any]:
    return {"session_token": token, "account_name": "ada", "clips": clips, "output_dir": str(out), **fields}


def first_event(studio: BackendProcess, operation: str) -> dict[str, Any]:
    return next(e for e in events_of(studio, operation) if "allowance" in e)


def test_the_default_never_authorizes(
    studio: BackendProcess, suno: StandinControl, token: str, ada: str, tmp_path: Path
) -> None:
    clips = locked(suno, "one", "two")
    suno.downloads(limit=20, used=3)

    operation, done = run(studio, "BATCH_DOWNLOAD", batch(token, clips, tmp_path))

    assert done["status"] == "failed"
    assert first_event(studio, operation)["allowance"] == {
        "needed": 2,
        "will_authorize": 0,
        "authorize": False,
        "remaining": 17,
        "limit": 20,
        "used": 3,
        "additional": 0,
    }
    files = done["details"]["files"]
    assert [f["reason"] for f in files] == ["authorization_required", "authorization_required"]
    assert files[0]["details"]["remaining"] == 17
    assert '"authorize": true' in files[0]["message"]
    assert suno.requests("/api/download/*") == [], "nothing authorized, nothing prepared"
    assert list(tmp_path.iterdir()) == []


def test_authorize_with_one_of_two_remaining_authorizes_exactly_one(
    studio: BackendProcess, suno: StandinControl, token: str, ada: str, tmp_path: Path
) -> None:
    clips = locked(suno, "first", "second")
    suno.downloads(limit=2, used=1)

    operation, done = run(studio, "BATCH_DOWNLOAD", batch(token, clips, tmp_path, authorize=True, parallel=1))

    assert done["status"] == "completed"
    assert first_event(studio, operation)["allowance"]["will_authorize"] == 1
    downloaded, refused = done["result"]["files"]
    assert (downloaded["status"], downloaded["authorized"]) == ("downloaded", True)
    assert (refused["status"], refused["reason"]) == ("failed", "allowance_exhausted")
    assert refused["details"]["needed"] == 2
    assert done["result"]["allowance"] == {
        "needed": 2,
        "authorized": 1,
        "remaining": 0,
        "limit": 2,
        "used": 1,
        "additional": 0,
    }
    assert len(suno.requests("/api/download/authorize")) == 1
    assert suno.downloads()["usage"]["current_period_downloads_used"] == 2
    errors = events_of(studio, operation, "ERROR_UPDATE")
    assert [(e["clip_id"], e["reason"]) for e in errors] == [(clips[1]["id"], "allowance_exhausted")]


def test_an_unlocked_clip_and_a_history_item_cost_nothing(
    studio: BackendProcess, suno: StandinControl, token: str, ada: str, tmp_path: Path
) -> None:
    unlocked, earlier = suno.seed(
        {"title": "unlocked", "audio_url": suno.forbidden_url, "is_download_unlocked": True},
        {"title": "earlier", "audio_url": suno.forbidden_url},
    )
    httpx.post(  # unlocked on Suno by an earlier download: the clip the front end holds still says it is not
        f"{suno.base_url}/api/download/authorize",
        json={"item_id": earlier["id"], "item_type": "clip"},
        headers={"Authorization": f"Bearer {token}"},
    ).raise_for_status()
    studio.ok("RECORD_DOWNLOADS", {"account_name": ada, "clips": [{"id": earlier["id"], "format": "mp3"}]})
    httpx.delete(f"{suno.base_url}/_control/requests").raise_for_status()  # what came before

    for clip in (unlocked, earlier):
        payload = {"session_token": token, "account_name": ada, "clip": clip, "output_dir": str(tmp_path)}
        done = run(studio, "DOWNLOAD_CLIP", {**payload, "format": "wav"})[1]
        assert done["status"] == "completed"
        assert done["result"]["allowance"]["needed"] == 0

    assert suno.requests("/api/download/authorize") == []
    assert suno.requests("/api/billing/info/") == [], "nothing to spend: the allowance is not even read"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["earlier.wav", "unlocked.wav"]
    formats = {(i["clip_id"], i["format"]) for i in studio.ok("GET_DOWNLOAD_HISTORY", {"account_name": ada})["items"]}
    assert formats == {(earlier["id"], "mp3"), (earlier["id"], "wav"), (unlocked["id"], "wav")}
    both = [{"id": unlocked["id"]}, {"id": earlier["id"]}]
    new = {
        fmt: studio.ok("GET_NEW_CLIPS", {"account_name": ada, "all_clips": both, "format": fmt})
        for fmt in ("mp3", "m4a")
    }
    assert (new["mp3"], new["m4a"]) == ([{"id": unlocked["id"]}], both)
    assert studio.ok("GET_NEW_CLIPS", {"account_name": ada, "all_clips": both}) == [], "in any format"


@pytest.mark.parametrize(
    ("hiccup", "polls"), [({"processing": {"wav": 3}}, 4), ({"rate_limited": 2}, 3)], ids=["processing", "rate_limited"]
)
def test_a_wav_suno_is_still_preparing_is_waited_for(
    studio: BackendProcess, suno: StandinControl, token: str, tmp_path: Path, hiccup: dict[str, Any], polls: int
) -> None:
    (clip,) = suno.seed({"title": "Slow", "audio_url": suno.forbidden_url, "is_download_unlocked": True})
    suno.downloads(**hiccup)

    operation, done = run(
        studio, "DOWNLOAD_CLIP", {"session_token": token, "clip": clip, "output_dir": str(tmp_path), "format": "wav"}
    )

    assert done["status"] == "completed"
    assert len(suno.requests(f"/api/download/clip/{clip['id']}")) == polls
    waiting = [e for e in events_of(studio, operation, "DOWNLOAD_PROGRESS") if e.get("stage") == "preparing"]
    assert waiting
    assert "Preparing the WAV of Slow" in waiting[0]["message"]
    last = events_of(studio, operation, "DOWNLOAD_PROGRESS")[-1]
    assert (last["stage"], last["progress"]) == ("downloading", 100)
    assert (tmp_path / "Slow.wav").read_bytes()[:4] == b"RIFF"


def test_suno_s_error_fails_that_clip_with_its_message(
    studio: BackendProcess, suno: StandinControl, token: str, ada: str, tmp_path: Path
) -> None:
    clips = suno.seed(
        {"title": "broken", "audio_url": suno.forbidden_url, "is_download_unlocked": True}, {"title": "fine"}
    )
    suno.downloads(error="The conversion failed.")

    done = run(studio, "BATCH_DOWNLOAD", batch(token, clips, tmp_path, format="mp3"))[1]

    broken, fine = done["result"]["files"]
    assert (broken["status"], broken["reason"]) == ("failed", "preparation_failed")
    assert "The conversion failed." in broken["message"]
    assert fine["status"] == "downloaded", "an old clip's MP3 still comes from the CDN"


def test_each_format_is_checked_for_its_kind_and_tagged(
    studio: BackendProcess, suno: StandinControl, token: str, ada: str, tmp_path: Path
) -> None:
    (clip,) = suno.seed(
        {"title": "Every Format", "display_name": "Ada", "audio_url": suno.forbidden_url, "is_download_unlocked": True}
    )
    song_url = f"{suno.base_url}/song/{clip['id']}"
    day = clip["created_at"][:10]
    for fmt in ("mp3", "m4a", "wav", "mp4"):
        payload = {"session_token": token, "account_name": ada, "clip": clip, "output_dir": str(tmp_path)}
        done = run(studio, "DOWNLOAD_CLIP", {**payload, "format": fmt})[1]
        assert (done["status"], done["result"]["file_name"]) == ("completed", f"Every Format.{fmt}")

    for tags in (ID3(tmp_path / "Every Format.mp3"), WAVE(tmp_path / "Every Format.wav").tags):
        assert (str(tags["TIT2"]), str(tags["TPE1"]), tags.getall("WOAR")[0].url) == ("Every Format", "Ada", song_url)
        assert str(tags["USLT::eng"]) == clip["metadata"]["prompt"]
        assert str(tags["TDRC"]) == day
        assert tags.getall("APIC")[0].data[:3] == b"\xff\xd8\xff"
    for name in ("Every Format.m4a", "Every Format.mp4"):
        mp4 = MP4(tmp_path / name)
        assert mp4.tags is not None
        assert (mp4.tags["\xa9nam"], mp4.tags["\xa9ART"], mp4.tags["\xa9day"]) == (["Every Format"], ["Ada"], [day])
        assert mp4.tags["\xa9gen"] == [clip["metadata"]["tags"]]
        assert bytes(mp4.tags["----:com.apple.iTunes:WEBSITE"][0]).decode() == song_url
        assert bytes(mp4.tags["covr"][0])[:3] == b"\xff\xd8\xff"
        assert mp4.info.length > 0, "the boxes mutagen moved still point at the audio"
    history = studio.ok("GET_DOWNLOAD_HISTORY", {"account_name": ada})["items"]
    assert sorted(item["format"] for item in history) == ["m4a", "mp3", "mp4", "wav"]

    suno.faults(
        {"path": "/cdn/authorized/*.m4a", "status": 200, "content_type": "audio/mp4", "body": "RIFF0000WAVEfmt "}
    )
    wrong = run(
        studio, "DOWNLOAD_CLIP", {"session_token": token, "clip": clip, "output_dir": str(tmp_path), "format": "m4a"}
    )
    assert "the server sent a WAV, not an M4A" in wrong[1]["error"]
    suno.faults({"path": "/cdn/authorized/*.wav", "kind": "short", "after_bytes": 5000})
    cut = run(
        studio, "DOWNLOAD_CLIP", {"session_token": token, "clip": clip, "output_dir": str(tmp_path), "format": "wav"}
    )
    assert "not a whole WAV" in cut[1]["error"]
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".part") or "(2)" in p.name]


def test_my_songs_leave_out_other_people_s_clips(studio: BackendProcess, suno: StandinControl, token: str) -> None:
    suno.seed({"title": "mine"}, {"title": "the source of my cover", "handle": "someone"}, {"title": "mine too"})

    for source in ({"use_my_songs": True}, {"source": "library"}):
        fetched = studio.ok("FETCH_CLIPS", {"session_token": token, **source})
        assert [clip["title"] for clip in fetched["clips"]] == ["mine", "mine too"]
        assert fetched.get("foreign", 0) == (1 if "use_my_songs" in source else 0)
    assert len(suno.requests("/api/feed/v3", "POST")) == 1


def test_a_playlist_and_a_workspace_are_fetched_with_a_backup_s_filters(
    studio: BackendProcess, suno: StandinControl, token: str
) -> None:
    clips = suno.seed(
        {"title": "demo", "project": {"id": "w1", "name": "Demos"}, "is_liked": True},
        {"title": "theirs", "handle": "someone"},
        {"title": "old demo", "project": {"id": "w1", "name": "Demos"}},
        {"title": "elsewhere"},
    )
    (playlist,) = suno.playlists({"name": "Mixed", "clip_ids": [clips[1]["id"], clips[3]["id"]], "owner_handle": "x"})

    fetched = studio.ok("FETCH_CLIPS", {"session_token": token, "source": "playlist", "playlist_id": playlist["id"]})
    assert [clip["title"] for clip in fetched["clips"]] == ["theirs", "elsewhere"]
    assert fetched["playlist_id"] == playlist["id"]

    workspace = {"session_token": token, "source": "workspace", "workspace_id": "w1"}
    assert [c["title"] for c in studio.ok("FETCH_CLIPS", workspace)["clips"]] == ["demo", "old demo"]
    liked = studio.ok("FETCH_CLIPS", {**workspace, "liked_only": True})
    assert ([c["title"] for c in liked["clips"]], liked["filtered"]) == (["demo"], 1)
    dated = studio.ok("FETCH_CLIPS", {**workspace, "created_before": clips[2]["created_at"]})
    assert [c["title"] for c in dated["clips"]] == ["old demo"]

    missing = studio.error("FETCH_CLIPS", {"session_token": token, "source": "playlist"})
    assert missing["details"]["fields"] == ["$.playlist_id"]
    unknown = studio.error("FETCH_CLIPS", {"session_token": token, "source": "playlist", "playlist_id": "nope"})
    assert unknown["error_code"] == "INVALID_PAYLOAD"


def test_a_backup_killed_mid_way_resumes_without_a_second_authorization_or_a_duplicate_file(
    standin: StandinControl, suno: StandinControl, token: str, tmp_path: Path
) -> None:
    clips = locked(suno, "one", "two", "three", "four")
    out = tmp_path / "backup"
    suno.faults({"path": f"/cdn/authorized/{clips[2]['id']}.mp3", "kind": "delay", "seconds": 60})
    payload = batch(token, clips, out, authorize=True, parallel=1, sidecar=True, file_times=True)

    with studio_on(standin, tmp_path / "studio", downloads=FAST_PREPARATION) as first:
        first.ok("CREATE_ACCOUNT", {"name": "ada"})
        first.ok("BATCH_DOWNLOAD", payload)
        deadline = time.monotonic() + 20
        while not suno.requests(f"/cdn/authorized/{clips[2]['id']}.mp3") and time.monotonic() < deadline:
            time.sleep(0.05)
        first.kill()  # SIGKILL, mid-file
    assert len(suno.requests("/api/download/authorize")) == 3
    assert sorted(p.name for p in out.iterdir() if p.suffix in (".mp3", ".part")) == [
        "one.mp3",
        "three.mp3.part",
        "two.mp3",
    ], "killed while the third file was coming"

    suno.faults()
    with studio_on(standin, tmp_path / "studio", downloads=FAST_PREPARATION) as second:
        done = run(second, "BATCH_DOWNLOAD", payload)[1]

    assert done["status"] == "completed"
    assert [f["status"] for f in done["result"]["files"]] == ["skipped", "skipped", "downloaded", "downloaded"]
    assert len(suno.requests("/api/download/authorize")) == 4, "three before the kill, the fourth after: none twice"
    songs = sorted(p.name for p in out.iterdir() if p.suffix == ".mp3")
    assert songs == ["four.mp3", "one.mp3", "three.mp3", "two.mp3"]
    assert sorted(p.name for p in out.iterdir() if not p.name.endswith((".mp3", ".mp3.json"))) == []
    sidecar = json.loads((out / "three.mp3.json").read_text())
    assert (sidecar["id"], sidecar["play_count"]) == (clips[2]["id"], 0), "the clip as Suno gave it, every field"
    created = datetime.fromisoformat(clips[2]["created_at"].replace("Z", "+00:00")).timestamp()
    assert os.stat(out / "three.mp3").st_mtime == pytest.approx(created)


def test_malformed_fields_of_the_new_commands_are_refused_naming_them(
    studio: BackendProcess, suno: StandinControl, token: str, tmp_path: Path
) -> None:
    (clip,) = suno.seed({"title": "x"})
    out = str(tmp_path)
    cases: list[tuple[str, dict[str, Any], str]] = [
        ("DOWNLOAD_CLIP", {"clip": clip, "output_dir": out, "format": "flac"}, "$.format"),
        ("DOWNLOAD_CLIP", {"clip": clip, "output_dir": out, "authorize": "yes"}, "$.authorize"),
        ("DOWNLOAD_CLIP", {"clip": {**clip, "id": "../x"}, "output_dir": out}, "$.clip.id"),
        ("BATCH_DOWNLOAD", {"clips": [clip, {"title": "no id"}], "output_dir": out}, "$.clips[1]"),
        ("BATCH_DOWNLOAD", {"clips": [clip], "output_dir": out, "sidecar": 1}, "$.sidecar"),
        ("FETCH_CLIPS", {"session_token": token, "source": "everything"}, "$.source"),
        ("FETCH_CLIPS", {"session_token": token, "source": "playlist", "playlist_id": "../../x"}, "$.playlist_id"),
        ("FETCH_CLIPS", {"session_token": token, "source": "library", "created_after": "yesterday"}, "$.created_after"),
    ]
    for command, payload, field in cases:
        error = studio.error(command, payload)
        assert (error["error_code"], error["details"]["fields"]) == ("INVALID_PAYLOAD", [field]), (command, payload)
    assert suno.requests("/api/*") == [], "nothing reached Suno"
    answer = httpx.post(
        f"{suno.base_url}/api/feed/v3", content=b"not json", headers={"Authorization": f"Bearer {token}"}
    )
    assert answer.status_code == 422


def test_a_sidecar_that_cannot_be_written_is_a_warning_and_the_song_is_kept(
    studio: BackendProcess, suno: StandinControl, token: str, tmp_path: Path
) -> None:
    (clip,) = suno.seed({"title": "Kept"})
    (tmp_path / "Kept.mp3.json").mkdir()  # in the way

    payload = {"session_token": token, "clip": clip, "output_dir": str(tmp_path), "sidecar": True, "file_times": True}
    operation, done = run(studio, "DOWNLOAD_CLIP", payload)

    assert done["status"] == "completed"
    assert "the sidecar of Kept.mp3 could not be written" in done["result"]["extras_problem"]
    (warning,) = events_of(studio, operation, "WARNING_UPDATE")
    assert (warning["warning_code"], warning["clip_id"]) == ("BACKUP_EXTRAS_FAILED", clip["id"])
    created = datetime.fromisoformat(clip["created_at"].replace("Z", "+00:00")).timestamp()
    assert os.stat(tmp_path / "Kept.mp3").st_mtime == pytest.approx(created), "the time is set all the same"


def test_an_allowance_suno_does_not_state_is_never_spent(
    studio: BackendProcess, suno: StandinControl, token: str, ada: str, tmp_path: Path
) -> None:
    (clip,) = locked(suno, "uncounted")
    suno.faults(
        {"path": "/api/billing/info/", "content_type": "application/json", "status": 200, "body": '{"credits": 5}'}
    )

    done = run(studio, "BATCH_DOWNLOAD", batch(token, [clip], tmp_path, authorize=True))[1]

    assert done["status"] == "failed"
    (file,) = done["details"]["files"]
    assert (file["reason"], file["details"]["remaining"]) == ("allowance_unknown", None)
    assert suno.requests("/api/download/*") == []
