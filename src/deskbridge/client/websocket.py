"""The client over WebSocket: one connection at a time, reconnected with backoff, resumed by seq."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from typing import Any
from urllib.parse import urlencode

import msgspec
import websockets
from websockets.asyncio.client import ClientConnection

from deskbridge.client.remote import Backoff, Refused, RemoteClient, ResumeCallback, ws_endpoint
from deskbridge.client.session import ConnectionLost
from deskbridge.closecodes import should_retry

log = logging.getLogger("deskbridge.client.websocket")
_decode = msgspec.json.Decoder().decode


class WebSocketClient(RemoteClient):
    transport = "websocket"

    def __init__(
        self,
        url: str,
        *,
        token: str | None = None,
        client_id: str | None = None,
        backoff: Backoff | None = None,
        on_resume: ResumeCallback | None = None,
        open_timeout: float = 10.0,
    ) -> None:
        super().__init__(url, token=token, client_id=client_id, backoff=backoff, on_resume=on_resume)
        self.open_timeout = open_timeout
        self._ws: ClientConnection | None = None
        self._outgoing: deque[str] = deque()
        self._wake = asyncio.Event()
        self._first: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    @classmethod
    async def connect(
        cls, url: str, *, after: int | None = None, epoch: str | None = None, **options: Any
    ) -> WebSocketClient:
        """Connect and subscribe; ``after``/``epoch`` resume a cursor saved earlier (default: live from now).

        Events start reaching listeners at the first ``await`` after this returns, so that listeners added
        right away miss none of the events the resume brings.
        """
        client = cls(url, **options)
        if after is not None:
            client.session.last_seq = after
            client.session.epoch = epoch
        client.session.gate()
        client._spawn(client._run(resume=after is not None))
        try:
            await asyncio.wait_for(asyncio.shield(client._first), client.open_timeout)
        except BaseException:
            await client.aclose()
            raise
        asyncio.get_running_loop().call_soon(client.session.open_gate)
        return client

    def _url(self, resume: bool) -> str:
        params: dict[str, Any] = {}
        if self.token:
            params["token"] = self.token
        if self.client_id:
            params["client_id"] = self.client_id
        if resume:
            params["after"] = self.session.last_seq
            if self.session.epoch:
                params["epoch"] = self.session.epoch
        query = urlencode(params)
        return ws_endpoint(self.url) + (f"?{query}" if query else "")

    def _send(self, data: bytes) -> None:
        if self._ws is None:
            raise ConnectionLost("not connected (reconnecting)")
        self._outgoing.append(data.decode())
        self._wake.set()

    async def _writer(self, ws: ClientConnection) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            while self._outgoing:
                await ws.send(self._outgoing.popleft())

    async def _run(self, *, resume: bool) -> None:
        """Connect, read until the connection drops, reconnect with backoff; forever unless refused or closed."""
        delays = self.backoff.delays()
        while not self._closing:
            try:
                ws = await websockets.connect(self._url(resume), open_timeout=self.open_timeout, compression=None,
                                              max_size=None, ping_interval=20)  # fmt: skip
            except (OSError, TimeoutError, websockets.InvalidHandshake) as exc:
                if not self._first.done():
                    self._first.set_exception(exc)
                    return
                await asyncio.sleep(next(delays))
                continue
            code = await self._serve(ws, resume)
            resume = True
            if code is not None and not should_retry(code):
                refused = Refused(f"the server refused this client (close code {code})", code)
                if not self._first.done():
                    self._first.set_exception(refused)
                self.session.close(refused)
                return
            if self.connected.is_set() or self._first.done():
                delays = self.backoff.delays()
            self.connected.clear()
            if not self._closing:
                await asyncio.sleep(next(delays))
        self.session.close(ConnectionLost("client closed"))

    async def _serve(self, ws: ClientConnection, resume: bool) -> int | None:
        """One connection's life; its close code."""
        self._ws = ws
        writer = asyncio.ensure_future(self._writer(ws))
        try:
            if not resume:
                await ws.send('{"id":"subscribe","type":"SUBSCRIBE","payload":{}}')
            async for raw in ws:
                message = _decode(raw)
                kind = message.get("type")
                if kind == "SUBSCRIBED" or (kind == "SUBSCRIBE_RESPONSE" and message.get("id") == "subscribe"):
                    info = message.get("data", message)
                    self._resumed(
                        bool(info["recovered"]), str(info["epoch"]), int(info["after"]), info.get("client_id")
                    )
                    self.connected.set()
                    if not self._first.done():
                        self._first.set_result(None)
                    continue
                self.session.feed(message)
        except websockets.ConnectionClosed:
            pass
        except (msgspec.DecodeError, AttributeError) as exc:
            log.error("garbled message from the server: %s", exc)
            await ws.close(1002)
        finally:
            self._ws = None
            writer.cancel()
            self._outgoing.clear()
            self.session.fail_pending(ConnectionLost("the WebSocket connection closed"))
        return ws.close_code

    async def aclose(self) -> int:
        self._closing = True
        ws = self._ws
        if ws is not None:
            with contextlib.suppress(Exception):
                await ws.close()
        await self._stop_tasks()
        self.session.close(ConnectionLost("client closed"))
        return 0
