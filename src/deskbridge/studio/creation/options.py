"""What a batch asks of the create page beyond the prompts, and the checks it passes before any browser opens.

Suno's limits and models live in the config (:mod:`deskbridge.studio.suno.create_page`),
so they are checked here, against it, rather than by the payload's types: a
field over its limit or a retired model is ``INVALID_PAYLOAD`` naming the
field, and nothing is silently cut.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Literal

import msgspec

from deskbridge.studio.fields import SINGLE_LINE, STYLE_MAX, invalid
from deskbridge.studio.library.prompts import PromptIn
from deskbridge.studio.suno.create_page import CreatePage, too_long

Percent = Annotated[int, msgspec.Meta(ge=0, le=100)]
ModelName = Annotated[str, msgspec.Meta(min_length=1, max_length=40)]
ExcludeStyles = Annotated[str, msgspec.Meta(max_length=STYLE_MAX, pattern=SINGLE_LINE)]
"""Longer than Suno's limit is let through here, to be refused by :func:`check_request` naming the limit."""


class AdvancedOptions(msgspec.Struct, kw_only=True, omit_defaults=True, forbid_unknown_fields=True):
    """The create page's advanced options; what is left out keeps the page's own setting."""

    weirdness: Percent | None = None
    creativity: Percent | None = None
    """Shown by Suno as "Style Influence"."""
    model: ModelName | None = None
    """A name the page shows (``v6-mini``) or a key (``chirp-goose``)."""
    exclude_styles: ExcludeStyles | None = None
    vocal_gender: Literal["male", "female"] | None = None
    """Left out: the model decides."""

    def needs_more_options(self) -> bool:
        """Whether one of these options lives in the page's collapsed More Options section."""
        more = (self.exclude_styles, self.weirdness, self.creativity, self.vocal_gender)
        return any(value is not None for value in more)


def check_request(page: CreatePage, prompts: Sequence[PromptIn], options: AdvancedOptions) -> None:
    """``INVALID_PAYLOAD`` for a model Suno does not offer or a field longer than Suno takes."""
    if options.model is not None:
        try:
            page.model_key(options.model)
        except ValueError as exc:
            raise invalid("$.advanced_options.model", str(exc), models=dict(page.models)) from None
    exclude = options.exclude_styles
    if exclude is not None and len(exclude) > page.limits.exclude_styles:
        raise invalid(
            "$.advanced_options.exclude_styles", too_long("exclude styles", exclude, page.limits.exclude_styles)
        )
    page.limits.check(prompts)
