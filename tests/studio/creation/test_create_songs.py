"""CREATE_SONGS_BATCH in real headless Chromium on the stand-in's create page (Dec 2026), over stdio.

The stand-in keeps every generate request's body, so the tests see exactly
what the page sent: the lyrics typed into its editor with their line breaks,
the sliders' values after real key presses, the model picked from its menu,
the workspace. Its request log shows whether More Options was ever opened
(that part of the page loads on demand). One backend serves the module with
two browsers: ``ada``'s headless, ``bea``'s "headed" (Chromium's own
``--headless=new`` keeps it off screen, but the studio treats it as a
window a person can see).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from deskbridge_standins.suno import StandinControl
from tests.studio.standin_studio import CHROMIUM, config_for, events_of, needs_chromium, studio_on, terminal
from tests.studio.suno import support
from tests.support import BackendProcess

standin = support.standin

pytestmark = needs_chromium

BROWSER = {"executable": CHROMIUM, "session_wait": 1.0, "args": ["--headless=new"]}
LYRICS = "[Verse]\nneon on the water\n\n[Chorus]\n  we ride, we ride"


@pytest.fixture(scope="module")
def studio(standin: StandinControl, tmp_path_factory: pytest.TempPathFactory) -> Iterator[BackendProcess]:
    suno = {**config_for(standin)["studio"]["suno"], "create_page": {"challenge_grace": 1.0}}
    with studio_on(standin, tmp_path_factory.mktemp("create"), browser=BROWSER, suno=suno) as backend:
        for name, headless in (("ada", True), ("bea", False)):
            backend.ok("CREATE_ACCOUNT", {"name": name})
            backend.ok("LAUNCH_BROWSER", {"account_name": name, "headless": headless})
        yield backend


@pytest.fixture
def page(standin: StandinControl) -> StandinControl:
    """The stand-in's create page, quick and obliging, and no drift."""
    standin.create(delay=0.2, captcha="off", queue_full=0, fail_titles=[], drop=[], relabel={}, stubborn=[])
    return standin


def prompt(title: str, **fields: str) -> dict[str, str]:
    return {"title": title, "lyrics": f"[Verse]\nlyrics of {title}", "style": "synthwave", **fields}


def create(
    studio: BackendProcess, *prompts: dict[str, str], account: str = "ada", **payload: Any
) -> tuple[str, dict[str, Any]]:
    started = studio.ok(
        "CREATE_SONGS_BATCH", {"account_name": account, "prompts": list(prompts), "auto_submit": True, **payload}
    )
    return started["operation_id"], terminal(studio, started["operation_id"], timeout=60)


def sent_since(page: StandinControl, before: int) -> list[dict[str, Any]]:
    return page.generated()[before:]


def more_options_loads(page: StandinControl) -> int:
    return len(page.requests("/create/more-options"))


def history_of(studio: BackendProcess, title: str) -> list[dict[str, Any]]:
    items = studio.ok("SEARCH_HISTORY", {"keyword": title})["items"]
    return [item for item in items if item["title"] == title]


def test_without_auto_submit_the_form_is_filled_and_checked_and_nothing_is_sent(
    studio: BackendProcess, page: StandinControl
) -> None:
    before = len(page.generated())

    _, done = create(studio, prompt("Left For You"), auto_submit=False)

    assert done["status"] == "completed", done.get("error")
    assert done["result"]["submitted"] is False
    assert done["result"]["title"] == "Left For You"
    assert sent_since(page, before) == []


def test_every_field_and_option_reaches_the_generate_request_lyrics_line_by_line(
    studio: BackendProcess, page: StandinControl
) -> None:
    before, loads = len(page.generated()), more_options_loads(page)
    options = {
        "weirdness": 20, "creativity": 83, "model": "v6-mini", "exclude_styles": "metal, screamo",
        "vocal_gender": "female",
    }  # fmt: skip

    operation, done = create(
        studio, prompt("Neon One", lyrics=LYRICS), prompt("Neon Two"), advanced_options=options, workspace="ws-7f3a"
    )

    assert done["status"] == "completed", done.get("error")
    assert (done["result"]["created"], done["result"]["failed"]) == (2, 0)
    sent = sent_since(page, before)
    assert [body["title"] for body in sent] == ["Neon One", "Neon Two"], "the visible title, not its hidden twin"
    assert sent[0]["prompt"] == "[Verse]\nneon on the water\n\n[Chorus]\n  we ride, we ride"
    assert sent[1]["prompt"] == "[Verse]\nlyrics of Neon Two"
    for body in sent:
        assert body["tags"] == "synthwave"
        assert body["negative_tags"] == "metal, screamo"
        assert body["mv"] == "chirp-goose"
        assert body["project_id"] == "ws-7f3a"
        assert body["token"] is None, "c/check asked for no captcha"
        assert body["metadata"]["vocal_gender"] == "f"
        sliders = body["metadata"]["control_sliders"]
        assert (sliders["weirdness_constraint"], sliders["style_weight"]) == (0.2, 0.83)
    assert more_options_loads(page) > loads
    for song in done["result"]["songs"]:
        assert len(song["clip_ids"]) == 2
        assert {item["song_id"] for item in history_of(studio, song["title"])} == set(song["clip_ids"])
    ticks = events_of(studio, operation, "SONG_CREATION_PROGRESS")
    assert any(tick.get("song_status") == "created" and tick.get("title") == "Neon Two" for tick in ticks)


def test_more_options_stays_closed_unless_one_of_its_options_is_asked_and_a_model_key_works(
    studio: BackendProcess, page: StandinControl
) -> None:
    before, loads = len(page.generated()), more_options_loads(page)

    _, done = create(studio, prompt("Plain Wild"), advanced_options={"model": "chirp-hawk-wild"})

    assert done["status"] == "completed", done.get("error")
    (body,) = sent_since(page, before)
    assert body["mv"] == "chirp-hawk-wild"
    assert body["negative_tags"] == ""
    assert "weirdness_constraint" not in body["metadata"]["control_sliders"], "the page's own setting kept"
    assert body["project_id"] is None
    assert body["metadata"]["vocal_gender"] is None
    assert more_options_loads(page) == loads


@pytest.mark.parametrize(
    ("control", "named", "options"),
    [
        ("lyrics", "the lyrics show 1 line(s) instead of 2", {}),
        ("title", "the title shows '' instead of 'Stubborn'", {}),
        ("weirdness", "the weirdness shows 50 instead of 35", {"weirdness": 35}),
        ("model", "the model shows 'v6' instead of 'v6-wild'", {"model": "v6-wild"}),
        ("vocal_male", "the vocal gender is not male", {"vocal_gender": "male"}),
    ],
)
def test_a_field_that_does_not_take_fails_the_song_before_create_naming_it(
    studio: BackendProcess, page: StandinControl, control: str, named: str, options: dict[str, Any]
) -> None:
    before = len(page.generated())
    page.create(stubborn=[control])

    operation, done = create(studio, prompt("Stubborn"), advanced_options=options)

    assert (done["status"], done["error_code"]) == ("failed", "BATCH_CREATION_FAILED")
    (song,) = done["details"]["songs"]
    assert named in song["error"]
    assert "nothing was submitted" in song["error"]
    assert [error["error_code"] for error in events_of(studio, operation, "ERROR_UPDATE")] == ["SONG_CREATION_FAILED"]
    assert sent_since(page, before) == []


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        (
            {"prompts": [prompt("Long", lyrics="la " * 1_700)]},
            "$.prompts[0].lyrics",
            "the lyrics: 5100 characters, more than the 5000 Suno takes",
        ),
        (
            {"prompts": [prompt("t" * 101)]},
            "$.prompts[0].title",
            "the title: 101 characters, more than the 100 Suno takes",
        ),
        (
            {"advanced_options": {"exclude_styles": "x" * 1_001}},
            "$.advanced_options.exclude_styles",
            "exclude styles: 1001 characters, more than the 1000 Suno takes",
        ),
        ({"advanced_options": {"model": "v5"}}, "$.advanced_options.model", "'v5' was retired by Suno"),
        ({"advanced_options": {"model": "v9"}}, "$.advanced_options.model", "'v9' is not a model Suno offers"),
        ({"workspace": "../other"}, "$.workspace", ""),
        ({"advanced_options": {"vocal_gender": "robot"}}, "$.advanced_options.vocal_gender", ""),
    ],
)
def test_limits_models_and_workspaces_are_refused_up_front_naming_the_field(
    studio: BackendProcess, page: StandinControl, change: dict[str, Any], field: str, message: str
) -> None:
    before = len(page.generated())
    payload = {"account_name": "ada", "prompts": [prompt("Fine")], "auto_submit": True, **change}

    error = studio.error("CREATE_SONGS_BATCH", payload)

    assert error["error_code"] == "INVALID_PAYLOAD"
    assert message in error["error"]
    assert field in str(error.get("details")) or field in error["error"]
    if "model" in field:
        assert "v6 (chirp-hawk), v6-wild (chirp-hawk-wild), v6-mini (chirp-goose)" in error["error"]
    assert sent_since(page, before) == []


@pytest.mark.parametrize(
    ("widget", "token"), [("invisible", "standin-invisible-pass"), ("brief", "standin-quick-pass")]
)
def test_a_captcha_that_passes_by_itself_unseen_or_seen_a_moment_is_no_warning_even_headless(
    studio: BackendProcess, page: StandinControl, widget: str, token: str
) -> None:
    before = len(page.generated())
    page.create(captcha=widget)

    operation, done = create(studio, prompt(f"Quiet Pass {widget}"))

    assert done["status"] == "completed", done.get("error")
    (body,) = sent_since(page, before)
    assert body["token"] == token
    assert events_of(studio, operation, "WARNING_UPDATE") == []


def test_a_visible_captcha_in_a_headless_browser_fails_the_song_and_says_to_run_headed(
    studio: BackendProcess, page: StandinControl
) -> None:
    before = len(page.generated())
    page.create(captcha="visible")

    _, done = create(studio, prompt("Nobody Sees"))

    assert done["status"] == "failed"
    (song,) = done["details"]["songs"]
    assert "headless" in song["error"]
    assert "LAUNCH_BROWSER with headless false" in song["error"]
    assert sent_since(page, before) == []


def test_a_visible_captcha_in_a_headed_browser_is_a_warning_and_a_wait_for_a_person(
    studio: BackendProcess, page: StandinControl
) -> None:
    before = len(page.generated())
    page.create(captcha="visible")
    started = studio.ok(
        "CREATE_SONGS_BATCH", {"account_name": "bea", "prompts": [prompt("Prove It")], "auto_submit": True}
    )
    operation = started["operation_id"]

    warning = studio.wait_event(
        lambda e: e["type"] == "WARNING_UPDATE" and e["payload"].get("operation_id") == operation, timeout=30
    )
    assert warning["payload"]["warning_code"] == "CAPTCHA_REQUIRED"
    assert sent_since(page, before) == []
    page.create(captcha="off")  # the person solved it

    done = terminal(studio, operation, timeout=60)
    assert done["status"] == "completed", done.get("error")
    (body,) = sent_since(page, before)
    assert (body["title"], body["token"]) == ("Prove It", "standin-person-pass")


def test_a_full_queue_is_a_warning_and_a_wait_then_the_song_is_made(
    studio: BackendProcess, page: StandinControl
) -> None:
    before = len(page.generated())
    page.create(queue_full=1)

    operation, done = create(studio, prompt("Patience"))

    assert done["status"] == "completed", done.get("error")
    assert done["result"]["created"] == 1
    warnings = events_of(studio, operation, "WARNING_UPDATE")
    assert [warning["warning_code"] for warning in warnings] == ["QUEUE_FULL"]
    assert [body["title"] for body in sent_since(page, before)] == ["Patience", "Patience"]


def test_a_failing_song_does_not_stop_the_others_and_only_all_failing_fails_the_batch(
    studio: BackendProcess, page: StandinControl
) -> None:
    page.create(fail_titles=["Broken", "Also Broken"])

    operation, done = create(studio, prompt("Fine A"), prompt("Broken"), prompt("Fine B"))

    assert done["status"] == "completed", done.get("error")
    assert (done["result"]["created"], done["result"]["failed"]) == (2, 1)
    (failed,) = [song for song in done["result"]["songs"] if song["status"] == "failed"]
    assert failed["title"] == "Broken"
    assert "HTTP 500" in failed["error"]
    errors = events_of(studio, operation, "ERROR_UPDATE")
    assert [error["error_code"] for error in errors] == ["SONG_CREATION_FAILED"]
    assert [item["status"] for item in history_of(studio, "Broken")] == ["failed"]

    _, done = create(studio, prompt("Broken"), prompt("Also Broken"))
    assert done["status"] == "failed"
    assert done["error_code"] == "BATCH_CREATION_FAILED"
