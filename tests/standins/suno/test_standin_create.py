"""The stand-in's generate route as a raw HTTP client sees it: Suno's answer shape, clips that complete, refusals."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from deskbridge_standins.suno import StandinControl
from tests.support import wait_until

BODY = {
    "prompt": "[Verse]\nla",
    "tags": "pop",
    "title": "Raw",
    "negative_tags": "metal",
    "mv": "chirp-hawk",
    "make_instrumental": False,
    "metadata": {"control_sliders": {"weirdness_constraint": 0.3, "style_weight": 0.7}},
}


def generate(suno: StandinControl, token: str | None) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return httpx.post(f"{suno.base_url}/api/generate/v2-web/", json=BODY, headers=headers)


def test_a_generation_answers_two_submitted_clips_that_are_in_the_feed_at_once_and_complete_later(
    suno: StandinControl,
) -> None:
    suno.create(delay=0.2)
    token = suno.session()["jwt"]

    answer = generate(suno, token)

    assert answer.status_code == 200
    clips = answer.json()["clips"]
    assert [clip["status"] for clip in clips] == ["submitted", "submitted"]
    assert [clip["batch_index"] for clip in clips] == [0, 1]
    assert {clip["title"] for clip in clips} == {"Raw"}
    assert suno.generated() == [BODY]
    feed = httpx.get(f"{suno.base_url}/api/feed/v2", headers={"Authorization": f"Bearer {token}"}).json()["clips"]
    assert {clip["id"]: clip["status"] for clip in feed} == {clip["id"]: "submitted" for clip in clips}

    def fed() -> list[dict[str, Any]]:
        clips: list[dict[str, Any]] = httpx.get(
            f"{suno.base_url}/api/feed/v2", headers={"Authorization": f"Bearer {token}"}
        ).json()["clips"]
        return clips

    wait_until(lambda: [clip["status"] for clip in fed()] == ["complete", "complete"], 10, "both clips complete")
    feed = fed()
    assert feed[0]["metadata"]["prompt"] == BODY["prompt"]
    assert feed[0]["metadata"]["negative_tags"] == "metal"


def test_refusals_no_token_a_full_queue_a_failing_title_and_the_captcha_check(suno: StandinControl) -> None:
    token = suno.session()["jwt"]
    assert generate(suno, None).status_code == 401

    suno.create(queue_full=1, fail_titles=["Raw"])
    full = generate(suno, token)
    assert full.status_code == 429
    assert "generations in progress" in full.json()["detail"]
    assert generate(suno, token).status_code == 500
    check = httpx.post(
        f"{suno.base_url}/api/c/check", json={"ctype": "generation"}, headers={"Authorization": f"Bearer {token}"}
    )
    assert check.json() == {"required": False, "captcha_version": 2}
    suno.create(captcha="invisible")
    check = httpx.post(
        f"{suno.base_url}/api/c/check", json={"ctype": "generation"}, headers={"Authorization": f"Bearer {token}"}
    )
    assert check.json() == {"required": True, "captcha_version": 2}
    assert generate(suno, token).json() == {"detail": "Token validation failed"}, "a required captcha needs a token"
    assert len(suno.generated()) == 3
    suno.reset()
    assert suno.generated() == []


@pytest.mark.parametrize(
    ("change", "detail"),
    [
        ({"mv": "chirp-crow"}, "Model 'chirp-crow' is not available"),
        ({"title": "t" * 101}, "title is longer than 100 characters"),
        ({"prompt": "p" * 5_001}, "prompt is longer than 5000 characters"),
        ({"tags": "s" * 1_001}, "tags is longer than 1000 characters"),
        ({"negative_tags": "n" * 1_001}, "negative_tags is longer than 1000 characters"),
    ],
)
def test_what_suno_refuses_since_v6_a_retired_model_and_fields_over_their_limits(
    suno: StandinControl, change: dict[str, str], detail: str
) -> None:
    answer = httpx.post(
        f"{suno.base_url}/api/generate/v2-web/",
        json={**BODY, **change},
        headers={"Authorization": f"Bearer {suno.session()['jwt']}"},
    )
    assert (answer.status_code, answer.json()) == (422, {"detail": detail})
