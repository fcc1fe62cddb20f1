"""The studio's section of the JSON config: where Suno is, which browser, how patiently to talk to them.

::

    {"studio": {
        "suno": {"api_base": "https://studio-api-prod.suno.com"},       # hosts, paths, selectors
        "browser": {"executable": "/usr/bin/chromium", "headless": false, "args": []},
        "retry": {"attempts": 5, "first_delay": 2.0, "max_delay": 60.0},  # 429 / 5xx backoff
        "page_delay": 1.0,                                               # seconds between feed pages
        "downloads": {"parallel": 4, "authorize": false, "format": "mp3",
                      "prepare_interval": 2.0, "prepare_timeout": 180.0,
                      "sidecar": false, "file_times": false}}}

Everything has a default; a key the studio does not know, or a value of the
wrong shape, stops the backend at start with a message naming it, so a typo
never silently keeps the old value (the rule :mod:`.suno.endpoints` set).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any, Final

import msgspec

from deskbridge.config import convert
from deskbridge.studio.suno.endpoints import Endpoints, endpoints_from_config
from deskbridge.studio.suno.models import Format
from deskbridge.studio.suno.retry import RetryPolicy

SECTION: Final = "studio"
Seconds = Annotated[float, msgspec.Meta(ge=0, le=3600)]


class BrowserSettings(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    executable: str | None = None
    """Chrome or Chromium to run; found on the system when not given."""
    headless: bool = False
    """What ``LAUNCH_BROWSER`` does when its payload does not say."""
    args: tuple[str, ...] = ()
    """Extra command-line switches for the browser."""
    launch_timeout: Annotated[float, msgspec.Meta(gt=0, le=600)] = 60.0
    session_wait: Annotated[float, msgspec.Meta(gt=0, le=600)] = 15.0
    """How long a page may take to show a signed-in Clerk session before the answer is ``SESSION_NOT_FOUND``."""
    token_margin: Seconds = 20.0
    """A cached token with less than this left is replaced by a fresh one from the browser."""


class DownloadSettings(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    parallel: Annotated[int, msgspec.Meta(ge=1, le=16)] = 4
    """Files a ``BATCH_DOWNLOAD`` fetches at once unless its payload says otherwise."""
    authorize: bool = False
    """Spend Suno's download allowance on locked clips when a command does not say (never past what remains)."""
    format: Format = "mp3"
    """The file a download makes when its payload does not say: ``mp3``, ``m4a``, ``wav`` or ``mp4``."""
    prepare_interval: Annotated[float, msgspec.Meta(ge=0, le=600)] = 2.0
    """Seconds between two polls while Suno prepares a file (its web app's)."""
    prepare_timeout: Annotated[float, msgspec.Meta(ge=0, le=86_400)] = 180.0
    """How long Suno may take to prepare a file before the clip fails (its web app's 90 polls)."""
    sidecar: bool = False
    """Write ``<file>.json`` next to each song, with the clip as Suno gave it."""
    file_times: bool = False
    """Give each file the song's creation time as its modification time."""


class _Section(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    suno: dict[str, Any] = {}
    browser: BrowserSettings = BrowserSettings()
    retry: RetryPolicy = RetryPolicy()
    page_delay: Seconds = 1.0
    downloads: DownloadSettings = DownloadSettings()


class StudioSettings(msgspec.Struct, frozen=True, kw_only=True):
    endpoints: Endpoints
    browser: BrowserSettings
    retry: RetryPolicy
    page_delay: float
    downloads: DownloadSettings


def settings_from_config(config: Mapping[str, Any]) -> StudioSettings:
    """The ``studio`` section of the whole config, defaults filled in; a ``ConfigError`` naming a bad key."""
    section = convert(config.get(SECTION, {}), _Section, owner=SECTION, where=f"$.{SECTION}")
    return StudioSettings(
        endpoints=endpoints_from_config(section.suno),
        browser=section.browser,
        retry=section.retry,
        page_delay=section.page_delay,
        downloads=section.downloads,
    )
