"""A fresh Suno JWT from the long-lived Clerk cookie, without a browser.

Suno signs in through Clerk: the ``__client`` cookie on the Clerk host is
the lasting credential, the JWT it buys lives a minute or an hour. Given the
cookie's value (read from the account's browser profile by the session
layer), :class:`ClerkSession` asks Clerk for the active session id once and
then for a new JWT whenever :meth:`ClerkSession.token` is awaited; pass that
method as ``refresh_token`` to :class:`~deskbridge.studio.suno.api.SunoClient`.
A refused cookie is ``SESSION_NOT_FOUND``: the user must sign in again.
"""

from __future__ import annotations

from typing import TypeVar

import httpx
import msgspec

from deskbridge.errors import CommandError
from deskbridge.studio.errors import StudioError
from deskbridge.studio.suno.endpoints import Endpoints
from deskbridge.studio.suno.errors import SunoError

T = TypeVar("T")


class _ActiveSession(msgspec.Struct):
    last_active_session_id: str | None = None


class _Client(msgspec.Struct):
    response: _ActiveSession | None = None


class _Token(msgspec.Struct):
    jwt: str


class ClerkSession:
    def __init__(self, http: httpx.AsyncClient, endpoints: Endpoints, client_cookie: str) -> None:
        self._http = http
        self._endpoints = endpoints
        self._cookie = client_cookie
        self._session_id: str | None = None

    async def token(self) -> str:
        """A new JWT for the account's active session."""
        if self._session_id is None:
            client = await self._call("GET", self._endpoints.clerk(self._endpoints.clerk_client_path), _Client)
            if client.response is None or not client.response.last_active_session_id:
                raise CommandError(StudioError.SESSION_NOT_FOUND, "Suno has no signed-in session for this account")
            self._session_id = client.response.last_active_session_id
        url = self._endpoints.clerk(self._endpoints.clerk_token_path, sid=self._session_id)
        return (await self._call("POST", url, _Token)).jwt

    async def _call(self, method: str, url: str, shape: type[T]) -> T:
        headers = {
            "Cookie": f"{self._endpoints.client_cookie}={self._cookie}",
            "Origin": self._endpoints.site_origin,
            "Referer": self._endpoints.site_origin + "/",
        }
        try:
            response = await self._http.request(method, url, headers=headers)
        except httpx.HTTPError as exc:
            raise SunoError(f"cannot reach Suno's sign-in service: {exc}") from None
        if response.status_code in (401, 403, 404):
            self._session_id = None
            raise CommandError(
                StudioError.SESSION_NOT_FOUND, "Suno's sign-in service refused the session: sign in again"
            )
        if response.status_code != 200:
            raise SunoError(f"Suno's sign-in service answered HTTP {response.status_code}", response.status_code)
        try:
            return msgspec.json.decode(response.content, type=shape)
        except msgspec.DecodeError as exc:
            raise SunoError(f"Suno's sign-in service gave an unusable answer: {exc}") from None
