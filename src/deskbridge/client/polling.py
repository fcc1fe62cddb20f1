"""The client over plain HTTP: commands by ``POST /api/command``, events by long-polling ``/api/events``.

What a desktop client falls back to when the WebSocket upgrade fails (seed 004).
The poll loop is the only source of events, so there is nothing to merge: each
answer continues exactly where the previous one stopped.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

import httpx
import msgspec

from deskbridge.client.remote import Backoff, Refused, RemoteClient, ResumeCallback, http_base
from deskbridge.client.session import ConnectionLost

log = logging.getLogger("deskbridge.client.polling")
_decode = msgspec.json.Decoder().decode
REFUSED = frozenset({400, 401, 403, 421})


class PollingClient(RemoteClient):
    transport = "polling"

    def __init__(
        self,
        url: str,
        *,
        token: str | None = None,
        client_id: str | None = None,
        backoff: Backoff | None = None,
        on_resume: ResumeCallback | None = None,
        wait: float = 25.0,
        limit: int = 1000,
    ) -> None:
        super().__init__(url, token=token, client_id=client_id, backoff=backoff, on_resume=on_resume)
        self.wait = wait
        self.limit = limit
        self.http = httpx.AsyncClient(
            base_url=http_base(url), headers=self._auth_headers(), timeout=httpx.Timeout(10.0, read=wait + 10.0)
        )

    @classmethod
    async def connect(
        cls, url: str, *, after: int | None = None, epoch: str | None = None, **options: Any
    ) -> PollingClient:
        """Check the server answers, then poll from ``after`` in ``epoch`` (default: live from now).

        Events start reaching listeners at the first ``await`` after this returns, so that listeners added
        right away miss none of the events the resume brings.
        """
        client = cls(url, **options)
        client.session.gate()
        try:
            if after is None:
                first = await client._poll(0.0, 0, None, limit=1)
                client._resumed(True, str(first["epoch"]), int(first["head"]))
            else:
                client.session.last_seq, client.session.epoch = after, epoch
                client._take(await client._poll(0.0, after, epoch))
        except BaseException:
            await client.aclose()
            raise
        client.connected.set()
        client._spawn(client._poll_loop())
        asyncio.get_running_loop().call_soon(client.session.open_gate)
        return client

    async def _poll(self, wait: float, after: int, epoch: str | None, *, limit: int | None = None) -> dict[str, Any]:
        params: dict[str, Any] = {"after": after, "limit": limit or self.limit, "wait": wait}
        if epoch:
            params["epoch"] = epoch
        if self.client_id:
            params["client_id"] = self.client_id
        response = await self.http.get("/api/events", params=params)
        if response.status_code in REFUSED:
            raise Refused(f"the server refused this client: HTTP {response.status_code}", response.status_code)
        response.raise_for_status()
        answer: dict[str, Any] = _decode(response.content)
        return answer

    def _take(self, answer: dict[str, Any]) -> None:
        """Feed one poll answer to the session; when the server could not continue the cursor (a new epoch, a
        cursor trimmed away or ahead of the log), the cursor moves first to where its answer starts."""
        if answer.get("epoch") != self.session.epoch or not answer.get("recovered", True):
            self._resumed(bool(answer.get("recovered", True)), str(answer["epoch"]), int(answer["after"]))
        for event in answer["events"]:
            self.session.feed(event)
        self.session.last_seq = max(self.session.last_seq, int(answer["last_seq"]))

    async def _poll_loop(self) -> None:
        delays = self.backoff.delays()
        while not self._closing:
            try:
                answer = await self._poll(self.wait, self.session.last_seq, self.session.epoch)
            except Refused as exc:
                self.session.close(exc)
                return
            except (httpx.HTTPError, msgspec.DecodeError) as exc:
                self.connected.clear()
                log.debug("poll failed (%s); retrying", exc)
                await asyncio.sleep(next(delays))
                continue
            delays = self.backoff.delays()
            self.connected.set()
            self._take(answer)

    def _send(self, data: bytes) -> None:
        if self._closing:
            raise ConnectionLost("client closed")
        self._spawn(self._post(data))

    async def _post(self, data: bytes) -> None:
        headers = {"Content-Type": "application/json"}
        try:
            response = await self.http.post("/api/command", content=data, headers=headers)
            if response.status_code in (401, 403, 421):
                raise ConnectionLost(f"refused: HTTP {response.status_code}")
            message = _decode(response.content)
        except (httpx.HTTPError, msgspec.DecodeError, ConnectionLost) as exc:
            # A POST that got no answer fails its own call only.
            self.session.fail_call(_decode(data)["id"], ConnectionLost(f"request failed: {exc}"))
            return
        self.session.feed(message)

    async def aclose(self) -> int:
        self._closing = True
        await self._stop_tasks()
        with contextlib.suppress(Exception):
            await self.http.aclose()
        self.session.close(ConnectionLost("client closed"))
        return 0
