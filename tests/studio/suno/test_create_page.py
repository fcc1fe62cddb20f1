"""The create page's config: models by the names the page shows or by key, and ways to find a control."""

from __future__ import annotations

import msgspec
import pytest

from deskbridge.studio.suno.create_page import CreatePage, Locate


@pytest.mark.parametrize(
    ("asked", "key"), [("v6", "chirp-hawk"), ("V6-Mini", "chirp-goose"), ("chirp-hawk-wild", "chirp-hawk-wild")]
)
def test_a_model_is_named_as_the_page_shows_it_or_by_its_key(asked: str, key: str) -> None:
    assert CreatePage().model_key(asked) == key


@pytest.mark.parametrize(
    ("asked", "why"), [("v5.5", "was retired"), ("chirp-crow", "was retired"), ("v9", "is not a model")]
)
def test_a_retired_or_unknown_model_is_refused_with_the_current_ones(asked: str, why: str) -> None:
    with pytest.raises(ValueError, match=why) as caught:
        CreatePage().model_key(asked)
    assert "v6 (chirp-hawk), v6-wild (chirp-hawk-wild), v6-mini (chirp-goose)" in str(caught.value)


def test_a_way_describes_itself_and_fills_in_the_model() -> None:
    assert Locate(role="button", name="Create song").describe() == 'role=button[name="Create song"]'
    assert Locate(placeholder="Song Title", exact=False).describe() == 'placeholder~="Song Title"'
    assert Locate(css="p.x").describe() == "css=p.x"
    assert Locate(role="menuitem", name="{model}").filled(model="v6").name == "v6"


@pytest.mark.parametrize(
    "fields", [{}, {"role": "button", "css": "b"}, {"name": "Create"}, {"placeholder": "x", "name": "y"}]
)
def test_a_way_is_exactly_one_of_role_placeholder_label_css(fields: dict[str, str]) -> None:
    with pytest.raises(msgspec.ValidationError):
        msgspec.convert(fields, Locate)
