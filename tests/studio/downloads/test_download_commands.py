"""DOWNLOAD_CLIP and BATCH_DOWNLOAD over stdio against the stand-in Suno: operations, events, history, faults.

Every fault the stand-in can produce reaches the studio through these
commands: refused sessions, 429 with Retry-After, 5xx, a connection cut
mid-file, a truncated file, the wrong content type, an exhausted download
quota, slow answers. The stand-in's request log shows what the studio asked.
"""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

import pytest
from mutagen.id3 import ID3

from deskbridge_standins.suno import StandinControl
from tests.declared import CORE_FIELDS, Declared
from tests.studio.standin_studio import events_of, stderr_text, terminal
from tests.studio.suno import support
from tests.studio.writers import killed_writer
from tests.support import BackendProcess

standin, suno = support.standin, support.suno


TOKENS: set[str] = set()
"""Every token given to the studio in this module: none may reach its log or its events."""


@pytest.fixture
def token(suno: StandinControl) -> str:
    jwt = suno.session()["jwt"]
    TOKENS.add(jwt)
    return jwt


@pytest.fixture
def out(tmp_path: Path) -> Path:
    return tmp_path / "music"


def run(studio: BackendProcess, command: str, payload: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """Start an operation; its id and its terminal event's payload."""
    started = studio.ok(command, payload)
    assert started["status"] == "pending"
    return started["operation_id"], terminal(studio, started["operation_id"])


def history(studio: BackendProcess, account: str = "ada") -> list[str]:
    return [item["clip_id"] for item in studio.ok("GET_DOWNLOAD_HISTORY", {"account_name": account})["items"]]


def audio_of(path: Path) -> bytes:
    """The file's bytes after its ID3 tag: what the server sent."""
    return path.read_bytes()[ID3(path).size :]


def forbidden(suno: StandinControl, **fields: Any) -> dict[str, Any]:
    """A clip only the authorized route serves (Suno since August 2026)."""
    return {"audio_url": suno.forbidden_url, **fields}


def test_download_clip_reports_bytes_and_speed_and_ends_with_the_tagged_file(
    studio: BackendProcess, suno: StandinControl, token: str, ada: str, out: Path
) -> None:
    (clip,) = suno.seed({"title": "Night Drive", "display_name": "Ada"})

    operation, done = run(
        studio, "DOWNLOAD_CLIP", {"session_token": token, "clip": clip, "output_dir": str(out), "account_name": ada}
    )

    path = out / "Night Drive.mp3"
    assert done["status"] == "completed"
    assert done["result"] == {
        "clip_id": clip["id"],
        "status": "downloaded",
        "file_name": "Night Drive.mp3",
        "path": str(path),
        "bytes": path.stat().st_size,
        "cover": True,
        "allowance": {"needed": 0, "authorized": 0, "remaining": None, "limit": None, "used": None, "additional": None},
    }
    assert audio_of(path) == suno.fetch(clip["audio_url"])
    assert str(ID3(path)["TIT2"]) == "Night Drive"
    ticks = [e for e in events_of(studio, operation, "DOWNLOAD_PROGRESS") if e["status"] == "in_progress"]
    assert ticks
    last = ticks[-1]
    assert last["clip_id"] == clip["id"]
    assert last["file_name"] == "Night Drive.mp3"
    assert last["downloaded"] == last["total"] == len(suno.fetch(clip["audio_url"]))
    assert last["progress"] == 100
    assert last["speed"] > 0
    assert history(studio) == [clip["id"]]
    assert sorted(p.name for p in out.iterdir()) == ["Night Drive.mp3"]


def test_what_the_download_operations_send_is_what_the_schema_declares(
    studio: BackendProcess, declared: Declared, suno: StandinControl, token: str, ada: str, out: Path
) -> None:
    """GET_SCHEMA's result and progress of DOWNLOAD_CLIP and BATCH_DOWNLOAD (what the JavaScript client's types
    are made from), held closed, against every event of a clip Suno prepares and of a batch where a clip of each
    kind ends each way."""
    suno.downloads(limit=5, used=0, processing={"wav": 2})
    (single,) = suno.seed(forbidden(suno, title="Prepared"))
    clip_op, clip_done = run(
        studio,
        "DOWNLOAD_CLIP",
        {"session_token": token, "clip": single, "output_dir": str(out), "format": "wav", "authorize": True},
    )
    recorded, free, paid, refused = suno.seed(
        {"title": "had"},
        {"title": "free", "is_download_unlocked": True},
        forbidden(suno, title="paid"),
        forbidden(suno, title="refused"),
    )
    suno.downloads(limit=2, used=1)  # one left: the second locked clip fails
    studio.ok("RECORD_DOWNLOADS", {"account_name": ada, "clips": [{"id": recorded["id"], "format": "wav"}]})
    payload = {"account_name": ada, "session_token": token, "output_dir": str(out), "format": "wav", "parallel": 1}
    batch_op, batch_done = run(
        studio, "BATCH_DOWNLOAD", {**payload, "clips": [recorded, free, paid, refused], "authorize": True}
    )

    assert (clip_done["status"], batch_done["status"]) == ("completed", "completed")
    clip_events = events_of(studio, clip_op, "DOWNLOAD_PROGRESS")
    batch_events = events_of(studio, batch_op, "BATCH_DOWNLOAD_PROGRESS")
    assert declared.check("DOWNLOAD_CLIP", clip_events) == len(clip_events) > 2
    assert declared.check("BATCH_DOWNLOAD", batch_events) == len(batch_events) > 8
    assert {e.get("stage") for e in clip_events} >= {"preparing", "downloading"}
    statuses = {e.get("clip_status") for e in batch_events}
    assert statuses >= {"downloading", "preparing", "downloaded", "skipped", "failed"}
    assert [f["status"] for f in batch_done["result"]["files"]] == ["skipped", "downloaded", "downloaded", "failed"]

    tick = {name: value for name, value in batch_events[0].items() if name not in CORE_FIELDS}
    assert declared.problems("BATCH_DOWNLOAD", "progress", tick) == []
    assert declared.problems("BATCH_DOWNLOAD", "progress", {**tick, "surprise": 1}), "a field not declared"
    assert declared.problems("BATCH_DOWNLOAD", "progress", {"message": "no counters"}), "a required field missing"
    result = clip_done["result"]
    assert declared.problems("DOWNLOAD_CLIP", "result", {k: v for k, v in result.items() if k != "allowance"})


def test_a_download_killed_half_way_leaves_its_name_and_nothing_else_to_the_next_one(
    studio: BackendProcess, suno: StandinControl, token: str, ada: str, out: Path
) -> None:
    (clip,) = suno.seed({"title": "Again"})
    out.mkdir()
    killed_writer(out / "Again.mp3.part")
    done = run(studio, "DOWNLOAD_CLIP", {"session_token": token, "clip": clip, "output_dir": str(out)})[1]
    assert done["result"]["file_name"] == "Again.mp3"
    assert sorted(p.name for p in out.iterdir()) == ["Again.mp3"]
    assert audio_of(out / "Again.mp3") == suno.fetch(clip["audio_url"])


def test_a_clip_in_the_history_is_never_authorized_again(
    studio: BackendProcess, suno: StandinControl, token: str, ada: str, out: Path
) -> None:
    (clip,) = suno.seed(forbidden(suno, title="Metered"))
    payload = {"session_token": token, "clip": clip, "output_dir": str(out), "account_name": ada, "authorize": True}

    assert run(studio, "DOWNLOAD_CLIP", payload)[1]["status"] == "completed"
    assert len(suno.requests("/api/download/authorize")) == 1
    assert history(studio) == [clip["id"]]

    again = run(studio, "DOWNLOAD_CLIP", payload)[1]
    assert again["status"] == "completed"
    assert again["result"]["file_name"] == "Metered (2).mp3"
    assert len(suno.requests("/api/download/authorize")) == 1
    assert len(suno.requests(f"/api/download/clip/{clip['id']}")) == 2


def test_a_batch_skips_downloaded_clips_without_a_request_and_records_the_others(
    studio: BackendProcess, suno: StandinControl, token: str, ada: str, out: Path
) -> None:
    clips = suno.seed(forbidden(suno, title="a"), forbidden(suno, title="b"), {"title": "c"}, {"title": "d"})
    studio.ok("RECORD_DOWNLOADS", {"account_name": ada, "clips": [{"id": clips[0]["id"]}, {"id": clips[2]["id"]}]})

    payload = {"account_name": ada, "session_token": token, "clips": clips, "output_dir": str(out), "authorize": True}
    started = studio.ok("BATCH_DOWNLOAD", payload)
    assert started["total"] == 4
    assert started["already_downloaded"] == 2
    done = terminal(studio, started["operation_id"])

    assert done["status"] == "completed"
    assert [(f["clip_id"], f["status"]) for f in done["result"]["files"]] == [
        (clips[0]["id"], "skipped"),
        (clips[1]["id"], "downloaded"),
        (clips[2]["id"], "skipped"),
        (clips[3]["id"], "downloaded"),
    ]
    assert (done["completed"], done["downloaded"], done["skipped"], done["failed"]) == (4, 2, 2, 0)
    for skipped in (clips[0], clips[2]):
        assert not [r for r in suno.requests() if skipped["id"] in r["path"] + r["query"]]
    assert len(suno.requests("/api/download/authorize")) == 1
    assert sorted(p.name for p in out.iterdir()) == ["b.mp3", "d.mp3"]
    assert set(history(studio)) == {clip["id"] for clip in clips}

    per_clip = [e for e in events_of(studio, started["operation_id"], "BATCH_DOWNLOAD_PROGRESS") if "clip_status" in e]
    ends = [(e["index"], e["clip_status"]) for e in per_clip if e["clip_status"] != "downloading"]
    assert sorted(ends) == [(1, "skipped"), (2, "downloaded"), (3, "skipped"), (4, "downloaded")]
    assert all(e["status"] == "in_progress" for e in per_clip)
    assert per_clip[-1]["completed"] == 4
    assert per_clip[-1]["progress"] == 100


def test_a_batch_adopts_a_finished_file_the_history_lacks_and_fetches_it_no_more(
    studio: BackendProcess, suno: StandinControl, token: str, ada: str, out: Path
) -> None:
    """A file finished but never recorded (a backend killed between the two) is recorded as it is; another
    clip of the same title still gets a file of its own."""
    kept, twin = suno.seed(forbidden(suno, title="Kept"), {"title": "Kept"})
    earlier = run(
        studio, "DOWNLOAD_CLIP", {"session_token": token, "clip": kept, "output_dir": str(out), "authorize": True}
    )[1]
    assert earlier["result"]["file_name"] == "Kept.mp3"
    assert history(studio) == []
    before, asked = (out / "Kept.mp3").read_bytes(), len(suno.requests())

    operation, done = run(
        studio,
        "BATCH_DOWNLOAD",
        {"account_name": ada, "session_token": token, "clips": [kept, twin], "output_dir": str(out)},
    )

    assert done["status"] == "completed"
    files = done["result"]["files"]
    assert files[0] == {
        "clip_id": kept["id"],
        "status": "downloaded",
        "file_name": "Kept.mp3",
        "path": str(out / "Kept.mp3"),
        "bytes": len(before),
        "cover": True,
        "adopted": True,
    }
    assert (files[1]["file_name"], files[1].get("adopted")) == ("Kept (2).mp3", None)
    assert (done["result"]["downloaded"], done["result"]["skipped"], done["result"]["failed"]) == (2, 0, 0)
    assert sorted(p.name for p in out.iterdir()) == ["Kept (2).mp3", "Kept.mp3"]
    assert (out / "Kept.mp3").read_bytes() == before
    assert not [r for r in suno.requests()[asked:] if kept["id"] in r["path"] + r["query"]], "nothing asked for it"
    assert len(suno.requests("/api/download/authorize")) == 1, "authorized once, by the first download"
    assert audio_of(out / "Kept (2).mp3") == suno.fetch(twin["audio_url"])
    assert set(history(studio)) == {kept["id"], twin["id"]}
    recorded = studio.ok("GET_DOWNLOAD_HISTORY", {"account_name": ada})["items"]
    assert {item["clip_id"]: item["file_path"] for item in recorded}[kept["id"]] == str(out / "Kept.mp3")

    ends = [e for e in events_of(studio, operation, "BATCH_DOWNLOAD_PROGRESS") if e.get("clip_id") == kept["id"]]
    assert [(e["clip_status"], e["adopted"], e["file_name"]) for e in ends] == [("downloaded", True, "Kept.mp3")]
    assert "already in the folder" in ends[0]["message"]


def test_a_connection_cut_mid_file_is_resumed_where_it_stopped(
    studio: BackendProcess, suno: StandinControl, token: str, out: Path
) -> None:
    (clip,) = suno.seed({"title": "Resumed"})
    suno.faults({"path": f"/cdn/{clip['id']}.mp3", "kind": "cut", "after_bytes": 20_000})

    done = run(studio, "DOWNLOAD_CLIP", {"session_token": token, "clip": clip, "output_dir": str(out)})[1]

    assert done["status"] == "completed"
    assert audio_of(out / "Resumed.mp3") == suno.fetch(clip["audio_url"])
    first, second = suno.requests(f"/cdn/{clip['id']}.mp3")
    assert first["range"] is None
    assert second["range"] == "bytes=20000-"


def test_a_truncated_file_is_a_failed_download_that_leaves_nothing_behind(
    studio: BackendProcess, suno: StandinControl, token: str, ada: str, out: Path
) -> None:
    (clip,) = suno.seed({"title": "Short"})
    suno.faults({"path": f"/cdn/{clip['id']}.mp3", "kind": "short", "after_bytes": 20_000, "times": None})

    done = run(
        studio, "DOWNLOAD_CLIP", {"session_token": token, "clip": clip, "output_dir": str(out), "account_name": ada}
    )[1]

    assert done["status"] == "failed"
    assert done["error_code"] == "DOWNLOAD_FAILED"
    assert "not a whole MP3" in done["error"]
    assert list(out.iterdir()) == []
    assert history(studio) == []


@pytest.mark.parametrize(
    ("body", "content_type", "reason"),
    [
        ("<html><body>Access denied</body></html>", "text/html", "text/html, not an MP3"),
        ('{"detail": "Forbidden"}', "audio/mpeg", "not an MP3"),
    ],
)
def test_a_page_or_an_error_served_as_the_file_is_refused(
    studio: BackendProcess, suno: StandinControl, token: str, out: Path, body: str, content_type: str, reason: str
) -> None:
    (clip,) = suno.seed({"title": "Imposter"})
    suno.faults(
        {"path": f"/cdn/{clip['id']}.mp3", "status": 200, "body": body, "content_type": content_type, "times": None}
    )
    done = run(studio, "DOWNLOAD_CLIP", {"session_token": token, "clip": clip, "output_dir": str(out)})[1]
    assert done["error_code"] == "DOWNLOAD_FAILED"
    assert reason in done["error"]
    assert list(out.iterdir()) == []


def test_429_and_5xx_from_the_cdn_are_waited_out(
    studio: BackendProcess, suno: StandinControl, token: str, out: Path
) -> None:
    slow, flaky = suno.seed({"title": "slow"}, {"title": "flaky"})
    suno.faults(
        {"path": f"/cdn/{slow['id']}.mp3", "status": 429, "headers": {"Retry-After": "1"}},
        {"path": f"/cdn/{flaky['id']}.mp3", "status": 503, "times": 2},
    )

    done = run(studio, "BATCH_DOWNLOAD", {"session_token": token, "clips": [slow, flaky], "output_dir": str(out)})[1]

    assert done["result"]["downloaded"] == 2
    first, second = suno.requests(f"/cdn/{slow['id']}.mp3")
    assert second["time"] - first["time"] >= 0.95
    assert len(suno.requests(f"/cdn/{flaky['id']}.mp3")) == 3


def test_suno_asking_to_slow_down_is_a_warning_of_the_operation(
    studio: BackendProcess, suno: StandinControl, token: str, out: Path
) -> None:
    (clip,) = suno.seed(forbidden(suno, title="throttled"))
    suno.faults({"path": "/api/download/authorize", "status": 429, "headers": {"Retry-After": "0"}})

    operation, done = run(
        studio, "DOWNLOAD_CLIP", {"session_token": token, "clip": clip, "output_dir": str(out), "authorize": True}
    )

    assert done["status"] == "completed"
    (warning,) = events_of(studio, operation, "WARNING_UPDATE")
    assert warning["warning_code"] == "RATE_LIMITED"
    assert warning["http_status"] == 429
    assert warning["retry_after"] == "0"
    assert "POST /api/download/authorize" in warning["message"]
    assert len(suno.requests("/api/download/authorize")) == 2


def test_a_missing_cover_is_a_warning_and_the_song_is_kept(
    studio: BackendProcess, suno: StandinControl, token: str, out: Path
) -> None:
    (clip,) = suno.seed({"title": "Bare"})
    suno.faults({"path": "/cdn/image_*", "status": 404, "times": None})

    operation, done = run(studio, "DOWNLOAD_CLIP", {"session_token": token, "clip": clip, "output_dir": str(out)})

    assert done["result"]["status"] == "downloaded"
    assert "cover" not in done["result"]  # only a file with its cover says "cover": true
    (warning,) = events_of(studio, operation, "WARNING_UPDATE")
    assert warning["warning_code"] == "NO_COVER"
    assert warning["clip_id"] == clip["id"]


def test_a_refused_session_ends_the_batch(studio: BackendProcess, suno: StandinControl, token: str, out: Path) -> None:
    clips = suno.seed(forbidden(suno, title="needs a session"), {"title": "would be free"})
    suno.revoke()

    payload = {"session_token": token, "clips": clips, "output_dir": str(out), "parallel": 1, "authorize": True}
    done = run(studio, "BATCH_DOWNLOAD", payload)[1]

    assert done["status"] == "failed"
    assert done["error_code"] == "SESSION_NOT_FOUND"
    assert len(suno.requests("/api/billing/info/")) == 1  # refused once; no account to refresh from
    assert suno.requests("/api/download/*") == [], "nothing asked, nothing spent"


def test_every_clip_failing_fails_the_batch(
    studio: BackendProcess, suno: StandinControl, token: str, out: Path
) -> None:
    clips = suno.seed({"title": "x"}, {"title": "y"})
    suno.faults({"path": "/cdn/*.mp3", "status": 404, "times": None})
    done = run(studio, "BATCH_DOWNLOAD", {"session_token": token, "clips": clips, "output_dir": str(out)})[1]
    assert done["status"] == "failed"
    assert done["error_code"] == "DOWNLOAD_FAILED"
    assert [f["status"] for f in done["details"]["files"]] == ["failed", "failed"]


def test_downloads_run_several_at_once_and_start_delay_apart(
    studio: BackendProcess, suno: StandinControl, token: str, out: Path
) -> None:
    clips = suno.seed(*({"title": f"song {n}"} for n in range(6)))
    suno.faults({"path": "/cdn/*.mp3", "kind": "delay", "seconds": 0.4, "times": None})

    run(studio, "BATCH_DOWNLOAD", {"session_token": token, "clips": clips, "output_dir": str(out / "parallel")})
    starts = [r["time"] for r in suno.requests("/cdn/*.mp3")]
    assert starts[3] - starts[0] < 0.3  # the default 4 at once
    assert starts[4] - starts[0] >= 0.35  # the fifth waits for a free slot

    suno.faults()
    three = clips[:3]
    payload = {"session_token": token, "clips": three, "output_dir": str(out / "paced"), "delay": 0.3}
    before = len(suno.requests("/cdn/*.mp3"))
    run(studio, "BATCH_DOWNLOAD", payload)
    paced = [r["time"] for r in suno.requests("/cdn/*.mp3")[before:]]
    assert [b - a >= 0.28 for a, b in itertools.pairwise(paced)] == [True, True]


def test_a_cancelled_batch_stops_and_leaves_no_partial_file(
    studio: BackendProcess, suno: StandinControl, token: str, ada: str, out: Path
) -> None:
    clips = suno.seed({"title": "never"}, {"title": "finished"})
    suno.faults({"path": "/cdn/*.mp3", "kind": "delay", "seconds": 5, "times": None})
    started = studio.ok(
        "BATCH_DOWNLOAD", {"account_name": ada, "session_token": token, "clips": clips, "output_dir": str(out)}
    )
    studio.wait_event(lambda e: e.get("payload", {}).get("clip_status") == "downloading")

    assert studio.ok("CANCEL_OPERATION", {"operation_id": started["operation_id"]})["cancelled"] is True
    done = terminal(studio, started["operation_id"])

    assert done["status"] == "cancelled"
    assert list(out.iterdir()) == []
    assert history(studio) == []


def test_files_stay_inside_output_dir(studio: BackendProcess, suno: StandinControl, token: str, out: Path) -> None:
    clips = suno.seed({"title": "../../escape"}, {"title": "/etc/passwd"}, {"title": "..\\..\\windows"})
    done = run(studio, "BATCH_DOWNLOAD", {"session_token": token, "clips": clips, "output_dir": str(out)})[1]
    paths = [Path(f["path"]) for f in done["result"]["files"]]
    assert len(paths) == 3
    assert all(path.parent == out.resolve() for path in paths)


def test_what_is_refused_before_the_operation_starts(
    studio: BackendProcess, suno: StandinControl, token: str, out: Path
) -> None:
    (clip,) = suno.seed({"title": "fine"})
    cases = [
        ({"clip": clip, "output_dir": "relative/music"}, "INVALID_PAYLOAD"),
        ({"clip": {**clip, "id": "../x"}, "output_dir": str(out)}, "INVALID_PAYLOAD"),
        ({"clip": {"title": "no id"}, "output_dir": str(out)}, "INVALID_PAYLOAD"),
        ({"clip": clip, "output_dir": str(out), "account_name": "nobody"}, "ACCOUNT_NOT_FOUND"),
        ({"clip": clip, "output_dir": str(out), "session_token": "not a jwt"}, "INVALID_PAYLOAD"),
    ]
    for payload, code in cases:
        assert studio.error("DOWNLOAD_CLIP", {"session_token": token, **payload})["error_code"] == code, payload
    blocker = out.parent / "a-file"
    blocker.write_text("")
    for output_dir in ["relative/music", "music", str(blocker / "music")]:
        for command, clips in [("DOWNLOAD_CLIP", {"clip": clip}), ("BATCH_DOWNLOAD", {"clips": [clip]})]:
            refused = studio.error(command, {"session_token": token, **clips, "output_dir": output_dir})
            assert refused["error_code"] == "INVALID_PAYLOAD", (command, output_dir)
            assert refused["details"]["fields"] == ["$.output_dir"], (command, output_dir)
            assert output_dir in refused["error"]
    error = studio.error("BATCH_DOWNLOAD", {"clips": [clip], "output_dir": str(out), "account_name": "nobody"})
    assert error["error_code"] == "ACCOUNT_NOT_FOUND"
    assert studio.error("BATCH_DOWNLOAD", {"clips": [], "output_dir": str(out)})["error_code"] == "INVALID_PAYLOAD"
    assert not out.exists()
    assert suno.requests() == []


def test_no_token_reaches_the_log_or_an_event(studio: BackendProcess) -> None:
    assert TOKENS
    for jwt in TOKENS:
        signature = jwt.rsplit(".", 1)[1]
        assert signature not in stderr_text(studio)
        assert all(signature not in str(event) for event in studio.events)
