"""FETCH_CLIPS over stdio against the stand-in Suno: every page, public profiles, and every way Suno can fail.

The token comes in the payload (seed 000's ``session_token``), minted by the
stand-in; refreshing it through an account's browser is in
``test_browser_sessions.py``.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from deskbridge_standins.suno import StandinControl
from tests.studio.standin_studio import stderr_text, studio_on
from tests.studio.suno import support
from tests.support import BackendProcess

standin, suno = support.standin, support.suno


@pytest.fixture(scope="module")
def studio(standin: StandinControl, tmp_path_factory: pytest.TempPathFactory) -> Iterator[BackendProcess]:
    with studio_on(standin, tmp_path_factory.mktemp("fetch")) as backend:
        yield backend


@pytest.fixture
def token(suno: StandinControl) -> str:
    return suno.session()["jwt"]


def my_songs(token: str) -> dict[str, object]:
    return {"session_token": token, "use_my_songs": True}


def test_my_songs_are_every_page_of_the_library_newest_first(
    studio: BackendProcess, suno: StandinControl, token: str
) -> None:
    seeded = suno.seed(*({"title": f"song {n}"} for n in range(45)))

    fetched = studio.ok("FETCH_CLIPS", my_songs(token))

    assert fetched["source"] == "my_songs"
    assert fetched["total"] == 45
    assert [clip["id"] for clip in fetched["clips"]] == [clip["id"] for clip in seeded]
    first = fetched["clips"][0]
    assert first["title"] == "song 0"
    assert first["audio_url"] == seeded[0]["audio_url"]
    assert first["metadata"]["tags"] == seeded[0]["metadata"]["tags"]
    feed = suno.requests("/api/feed/v2")
    assert [r["query"].rsplit("page=", 1)[1] for r in feed] == ["0", "1", "2"]
    assert all(r["bearer"] for r in feed)


def test_a_profile_is_its_public_clips_page_by_page(studio: BackendProcess, suno: StandinControl, token: str) -> None:
    suno.seed(
        {"handle": "someone", "title": "public one"},
        {"handle": "someone", "title": "private", "is_public": False},
        {"handle": "someone", "title": "public two"},
        {"title": "the account's own"},
    )

    fetched = studio.ok("FETCH_CLIPS", {"session_token": token, "profile_name": "@someone"})

    assert fetched["source"] == "profile"
    assert fetched["profile_name"] == "@someone"
    assert [clip["title"] for clip in fetched["clips"]] == ["public one", "public two"]
    pages = [r["query"] for r in suno.requests("/api/profiles/someone")]
    assert [q.rsplit("page=", 1)[1] for q in pages] == ["1", "2"]

    error = studio.error("FETCH_CLIPS", {"session_token": token, "profile_name": "@nobody-here"})
    assert error["error_code"] == "INVALID_PAYLOAD"
    assert "@nobody-here" in error["error"]


def test_use_my_songs_wins_over_a_profile_name_as_in_the_seeds_example(
    studio: BackendProcess, suno: StandinControl, token: str
) -> None:
    suno.seed({"title": "mine"}, {"handle": "someone", "title": "theirs"})
    fetched = studio.ok("FETCH_CLIPS", {**my_songs(token), "profile_name": "@someone", "use_create_page": False})
    assert [clip["title"] for clip in fetched["clips"]] == ["mine"]


def test_what_to_fetch_must_be_said_and_the_create_page_needs_an_account(
    studio: BackendProcess, suno: StandinControl, token: str
) -> None:
    error = studio.error("FETCH_CLIPS", {"session_token": token})
    assert error["error_code"] == "INVALID_PAYLOAD"
    assert error["details"]["fields"] == ["$.use_my_songs"]

    error = studio.error("FETCH_CLIPS", {**my_songs(token), "use_create_page": True})
    assert error["error_code"] == "INVALID_PAYLOAD"
    assert error["details"]["fields"] == ["$.account_name"]
    error = studio.error("FETCH_CLIPS", {"account_name": "nobody", "use_create_page": True})
    assert error["error_code"] == "ACCOUNT_NOT_FOUND"
    assert suno.requests() == []


def test_tokens_that_cannot_work_are_refused_before_suno_is_asked(studio: BackendProcess, suno: StandinControl) -> None:
    for what in ({"use_my_songs": True}, {"profile_name": "@someone"}):
        assert studio.error("FETCH_CLIPS", what)["error_code"] == "SESSION_NOT_FOUND"
    error = studio.error("FETCH_CLIPS", my_songs("jwt_token"))
    assert error["error_code"] == "INVALID_PAYLOAD"
    assert error["details"]["fields"] == ["$.session_token"]
    assert studio.error("FETCH_CLIPS", {"account_name": "nobody", "use_my_songs": True})["error_code"] == (
        "ACCOUNT_NOT_FOUND"
    )
    assert suno.requests() == []


def test_a_refused_token_without_an_account_to_refresh_from_is_session_not_found(
    studio: BackendProcess, suno: StandinControl, token: str
) -> None:
    suno.revoke()
    error = studio.error("FETCH_CLIPS", my_songs(token))
    assert error["error_code"] == "SESSION_NOT_FOUND"
    assert len(suno.requests("/api/feed/v2")) == 1


def test_429_waits_as_long_as_retry_after_says(studio: BackendProcess, suno: StandinControl, token: str) -> None:
    suno.seed({"title": "patience"})
    suno.faults({"path": "/api/feed/v2", "status": 429, "headers": {"Retry-After": "1"}})

    fetched = studio.ok("FETCH_CLIPS", my_songs(token))

    assert [clip["title"] for clip in fetched["clips"]] == ["patience"]
    first, second = suno.requests("/api/feed/v2")
    assert second["time"] - first["time"] >= 0.95
    assert "Suno answered HTTP 429 to GET /api/feed/v2 (Retry-After: 1)" in stderr_text(studio)


def test_5xx_is_retried_with_backoff_then_reported(studio: BackendProcess, suno: StandinControl, token: str) -> None:
    suno.seed({"title": "eventually"})
    suno.faults({"path": "/api/feed/v2", "status": 502, "times": 2})
    assert studio.ok("FETCH_CLIPS", my_songs(token))["total"] == 1
    assert len(suno.requests("/api/feed/v2")) == 3

    suno.faults({"path": "/api/feed/v2", "status": 503, "times": None})
    error = studio.error("FETCH_CLIPS", my_songs(token))
    assert error["error_code"] == "INTERNAL_ERROR"
    assert "HTTP 503" in error["error"]
    assert error["details"] == {"status": 503}
    assert len(suno.requests("/api/feed/v2")) == 3 + 4  # the configured 4 tries


def test_an_answer_of_the_wrong_shape_is_a_clear_error(
    studio: BackendProcess, suno: StandinControl, token: str
) -> None:
    suno.faults(
        {"path": "/api/feed/v2", "status": 200, "body": "<html>maintenance</html>", "content_type": "text/html"}
    )
    error = studio.error("FETCH_CLIPS", my_songs(token))
    assert error["error_code"] == "INTERNAL_ERROR"
    assert "not what the studio expects" in error["error"]


def test_the_token_never_reaches_the_log(studio: BackendProcess, suno: StandinControl, token: str) -> None:
    suno.faults({"path": "/api/feed/v2", "status": 500})
    studio.ok("FETCH_CLIPS", my_songs(token))
    assert token.rsplit(".", 1)[1] not in stderr_text(studio)


@pytest.mark.parametrize(
    ("studio_section", "named"),
    [({"browser": {"headles": True}}, "studio.browser"), ({"suno": {"api_bse": "http://x"}}, "studio.suno")],
)
def test_a_setting_the_studio_does_not_know_stops_the_backend_at_start(
    standin: StandinControl, tmp_path: Path, studio_section: dict[str, Any], named: str
) -> None:
    with pytest.raises(RuntimeError, match="BACKEND_ERROR") as failed, studio_on(standin, tmp_path, **studio_section):
        pass
    assert named in str(failed.value)
