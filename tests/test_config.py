"""A config file the backend cannot use stops it at start, on every door, with one line naming the key."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any, Final

import pytest

from tests.support import DESKBRIDGE

BAD: Final = [
    pytest.param({"web": {"outbox_bytes": "x"}}, "web config: Expected `int`, got `str` - at `$.web.outbox_bytes`",
                 id="web value of the wrong type"),
    pytest.param({"web": {"outbox_bytes": 10}}, "web config: Expected `int` >= 65536 - at `$.web.outbox_bytes`",
                 id="web value out of range"),
    pytest.param({"web": {"allowed_origin": ["app://desk"]}},
                 "web config: Object contains unknown field `allowed_origin`", id="web key misspelt"),
    pytest.param({"web": []}, "web config: Expected `object`, got `array` - at `$.web`", id="web not an object"),
    pytest.param({"events": {"max_count": "lots"}},
                 "events config: Expected `int | null`, got `str` - at `$.events.max_count`",
                 id="events value of the wrong type"),
    pytest.param({"events": {"max_age_days": 0}}, "events config: Expected `float` > 0.0 - at `$.events.max_age_days`",
                 id="events value out of range"),
    pytest.param({"events": {"max_megabytes": 0.5}},
                 "events config: Expected `float` >= 1.0 - at `$.events.max_megabytes`", id="events size below a MiB"),
    pytest.param({"events": {"keep": 1}}, "events config: Object contains unknown field `keep` - at `$.events`",
                 id="events key unknown"),
    pytest.param({"studio": {"downloads": {"parallel": 99}}},
                 "studio config: Expected `int` <= 16 - at `$.studio.downloads.parallel`", id="an app's section"),
]  # fmt: skip


def start(door: str, apps: list[str], config: dict[str, Any], tmp_path: Path) -> tuple[int, dict[str, Any]]:
    """Start a backend on ``config``: its exit status and its first stderr line."""
    tmp_path.mkdir(exist_ok=True)
    path = tmp_path / "config.json"
    path.write_text(json.dumps(config))
    extra = ["--port", "0"] if door == "serve" else []
    done = subprocess.run(
        [*DESKBRIDGE, door, *apps, *extra, "--data-dir", str(tmp_path / "data"), "--config", str(path)],
        stdin=subprocess.DEVNULL, capture_output=True, timeout=60, check=False,
    )  # fmt: skip
    return done.returncode, json.loads(done.stderr.split(b"\n", 1)[0])


@pytest.mark.parametrize(("config", "message"), BAD)
def test_a_bad_core_or_app_section_is_a_start_failure_naming_the_key(
    config: dict[str, Any], message: str, tmp_path: Path
) -> None:
    status, first = start("serve", ["diag", "studio"], config, tmp_path)
    assert status == 1
    assert first["type"] == "BACKEND_ERROR"
    assert first["error"].startswith(message)


def test_the_stdio_door_checks_the_core_sections_too(tmp_path: Path) -> None:
    status, first = start("stdio", ["diag"], {"events": {"max_count": 0}}, tmp_path)
    assert (status, first["type"]) == (1, "BACKEND_ERROR")
    assert first["error"] == "events config: Expected `int` >= 1 - at `$.events.max_count`"


def test_the_guardian_reads_the_top_level_but_leaves_the_core_sections_to_the_core(tmp_path: Path) -> None:
    config = {
        "events": {"max_count": 5000},
        "web": {"allowed_origins": ["app://desk"]},
        "monitor": {"poll_interval": 2},
    }
    status, first = start("stdio", ["guardian"], config, tmp_path)
    assert (status, first["type"]) == (0, "BACKEND_READY"), first
    status, first = start("stdio", ["guardian"], {"monitor": {"poll_intervall": 2}}, tmp_path / "again")
    assert (status, first["type"]) == (1, "BACKEND_ERROR")
    assert "guardian config: Object contains unknown field `poll_intervall` - at `$.monitor`" in first["error"]
