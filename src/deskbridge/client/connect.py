"""``connect(url)``: WebSocket when the upgrade works, HTTP polling when it does not (seed 004's fallback)."""

from __future__ import annotations

import logging
from typing import Any

import websockets

from deskbridge.client.polling import PollingClient
from deskbridge.client.remote import RemoteClient
from deskbridge.client.websocket import WebSocketClient

log = logging.getLogger("deskbridge.client")


async def connect(url: str, *, token: str | None = None, transport: str = "auto", **options: Any) -> RemoteClient:
    """A connected client: ``transport`` is ``"websocket"``, ``"polling"`` or ``"auto"`` (try WebSocket first).

    The fallback happens only when the upgrade itself fails (a proxy or a
    server that answers the handshake with plain HTTP); a refused token or an
    unreachable server raises, since polling would fail the same way.
    """
    if transport in ("auto", "websocket"):
        try:
            return await WebSocketClient.connect(url, token=token, **options)
        except websockets.InvalidHandshake as exc:
            if transport == "websocket":
                raise
            log.warning("WebSocket upgrade failed (%s): falling back to HTTP polling", exc)
    if transport not in ("auto", "websocket", "polling"):
        raise ValueError(f"unknown transport {transport!r}")
    return await PollingClient.connect(url, token=token, **options)
