"""Every Suno location comes from one struct, and the config can move any of them but cannot misspell one."""

from __future__ import annotations

import pytest

from deskbridge.studio.suno.create_page import Locate
from deskbridge.studio.suno.endpoints import Endpoints, endpoints_from_config


def test_the_defaults_are_the_public_suno_hosts_and_paths() -> None:
    endpoints = endpoints_from_config(None)
    assert endpoints == Endpoints()
    assert endpoints.api(endpoints.feed_path) == "https://studio-api.prod.suno.com/api/feed/v2"
    assert endpoints.clerk(endpoints.clerk_token_path, sid="sess_1") == (
        "https://auth.suno.com/v1/client/sessions/sess_1/tokens"
    )
    assert endpoints.song_url("abc") == "https://suno.com/song/abc"
    assert endpoints.create_page.models["v6"] == "chirp-hawk"


def test_a_config_section_overrides_hosts_and_single_controls() -> None:
    endpoints = endpoints_from_config(
        {
            "api_base": "https://studio-api-prod.suno.com",
            "create_page": {"controls": {"create": [{"role": "button", "name": "Créer"}]}, "limits": {"title": 80}},
        }
    )
    assert endpoints.api_base == "https://studio-api-prod.suno.com"
    assert endpoints.create_page.controls.create == (Locate(role="button", name="Créer"),)
    defaults = Endpoints().create_page
    assert endpoints.create_page.controls.lyrics == defaults.controls.lyrics, "other controls keep their default"
    assert endpoints.create_page.limits.title == 80
    assert endpoints.create_page.limits.lyrics == defaults.limits.lyrics, "other limits keep theirs"
    assert endpoints.clerk_base == "https://auth.suno.com"


def test_maps_are_replaced_whole_so_a_parameter_can_be_dropped() -> None:
    endpoints = endpoints_from_config({"feed_params": {"hide_disliked": "false"}})
    assert endpoints.feed_params == {"hide_disliked": "false"}


@pytest.mark.parametrize(
    ("section", "named"),
    [
        ({"api_bse": "https://x.example"}, "`api_bse`"),
        ({"selectors": {"clerk_redy": "x"}}, "`clerk_redy`"),
        ({"create_page": {"controls": {"craete": []}}}, "`craete`"),
        ({"create_page": {"controls": {"create": []}}}, "studio.suno.create_page.controls.create"),
        ({"create_page": {"controls": {"create": [{"role": "button", "css": "b"}]}}}, "exactly one of"),
        ({"api_base": "https://x.example/"}, "studio.suno.api_base"),
        ({"clip_path": "api/clip/{id}"}, "studio.suno.clip_path"),
        ({"create_page": {"controls": {"lyrics": "div.editor"}}}, "studio.suno.create_page.controls.lyrics"),
        ({"create_page": {"limits": {"title": 201}}}, "studio.suno.create_page.limits.title"),  # past the field
        ({"create_page": {"limits": {"lyrics": 20_001}}}, "studio.suno.create_page.limits.lyrics"),
        ({"create_page": {"limits": {"style": 10_001}}}, "studio.suno.create_page.limits.style"),
        ({"create_page": {"limits": {"exclude_styles": 0}}}, "studio.suno.create_page.limits.exclude_styles"),
    ],
)
def test_unknown_keys_and_bad_values_are_refused_by_name(section: dict[str, object], named: str) -> None:
    with pytest.raises(ValueError, match=r"invalid studio\.suno config") as caught:
        endpoints_from_config(section)
    assert named in str(caught.value)


def test_ids_are_quoted_into_paths_so_they_cannot_change_the_route() -> None:
    assert Endpoints().api("/api/clip/{id}", id="../billing?x=1") == (
        "https://studio-api.prod.suno.com/api/clip/..%2Fbilling%3Fx%3D1"
    )


@pytest.mark.parametrize(
    ("audio_url", "forbidden"),
    [
        ("https://studio-api.prod.suno.com/api/forbidden", True),
        ("https://studio-api.prod.suno.com/api/forbidden?x=1", True),
        ("", True),
        (None, True),
        ("https://cdn1.suno.ai/abc.mp3", False),
    ],
)
def test_the_forbidden_placeholder_is_recognised(audio_url: str | None, forbidden: bool) -> None:
    assert Endpoints().is_forbidden_audio(audio_url) is forbidden
