"""START_QUEUE_EXECUTION in real headless Chromium against the stand-in, over stdio: parallel, cancelled, killed.

The stand-in keeps every generate request, so "no song created twice, none
skipped" is counted where it matters: at Suno. Titles are unique per test,
because the stand-in's feed keeps every clip made in the module.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from deskbridge_standins.suno import StandinControl
from tests.studio.standin_studio import config_for, events_of, needs_chromium, studio_on, terminal
from tests.studio.suno import support
from tests.support import BackendProcess

standin = support.standin

pytestmark = needs_chromium


@pytest.fixture(scope="module")
def studio(standin: StandinControl, tmp_path_factory: pytest.TempPathFactory) -> Iterator[BackendProcess]:
    with studio_on(standin, tmp_path_factory.mktemp("queues")) as backend:
        for name in ("ada", "bob"):
            backend.ok("CREATE_ACCOUNT", {"name": name})
            backend.ok("LAUNCH_BROWSER", {"account_name": name, "headless": True})
        yield backend


@pytest.fixture
def page(standin: StandinControl) -> StandinControl:
    standin.create(delay=0.3, captcha="off", queue_full=0, fail_titles=[])
    return standin


def make_queue(studio: BackendProcess, account: str, titles: list[str], per_batch: int, **extra: str) -> str:
    prompts = [{"title": title, "lyrics": f"words of {title}", "style": "folk"} for title in titles]
    queue = studio.ok(
        "CREATE_QUEUE",
        {"account_name": account, "total_songs": len(titles), "songs_per_batch": per_batch, "prompts": prompts} | extra,
    )
    queue_id: str = queue["queue_id"]
    return queue_id


def queue_of(studio: BackendProcess, queue_id: str) -> dict[str, Any]:
    (queue,) = [queue for queue in studio.ok("GET_QUEUES", {}) if queue["queue_id"] == queue_id]
    return queue


def sent_titles(page: StandinControl, prefix: str) -> list[str]:
    return [body["title"] for body in page.generated() if body["title"].startswith(prefix)]


def test_two_accounts_queues_run_at_once_and_each_queues_batches_in_order(
    studio: BackendProcess, page: StandinControl
) -> None:
    ada = make_queue(studio, "ada", ["par-ada-1", "par-ada-2", "par-ada-3"], per_batch=2)
    bob = make_queue(studio, "bob", ["par-bob-1", "par-bob-2", "par-bob-3"], per_batch=2)

    started = studio.ok("START_QUEUE_EXECUTION", {"queue_ids": [ada, bob]})
    done = terminal(studio, started["operation_id"], timeout=60)

    assert done["status"] == "completed", done.get("error")
    sent = sent_titles(page, "par-")
    assert [title for title in sent if "ada" in title] == ["par-ada-1", "par-ada-2", "par-ada-3"]
    assert [title for title in sent if "bob" in title] == ["par-bob-1", "par-bob-2", "par-bob-3"]
    assert sent.index("par-bob-1") < sent.index("par-ada-3")
    assert sent.index("par-ada-1") < sent.index("par-bob-3")
    for queue_id in (ada, bob):
        queue = queue_of(studio, queue_id)
        assert (queue["status"], queue["completed_count"]) == ("completed", 3)
    operation = started["operation_id"]
    batches = [(e["queue_id"], e["batch"]) for e in events_of(studio, operation, "BATCH_PROGRESS")]
    assert sorted(batches) == sorted([(ada, 1), (ada, 2), (bob, 1), (bob, 2)])
    songs = events_of(studio, operation, "SONG_PROGRESS")
    assert sorted(song["title"] for song in songs) == sorted(sent)
    assert all(len(song["song_ids"]) == 2 and song["song_status"] == "created" for song in songs)
    made = {song_id for song in songs for song_id in song["song_ids"]}
    recorded = [
        e for e in studio.events if e["type"] == "STATE_CHANGED" and e.get("resource") == "creation_history"
    ]  # each record the run writes says so, as ADD_CREATION_RECORD does
    assert {e["id"] for e in recorded} >= made
    assert {e["account_name"] for e in recorded if e["id"] in made} == {"ada", "bob"}


def test_cancelling_stops_the_run_and_keeps_the_count_for_a_later_start(
    studio: BackendProcess, page: StandinControl
) -> None:
    page.create(delay=1.0)
    titles = ["cancel-1", "cancel-2", "cancel-3", "cancel-4"]
    queue_id = make_queue(studio, "ada", titles, per_batch=1)
    started = studio.ok("START_QUEUE_EXECUTION", {"queue_ids": [queue_id]})
    operation = started["operation_id"]
    studio.wait_event(lambda e: e["type"] == "SONG_PROGRESS" and e["payload"]["operation_id"] == operation)

    studio.ok("CANCEL_OPERATION", {"operation_id": operation})
    assert terminal(studio, operation)["status"] == "cancelled"

    queue = queue_of(studio, queue_id)
    assert queue["status"] == "in_progress"
    assert 1 <= queue["completed_count"] < 4
    page.create(delay=0.2)
    again = studio.ok("START_QUEUE_EXECUTION", {"queue_ids": [queue_id]})
    assert terminal(studio, again["operation_id"], timeout=60)["status"] == "completed"
    assert sent_titles(page, "cancel-") == titles


def test_a_finished_or_unknown_queue_is_refused(studio: BackendProcess, page: StandinControl) -> None:
    assert studio.error("START_QUEUE_EXECUTION", {"queue_ids": ["no-such-queue"]})["error_code"] == "QUEUE_NOT_FOUND"
    queue_id = make_queue(studio, "bob", ["done-1"], per_batch=1)
    started = studio.ok("START_QUEUE_EXECUTION", {"queue_ids": [queue_id]})
    assert terminal(studio, started["operation_id"], timeout=60)["status"] == "completed"
    refused = studio.error("START_QUEUE_EXECUTION", {"queue_ids": [queue_id]})
    assert refused["error_code"] == "INVALID_QUEUE_PARAMETERS"


def test_a_backend_killed_mid_song_resumes_without_making_any_song_twice_or_skipping_one(
    standin: StandinControl, page: StandinControl, tmp_path: Path
) -> None:
    page.create(delay=1.5)
    titles = ["kill-1", "kill-2", "kill-3"]
    with studio_on(standin, tmp_path) as first:
        first.ok("CREATE_ACCOUNT", {"name": "cy"})
        first.ok("LAUNCH_BROWSER", {"account_name": "cy", "headless": True})
        queue_id = make_queue(first, "cy", titles, per_batch=2)
        first.ok("START_QUEUE_EXECUTION", {"queue_ids": [queue_id]})
        deadline = time.monotonic() + 30
        while sent_titles(page, "kill-") != ["kill-1", "kill-2"]:  # song 2 submitted, its clips not ready
            assert time.monotonic() < deadline
            time.sleep(0.02)
        first.kill()

    page.create(delay=0.2)
    with studio_on(standin, tmp_path) as second:
        assert queue_of(second, queue_id)["completed_count"] == 1
        second.ok("LAUNCH_BROWSER", {"account_name": "cy", "headless": True})
        started = second.ok("START_QUEUE_EXECUTION", {"queue_ids": [queue_id]})
        done = terminal(second, started["operation_id"], timeout=60)
        assert done["status"] == "completed", done.get("error")
        queue = queue_of(second, queue_id)
        history = second.ok("GET_CREATION_HISTORY", {"account_name": "cy"})["items"]

    assert sent_titles(page, "kill-") == titles
    assert (queue["status"], queue["completed_count"]) == ("completed", 3)
    made = sorted(item["title"] for item in history if item["status"] == "completed")
    assert made == ["kill-1", "kill-1", "kill-2", "kill-2", "kill-3", "kill-3"]


def test_a_queue_files_its_songs_in_its_workspace(studio: BackendProcess, page: StandinControl) -> None:
    queue_id = make_queue(studio, "ada", ["ws-song-1", "ws-song-2"], per_batch=1, workspace="ws-queue-9")
    assert queue_of(studio, queue_id)["workspace"] == "ws-queue-9"

    done = terminal(studio, studio.ok("START_QUEUE_EXECUTION", {"queue_ids": [queue_id]})["operation_id"], timeout=60)

    assert done["status"] == "completed", done.get("error")
    sent = [body for body in page.generated() if body["title"].startswith("ws-song-")]
    assert [(body["title"], body["project_id"]) for body in sent] == [
        ("ws-song-1", "ws-queue-9"),
        ("ws-song-2", "ws-queue-9"),
    ]


def test_a_queued_prompt_over_a_limit_lowered_since_fails_its_song_and_nothing_is_cut(
    standin: StandinControl, page: StandinControl, tmp_path: Path
) -> None:
    """CREATE_QUEUE checked the prompt against the limits of its day; the run checks it against today's."""
    suno = {**config_for(standin)["studio"]["suno"], "create_page": {"limits": {"lyrics": 8_000}}}
    prompts = [{"title": "too-long-1", "lyrics": "la\n" * 2_000, "style": "folk"}]
    with studio_on(standin, tmp_path, suno=suno) as before_the_change:
        before_the_change.ok("CREATE_ACCOUNT", {"name": "dee"})
        queue = before_the_change.ok(
            "CREATE_QUEUE", {"account_name": "dee", "total_songs": 1, "songs_per_batch": 1, "prompts": prompts}
        )
    before = len(page.generated())

    with studio_on(standin, tmp_path) as studio:
        studio.ok("LAUNCH_BROWSER", {"account_name": "dee", "headless": True})
        started = studio.ok("START_QUEUE_EXECUTION", {"queue_ids": [queue["queue_id"]]})
        done = terminal(studio, started["operation_id"], timeout=60)
        errors = events_of(studio, started["operation_id"], "ERROR_UPDATE")

    assert done["status"] == "completed", done.get("error")
    (error,) = errors
    assert "the lyrics: 6000 characters, more than the 5000 Suno takes, and nothing is cut" in error["error"]
    assert page.generated()[before:] == []
