"""Driving a running stand-in from a test or a benchmark, through its ``/_control`` API.

Synchronous on purpose: the stand-in runs in another thread or process, so
a test's event loop may block on these short calls without stalling it.
"""

from __future__ import annotations

import fnmatch
from typing import Any

import httpx

from deskbridge_standins.suno.app import standin_endpoints
from deskbridge_standins.suno.faults import CONTROL_HEADER


class StandinControl:
    def __init__(self, base_url: str, timeout: float = 10.0) -> None:
        self.base_url = base_url
        self.endpoints = standin_endpoints(base_url)
        self.forbidden_url = f"{base_url}/api/forbidden"
        """The ``audio_url`` of clips that only the authorized download route serves."""
        self._http = httpx.Client(base_url=base_url, timeout=timeout)

    def close(self) -> None:
        self._http.close()

    def _post(self, path: str, body: Any) -> Any:
        response = self._http.post(f"/_control/{path}", json=body)
        response.raise_for_status()
        return response.json()

    def reset(self) -> None:
        """No clips, sessions, faults or recorded requests; the settings the server started with."""
        self._post("reset", {})

    def seed(self, *clips: dict[str, Any], replace: bool = True) -> list[dict[str, Any]]:
        """Put clips (newest first, missing fields made up) in the account's feed; the clips as Suno will send them."""
        made: list[dict[str, Any]] = self._post("clips", {"clips": list(clips), "replace": replace})
        return made

    def settings(self, **changes: Any) -> dict[str, Any]:
        """Change settings (``token_lifetime``, ``audio_bytes``, ``page_size``...)."""
        current: dict[str, Any] = self._post("settings", changes)
        return current

    def downloads(self, **changes: Any) -> dict[str, Any]:
        """Change the download allowance and preparation (``limit``, ``used``, ``additional``, ``processing``
        per format, ``rate_limited``, ``error``, ``sizes``); answers them with ``unlocked`` clips and ``usage``."""
        answer: dict[str, Any] = self._post("downloads", changes)
        return answer

    def playlists(self, *playlists: dict[str, Any], replace: bool = True) -> list[dict[str, Any]]:
        """Add playlists (``name``, ``clip_ids``, ``is_public``, ``owner_handle``, ``id``); their ids and names."""
        made: list[dict[str, Any]] = self._post("playlists", {"playlists": list(playlists), "replace": replace})
        return made

    def faults(self, *rules: dict[str, Any]) -> None:
        """Replace the fault rules (see :mod:`deskbridge_standins.suno.faults`)."""
        self._post("faults", list(rules))

    def session(self, lifetime: float | None = None) -> dict[str, str]:
        """A new signed-in session: ``client`` (the ``__client`` cookie), ``session_id`` and a ``jwt``."""
        made: dict[str, str] = self._post("session", {"lifetime": lifetime})
        return made

    def revoke(self) -> None:
        """Sign every session out: tokens and ``__client`` cookies stop working."""
        self._post("revoke", {})

    def create(self, **changes: Any) -> dict[str, Any]:
        """Change the create page's settings (``delay``, ``captcha``, ``queue_full``, ``fail_titles``);
        answers them with every generate request body received so far."""
        response = self._http.post("/_control/create", json=changes)
        response.raise_for_status()
        answer: dict[str, Any] = response.json()
        return answer

    def generated(self) -> list[dict[str, Any]]:
        """The bodies of the generate requests received, oldest first."""
        requests: list[dict[str, Any]] = self.create()["requests"]
        return requests

    def fetch(self, url: str) -> bytes:
        """The bytes served at ``url`` (a file's URL as a clip gives it), fetched without any fault's interference."""
        response = self._http.get(url, headers={CONTROL_HEADER: "1"})
        response.raise_for_status()
        return response.content

    def requests(self, path: str = "*", method: str | None = None) -> list[dict[str, Any]]:
        """Requests received (oldest first) whose path matches the ``fnmatch`` pattern ``path``."""
        response = self._http.get("/_control/requests")
        response.raise_for_status()
        return [
            seen
            for seen in response.json()
            if fnmatch.fnmatchcase(seen["path"], path) and (method is None or seen["method"] == method)
        ]
