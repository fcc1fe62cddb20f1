"""Suno's create page as the studio sees it: where each control is, the models, the limits. All of it config.

Suno changes this page every few weeks, so nothing here is trusted for long:
each control has a list of ways to find it (tried in order, visible
elements only), and the ``studio.suno.create_page`` section of the config
replaces any control's list, the models or the limits without a release::

    {"studio": {"suno": {"create_page": {
        "controls": {"create": [{"role": "button", "name": "Generate song"}]},
        "models": {"v6": "chirp-hawk", "v7": "chirp-owl"}}}}}

The defaults follow the page of December 2026 (``docs/studio.md``).
``CHECK_CREATE_PAGE`` tells which control no longer matches.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Final, Literal, Protocol

import msgspec

from deskbridge.studio.fields import LYRICS_MAX, STYLE_MAX, TITLE_MAX, invalid

Text = Annotated[str, msgspec.Meta(min_length=1, max_length=500)]
LimitedField = Literal["title", "lyrics", "style"]
"""A prompt's fields Suno limits."""


class Locate(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True, omit_defaults=True):
    """One way to find a control: by ARIA role and accessible name, placeholder, label, or a CSS selector.

    Names, placeholders and labels match whole and case-sensitively unless
    ``exact`` is false (then any part, ignoring case). ``{model}`` in a name is
    replaced by the model being looked for.
    """

    role: Text | None = None
    name: Text | None = None
    placeholder: Text | None = None
    label: Text | None = None
    css: Text | None = None
    exact: bool = True

    def __post_init__(self) -> None:
        ways = [way for way in (self.role, self.placeholder, self.label, self.css) if way is not None]
        if len(ways) != 1:
            raise ValueError("give exactly one of role, placeholder, label, css")
        if self.name is not None and self.role is None:
            raise ValueError("name goes with role")

    def describe(self) -> str:
        """The way as a person reads it in the page check's table."""
        quote = "=" if self.exact else "~="
        if self.role is not None:
            return f'role={self.role}[name{quote}"{self.name}"]' if self.name is not None else f"role={self.role}"
        if self.placeholder is not None:
            return f'placeholder{quote}"{self.placeholder}"'
        if self.label is not None:
            return f'label{quote}"{self.label}"'
        return f"css={self.css}"

    def filled(self, **values: str) -> Locate:
        """This way with ``{model}`` (and the like) in its name replaced."""
        if self.name is None or "{" not in self.name:
            return self
        return msgspec.structs.replace(self, name=self.name.format_map(values))


Control = Annotated[tuple[Locate, ...], msgspec.Meta(min_length=1, max_length=20)]


class Controls(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Every control the studio uses, each with its ways to find it, the first that matches winning."""

    advanced_tab: Control = (Locate(role="tab", name="Advanced"),)
    lyrics: Control = (
        Locate(role="textbox", name="Lyrics editor"),
        Locate(css="div.lyrics-editor-content[contenteditable]"),
        Locate(css='[data-testid="lyrics-textarea"]'),
    )
    styles: Control = (
        Locate(css='[data-testid="create-form-styles-wrapper"] textarea'),
        Locate(css='[data-testid="create-form-styles-wrapper"] [contenteditable]'),
    )
    title: Control = (Locate(placeholder="Song Title (Optional)"), Locate(placeholder="Song Title", exact=False))
    more_options: Control = (Locate(role="button", name="More Options", exact=False),)
    exclude_styles: Control = (Locate(placeholder="Exclude styles"), Locate(label="Exclude", exact=False))
    weirdness: Control = (Locate(role="slider", name="Weirdness"), Locate(role="slider", name="Bizarreness"))
    style_influence: Control = (Locate(role="slider", name="Style Influence", exact=False),)
    vocal_male: Control = (Locate(role="button", name="Male"),)
    vocal_female: Control = (Locate(role="button", name="Female"),)
    model: Control = (
        Locate(css='button[aria-haspopup="menu"][aria-label^="Model"]'),
        Locate(role="button", name="Model:", exact=False),
    )
    model_item: Control = (Locate(role="menuitem", name="{model}"), Locate(role="menuitemradio", name="{model}"))
    create: Control = (Locate(role="button", name="Create song"), Locate(css='button[aria-label="Create song"]'))


class Limits(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """The most characters Suno takes in each field; longer is refused up front, never cut."""

    title: Annotated[int, msgspec.Meta(ge=1, le=TITLE_MAX)] = 100
    lyrics: Annotated[int, msgspec.Meta(ge=1, le=LYRICS_MAX)] = 5_000
    style: Annotated[int, msgspec.Meta(ge=1, le=STYLE_MAX)] = 1_000
    exclude_styles: Annotated[int, msgspec.Meta(ge=1, le=STYLE_MAX)] = 1_000

    def over(self, prompt: SunoPrompt) -> list[tuple[LimitedField, str]]:
        """The prompt's fields longer than Suno takes, each with what to say of it (Python's ``len``: characters)."""
        fields: list[tuple[LimitedField, str, int]] = [
            ("title", prompt.title, self.title),
            ("lyrics", prompt.lyrics, self.lyrics),
            ("style", prompt.style, self.style),
        ]
        return [(field, too_long(f"the {field}", text, limit)) for field, text, limit in fields if len(text) > limit]

    def check(self, prompts: Sequence[SunoPrompt]) -> None:
        """``INVALID_PAYLOAD`` naming the first field of ``$.prompts`` longer than Suno takes."""
        for index, prompt in enumerate(prompts):
            if found := self.over(prompt):
                field, message = found[0]
                raise invalid(f"$.prompts[{index}].{field}", message)


class SunoPrompt(Protocol):
    """The parts of a prompt Suno limits (a library ``PromptIn`` is one)."""

    @property
    def title(self) -> str: ...
    @property
    def lyrics(self) -> str: ...
    @property
    def style(self) -> str: ...


def too_long(what: str, text: str, limit: int) -> str:
    return f"{what}: {len(text)} characters, more than the {limit} Suno takes"


MODELS: Final = {"v6": "chirp-hawk", "v6-wild": "chirp-hawk-wild", "v6-mini": "chirp-goose"}
RETIRED: Final = {
    "v3.5": "chirp-v3-5",
    "v4": "chirp-v4",
    "v4.5": "chirp-auk",
    "v4.5+": "chirp-bluejay",
    "v5": "chirp-crow",
    "v5.5": "chirp-fenix",
}


class CreatePage(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    controls: Controls = Controls()
    models: dict[Text, Text] = msgspec.field(default_factory=lambda: dict(MODELS))
    """The name the page shows for each model, and the key it sends as ``mv``."""
    retired: dict[Text, Text] = msgspec.field(default_factory=lambda: dict(RETIRED))
    """Models Suno no longer makes songs with (every one before v6, since 2026-09-09)."""
    limits: Limits = Limits()
    control_wait: Annotated[float, msgspec.Meta(gt=0, le=120)] = 10.0
    """Seconds a control may take to appear (the page renders after it loads, More Options after a click)."""
    paragraph: Text = "p"
    """A line of the lyrics editor, inside it."""
    dialog: Text = '[role="dialog"]'
    queue_full_text: Text = "generation in progress"
    captcha_markers: tuple[Text, ...] = ("turnstile", "hcaptcha", "challenges.cloudflare.com")
    """Words in the ``src`` or ``title`` of a challenge's iframe."""
    challenge_grace: Annotated[float, msgspec.Meta(ge=0, le=120)] = 3.0
    """Seconds a challenge must stay in sight before it is taken for one a person must solve."""

    def model_key(self, asked: str) -> str:
        """The key (``mv``) of a model given by the name the page shows or by its key, any case.

        Raises :class:`ValueError` naming the current models for a retired or unknown one.
        """
        wanted = asked.strip().lower()
        for name, key in self.models.items():
            if wanted in (name.lower(), key.lower()):
                return key
        current = ", ".join(f"{name} ({key})" for name, key in self.models.items())
        retired = any(wanted in (name.lower(), key.lower()) for name, key in self.retired.items())
        why = "was retired by Suno" if retired else "is not a model Suno offers"
        raise ValueError(f"model {asked!r} {why}; the current ones are {current}")

    def model_name(self, key: str) -> str:
        """The name the page shows for a model's key."""
        return next(name for name, known in self.models.items() if known == key)
