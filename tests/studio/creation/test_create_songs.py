"""CREATE_SONGS_BATCH in real headless Chromium on the stand-in's create page, over stdio.

The stand-in keeps every generate request's body, so the tests see exactly
what the page sent: the lyrics typed into its editor, the sliders' values
after real mouse drags, the model picked. One backend and one signed-in
browser serve the module; each test sets the create page's behaviour.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from deskbridge_standins.suno import StandinControl
from tests.studio.standin_studio import events_of, needs_chromium, studio_on, terminal
from tests.studio.suno import support
from tests.support import BackendProcess

standin = support.standin

pytestmark = needs_chromium


@pytest.fixture(scope="module")
def studio(standin: StandinControl, tmp_path_factory: pytest.TempPathFactory) -> Iterator[BackendProcess]:
    with studio_on(standin, tmp_path_factory.mktemp("create")) as backend:
        backend.ok("CREATE_ACCOUNT", {"name": "ada"})
        backend.ok("LAUNCH_BROWSER", {"account_name": "ada", "headless": True})
        yield backend


@pytest.fixture
def page(standin: StandinControl) -> StandinControl:
    """The stand-in's create page, quick and obliging; its generate log emptied by reading where it ends."""
    standin.create(delay=0.2, captcha=False, queue_full=0, fail_titles=[])
    return standin


def prompt(title: str, **fields: str) -> dict[str, str]:
    return {"title": title, "lyrics": f"[Verse]\nlyrics of {title}", "style": "synthwave", **fields}


def create(studio: BackendProcess, *prompts: dict[str, str], **payload: Any) -> tuple[str, dict[str, Any]]:
    started = studio.ok(
        "CREATE_SONGS_BATCH", {"account_name": "ada", "prompts": list(prompts), "auto_submit": True, **payload}
    )
    return started["operation_id"], terminal(studio, started["operation_id"], timeout=60)


def new_requests(page: StandinControl, before: int) -> list[dict[str, Any]]:
    return page.generated()[before:]


def history_of(studio: BackendProcess, title: str) -> list[dict[str, Any]]:
    items = studio.ok("SEARCH_HISTORY", {"keyword": title})["items"]
    return [item for item in items if item["title"] == title]


def test_without_auto_submit_the_form_is_filled_and_nothing_is_sent(
    studio: BackendProcess, page: StandinControl
) -> None:
    before = len(page.generated())

    _, done = create(studio, prompt("Left For You"), auto_submit=False)

    assert done["status"] == "completed"
    assert done["result"]["submitted"] is False
    assert done["result"]["title"] == "Left For You"
    assert new_requests(page, before) == []


def test_every_song_and_every_advanced_option_reaches_the_generate_request(
    studio: BackendProcess, page: StandinControl
) -> None:
    before = len(page.generated())
    options = {"weirdness": 20, "creativity": 80, "model": "v5", "exclude_styles": "metal"}

    operation, done = create(studio, prompt("Neon One"), prompt("Neon Two"), advanced_options=options)

    assert done["status"] == "completed", done.get("error")
    assert done["result"]["created"] == 2
    assert done["result"]["failed"] == 0
    sent = new_requests(page, before)
    assert [body["title"] for body in sent] == ["Neon One", "Neon Two"]
    for body in sent:
        assert body["prompt"].split() == f"[Verse] lyrics of {body['title']}".split()
        assert body["tags"] == "synthwave"
        assert body["negative_tags"] == "metal"
        assert body["mv"] == "chirp-crow"
        sliders = body["metadata"]["control_sliders"]
        assert sliders["weirdness_constraint"] == pytest.approx(0.2, abs=0.02)
        assert sliders["style_weight"] == pytest.approx(0.8, abs=0.02)
    for song in done["result"]["songs"]:
        assert len(song["clip_ids"]) == 2
        assert {item["song_id"] for item in history_of(studio, song["title"])} == set(song["clip_ids"])
    ticks = events_of(studio, operation, "SONG_CREATION_PROGRESS")
    assert any(tick.get("song_status") == "created" and tick.get("title") == "Neon Two" for tick in ticks)


def test_a_captcha_is_reported_and_waited_for_until_a_person_clears_it(
    studio: BackendProcess, page: StandinControl
) -> None:
    before = len(page.generated())
    page.create(captcha=True)
    started = studio.ok(
        "CREATE_SONGS_BATCH", {"account_name": "ada", "prompts": [prompt("Prove It")], "auto_submit": True}
    )
    operation = started["operation_id"]

    warning = studio.wait_event(
        lambda e: e["type"] == "WARNING_UPDATE" and e["payload"].get("operation_id") == operation, timeout=30
    )
    assert warning["payload"]["warning_code"] == "CAPTCHA_REQUIRED"
    assert new_requests(page, before) == []
    page.create(captcha=False)

    done = terminal(studio, operation, timeout=60)
    assert done["status"] == "completed"
    assert [body["title"] for body in new_requests(page, before)] == ["Prove It"]


def test_a_full_queue_is_a_warning_and_a_wait_then_the_song_is_made(
    studio: BackendProcess, page: StandinControl
) -> None:
    before = len(page.generated())
    page.create(queue_full=1)

    operation, done = create(studio, prompt("Patience"))

    assert done["status"] == "completed"
    assert done["result"]["created"] == 1
    warnings = events_of(studio, operation, "WARNING_UPDATE")
    assert [warning["warning_code"] for warning in warnings] == ["QUEUE_FULL"]
    assert [body["title"] for body in new_requests(page, before)] == ["Patience", "Patience"]


def test_a_failing_song_does_not_stop_the_others_and_only_all_failing_fails_the_batch(
    studio: BackendProcess, page: StandinControl
) -> None:
    page.create(fail_titles=["Broken", "Also Broken"])

    operation, done = create(studio, prompt("Fine A"), prompt("Broken"), prompt("Fine B"))

    assert done["status"] == "completed"
    assert done["result"]["created"] == 2
    assert done["result"]["failed"] == 1
    (failed,) = [song for song in done["result"]["songs"] if song["status"] == "failed"]
    assert failed["title"] == "Broken"
    assert "HTTP 500" in failed["error"]
    errors = events_of(studio, operation, "ERROR_UPDATE")
    assert [error["error_code"] for error in errors] == ["SONG_CREATION_FAILED"]
    assert [item["status"] for item in history_of(studio, "Broken")] == ["failed"]

    _, done = create(studio, prompt("Broken"), prompt("Also Broken"))
    assert done["status"] == "failed"
    assert done["error_code"] == "BATCH_CREATION_FAILED"
