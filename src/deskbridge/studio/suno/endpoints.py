"""Every Suno host, path and cookie name, and the create page (:mod:`.create_page`), in one place.

Suno moves things often (a new Clerk host in 2026, a new download route in
August 2026), so nothing else in the studio spells a Suno URL. The defaults
follow ``reference/suno.md``; the ``studio.suno`` section of the JSON config
overrides any of them::

    {"studio": {"suno": {"api_base": "https://studio-api-prod.suno.com",
                         "create_page": {"controls": {"create": [{"role": "button", "name": "Create"}]}}}}}

:func:`endpoints_from_config` merges such a section over the defaults and
refuses a key it does not know, naming it, so a typo never silently keeps the
old value. Paths are templates: ``{id}``, ``{sid}`` and ``{handle}`` are
filled (URL-quoted) by :meth:`Endpoints.api` and friends.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any, Final
from urllib.parse import quote

import msgspec

from deskbridge.studio.suno.create_page import CreatePage

SECTION: Final = "studio.suno"
_SECTIONS: Final = frozenset({"selectors", "create_page", "controls", "limits"})

BaseUrl = Annotated[str, msgspec.Meta(pattern=r"^https?://[^\s/]+(/[^\s]*[^\s/])?$")]
"""An ``http(s)`` URL without a trailing slash: paths are appended to it."""
Path = Annotated[str, msgspec.Meta(pattern=r"^/[^\s]*$")]
Text = Annotated[str, msgspec.Meta(min_length=1)]


class Selectors(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Scripts run in Suno's pages to get a session token from Clerk."""

    clerk_ready: Text = "() => Boolean(window.Clerk && window.Clerk.session)"
    clerk_token: Text = "() => window.Clerk.session.getToken()"


class Endpoints(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Where Suno lives. Build one with :func:`endpoints_from_config`; the stand-in makes its own."""

    site_origin: BaseUrl = "https://suno.com"
    clerk_base: BaseUrl = "https://auth.suno.com"
    api_base: BaseUrl = "https://studio-api.prod.suno.com"
    cdn_base: BaseUrl = "https://cdn1.suno.ai"

    sign_in_path: Path = "/sign-in"
    create_path: Path = "/create"
    song_path: Path = "/song/{id}"

    clerk_client_path: Path = "/v1/client"
    clerk_token_path: Path = "/v1/client/sessions/{sid}/tokens"

    feed_path: Path = "/api/feed/v2"
    feed_v3_path: Path = "/api/feed/v3"
    feed_ids_path: Path = "/api/feed/"
    profile_path: Path = "/api/profiles/{handle}"
    playlist_path: Path = "/api/playlist/{id}"
    workspaces_path: Path = "/api/project/me"
    clip_path: Path = "/api/clip/{id}"
    billing_path: Path = "/api/billing/info/"
    authorize_path: Path = "/api/download/authorize"
    download_path: Path = "/api/download/clip/{id}"
    forbidden_audio_path: Path = "/api/forbidden"
    generate_path: Path = "/api/generate/v2-web/"
    captcha_check_path: Path = "/api/c/check"
    cdn_audio_path: Path = "/{id}.mp3"

    feed_params: dict[str, str] = msgspec.field(
        default_factory=lambda: {"hide_disliked": "true", "hide_gen_stems": "true", "hide_studio_clips": "true"}
    )
    profile_params: dict[str, str] = msgspec.field(default_factory=lambda: {"clips_sort_by": "created_at"})
    feed_v3_limit: Annotated[int, msgspec.Meta(ge=1, le=100)] = 20
    feed_v3_filters: dict[str, Any] = msgspec.field(
        default_factory=lambda: {
            "disliked": "False",
            "trashed": "False",
            "fromStudioProject": {"presence": "False"},
            "stem": {"presence": "False"},
            "stemComplement": "False",
        }
    )
    """The web app's library filters (Oct 2026 captures); the studio adds ``user`` or ``workspace``, and drops
    ``disliked``/``trashed`` when a backup asks for those clips too."""
    workspaces_params: dict[str, str] = msgspec.field(
        default_factory=lambda: {"sort": "created_at", "show_trashed": "false", "exclude_shared": "false"}
    )
    user_id_claim: Text = "suno.com/claims/user_id"
    """The session JWT's claim that equals the ``user_id`` of the account's own clips."""
    handle_claim: Text = "suno/handle"
    session_cookie: Text = "__session"
    client_cookie: Text = "__client"
    device_cookies: tuple[Text, ...] = ("ajs_anonymous_id", "suno_device_id")

    selectors: Selectors = Selectors()
    create_page: CreatePage = CreatePage()

    def api(self, path: str, **params: str) -> str:
        return self.api_base + _fill(path, params)

    def clerk(self, path: str, **params: str) -> str:
        return self.clerk_base + _fill(path, params)

    def site(self, path: str, **params: str) -> str:
        return self.site_origin + _fill(path, params)

    def song_url(self, clip_id: str) -> str:
        """The public page of a song (what the ``WOAR`` tag of a downloaded file points at)."""
        return self.site(self.song_path, id=clip_id)

    def is_forbidden_audio(self, audio_url: str | None) -> bool:
        """True when a clip's ``audio_url`` is the placeholder of clips that need the authorized route."""
        return not audio_url or audio_url.split("?", 1)[0].endswith(self.forbidden_audio_path)


def endpoints_from_config(section: Mapping[str, Any] | None, base: Endpoints | None = None) -> Endpoints:
    """``base`` (the defaults) with ``section`` (the ``studio.suno`` config) merged over it, nested keys too.

    Raises :class:`ValueError` naming the offending key when the section holds a
    key that does not exist or a value of the wrong shape.
    """
    merged = _merge(msgspec.to_builtins(base or Endpoints()), dict(section or {}))
    try:
        return msgspec.convert(merged, Endpoints)
    except msgspec.ValidationError as exc:
        where = str(exc).replace("`$.", f"`{SECTION}.").replace("`$`", f"`{SECTION}`")
        raise ValueError(f"invalid {SECTION} config: {where}") from None


def _merge(defaults: dict[str, Any], overrides: dict[str, Any]) -> dict[str, Any]:
    """Sections (``selectors``, ``create_page`` and its ``controls`` and ``limits``) merge key by key;
    everything else replaces, the maps (``feed_params``, ``models``) and a control's list of ways included."""
    merged = {**defaults, **overrides}
    for key, value in overrides.items():
        if key in _SECTIONS and isinstance(value, Mapping) and isinstance(defaults.get(key), dict):
            merged[key] = _merge(defaults[key], dict(value))
    return merged


def _fill(path: str, params: Mapping[str, str]) -> str:
    return path.format_map({key: quote(value, safe="") for key, value in params.items()})
