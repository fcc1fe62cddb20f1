"""The studio's one ``httpx`` client for Suno's API, made when a command first needs it.

httpx (with httpcore, h11, anyio) and a TLS context loaded with the system's
certificates cost more than the rest of the studio's start (~40-60 ms here),
and a front end that only reads the library or opens a browser never calls
the API: so nothing of it is imported before ``BACKEND_READY``.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from deskbridge.studio.notices import Notices

if TYPE_CHECKING:
    import httpx

QUIET_LOGGERS = ("httpx", "httpcore")
"""They log every request's URL at INFO; a signed download URL is a credential and stays out of the log."""


class ApiHttp:
    """Call it for the client (the same one every time); :meth:`aclose` closes it if it was ever made."""

    def __init__(self, notices: Notices) -> None:
        self._notices = notices
        self._client: httpx.AsyncClient | None = None

    def __call__(self) -> httpx.AsyncClient:
        if self._client is None:
            import httpx

            from deskbridge.studio.suno.slowdowns import Slowdowns

            for name in QUIET_LOGGERS:
                logging.getLogger(name).setLevel(logging.WARNING)
            self._client = httpx.AsyncClient(
                timeout=httpx.Timeout(30.0, connect=10.0),
                follow_redirects=True,
                event_hooks={"response": [Slowdowns(self._notices).on_response]},
            )
        return self._client

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.aclose()
