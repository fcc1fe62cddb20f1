"""CHECK_CREATE_PAGE in real headless Chromium on the stand-in's create page, over stdio.

The stand-in can leave controls out (``drop``) or rename them (``relabel``)
the way Suno's page drifts; the check must name exactly those, with every way
it tried, and a config that knows the new name must fix it without a release.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from deskbridge_standins.suno import StandinControl
from tests.studio.standin_studio import config_for, needs_chromium, studio_on, terminal
from tests.studio.suno import support
from tests.support import BackendProcess

standin = support.standin

pytestmark = needs_chromium

CONTROLS = [
    "advanced_tab", "lyrics", "styles", "title", "more_options", "exclude_styles", "weirdness", "style_influence",
    "vocal_male", "vocal_female", "model", "model_item v6", "model_item v6-wild", "model_item v6-mini", "create",
]  # fmt: skip


@pytest.fixture(scope="module")
def studio(standin: StandinControl, tmp_path_factory: pytest.TempPathFactory) -> Iterator[BackendProcess]:
    suno = {**config_for(standin)["studio"]["suno"], "create_page": {"control_wait": 2}}
    with studio_on(standin, tmp_path_factory.mktemp("check"), suno=suno) as backend:
        backend.ok("CREATE_ACCOUNT", {"name": "ada"})
        backend.ok("LAUNCH_BROWSER", {"account_name": "ada", "headless": True})
        yield backend


@pytest.fixture
def page(standin: StandinControl) -> StandinControl:
    standin.create(delay=0.2, captcha="off", queue_full=0, fail_titles=[], drop=[], relabel={}, stubborn=[])
    return standin


def rows_of(check: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {row["control"]: row for row in check["controls"]}


def test_on_todays_page_every_control_is_found_by_its_first_way_and_nothing_is_sent(
    studio: BackendProcess, page: StandinControl
) -> None:
    before = len(page.generated())

    check = studio.ok("CHECK_CREATE_PAGE", {"account_name": "ADA", "workspace": "ws-1"}, timeout=60)

    assert (check["account_name"], check["ok"], check["missing"]) == ("ada", True, [])
    assert check["url"].endswith("/create?wid=ws-1")
    assert [row["control"] for row in check["controls"]] == CONTROLS
    rows = rows_of(check)
    assert [row for row in rows.values() if not (row["found"] and row["selector"] == row["tried"][0])] == []
    assert rows["create"]["selector"] == 'role=button[name="Create song"]'
    assert rows["lyrics"]["selector"] == 'role=textbox[name="Lyrics editor"]'
    assert check["captcha_required"] is False
    assert page.generated()[before:] == []


def test_a_control_removed_or_renamed_is_named_with_every_way_tried_and_a_song_fails_on_it(
    studio: BackendProcess, page: StandinControl
) -> None:
    page.create(drop=["weirdness"], relabel={"create_button": "Generate song"})

    check = studio.ok("CHECK_CREATE_PAGE", {"account_name": "ada"}, timeout=60)

    assert (check["ok"], check["missing"]) == (False, ["weirdness", "create"])
    rows = rows_of(check)
    assert rows["weirdness"] == {
        "control": "weirdness",
        "found": False,
        "selector": None,
        "tried": ['role=slider[name="Weirdness"]', 'role=slider[name="Bizarreness"]'],
    }
    assert rows["create"]["tried"] == ['role=button[name="Create song"]', 'css=button[aria-label="Create song"]']
    assert rows["style_influence"]["found"] is True

    before = len(page.generated())
    started = studio.ok(
        "CREATE_SONGS_BATCH",
        {"account_name": "ada", "auto_submit": True, "prompts": [{"title": "Lost", "style": "folk"}]},
    )
    done = terminal(studio, started["operation_id"], timeout=60)
    (song,) = done["details"]["songs"]
    assert "the create page has no Create button" in song["error"]
    assert page.generated()[before:] == []


def test_a_renamed_control_is_fixed_by_config_alone(
    standin: StandinControl, page: StandinControl, tmp_path: Path
) -> None:
    page.create(relabel={"create_button": "Generate song"})
    fix = {"create_page": {"controls": {"create": [{"role": "button", "name": "Generate song"}]}, "control_wait": 2}}
    before = len(page.generated())

    with studio_on(standin, tmp_path, suno={**config_for(standin)["studio"]["suno"], **fix}) as fixed:
        fixed.ok("CREATE_ACCOUNT", {"name": "cy"})
        fixed.ok("LAUNCH_BROWSER", {"account_name": "cy", "headless": True})
        check = fixed.ok("CHECK_CREATE_PAGE", {"account_name": "cy"}, timeout=60)
        assert (check["ok"], rows_of(check)["create"]["selector"]) == (True, 'role=button[name="Generate song"]')
        started = fixed.ok(
            "CREATE_SONGS_BATCH",
            {"account_name": "cy", "auto_submit": True, "prompts": [{"title": "Found Again", "style": "folk"}]},
        )
        done = terminal(fixed, started["operation_id"], timeout=60)

    assert done["status"] == "completed", done.get("error")
    assert [body["title"] for body in page.generated()[before:]] == ["Found Again"]


@pytest.mark.parametrize(
    ("payload", "code"),
    [
        ({}, "INVALID_PAYLOAD"),
        ({"account_name": ""}, "INVALID_PAYLOAD"),
        ({"account_name": "ada", "workspace": "a/b"}, "INVALID_PAYLOAD"),
        ({"account_name": "nobody"}, "ACCOUNT_NOT_FOUND"),
    ],
)
def test_a_bad_request_is_refused_with_a_clear_error(studio: BackendProcess, payload: Any, code: str) -> None:
    assert studio.error("CHECK_CREATE_PAGE", payload)["error_code"] == code
