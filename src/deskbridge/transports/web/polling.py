"""``GET /api/events`` (and seed 004's ``/desktop/events/poll``): polling, and long-polling with ``wait``.

A poller is a client while it polls: it appears in the client registry, its
``after`` is its acknowledgement, and the registry forgets it ``poll_idle``
seconds (a minute) after its last poll, by time, apart from any WebSocket of
the same client. A poll without ``after`` (seed 004's client sends none) reads
from the cursor the server keeps for that client (:mod:`deskbridge.cursors`).
"""

from __future__ import annotations

import asyncio
from typing import Final

from starlette.types import Receive, Scope, Send

from deskbridge import protocol
from deskbridge.clients import POLL_IDLE, ClientRegistry
from deskbridge.cursors import ClientCursors
from deskbridge.errors import ErrorCode
from deskbridge.events import DEFAULT_PAGE, EventLog, Resumed
from deskbridge.transports.web.http import disconnected, error_body, int_param, respond
from deskbridge.transports.web.security import query_params

MAX_PAGE: Final = 10_000
MAX_WAIT: Final = 60.0
EVENTS_PATHS: Final = ("/api/events", "/desktop/events/poll")


def events_answer(resumed: Resumed) -> bytes:
    """``{"events": [...], "last_seq", "head", "after", "epoch", "recovered", "more"}``, events spliced in as
    stored (the shape of ``GET_EVENTS``' data)."""
    return b"".join(
        (
            b'{"events":[',
            b",".join(resumed.events),
            b'],"last_seq":%d,"head":%d,"after":%d,"epoch":"%s","recovered":%s,"more":%s}'
            % (
                resumed.last_seq,
                resumed.head,
                resumed.after,
                resumed.epoch.encode(),
                b"true" if resumed.recovered else b"false",
                b"true" if resumed.more else b"false",
            ),
        )
    )


class Polling:
    """Answers polls from the event log; a long poll ends early when the door closes (``closing``)."""

    def __init__(
        self,
        events: EventLog,
        clients: ClientRegistry,
        closing: asyncio.Future[None],
        cursors: ClientCursors,
        *,
        enabled: bool = True,
        idle: float = POLL_IDLE,
    ) -> None:
        self._events = events
        self._clients = clients
        self._closing = closing
        self._cursors = cursors
        self._enabled = enabled
        self._idle = idle

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["method"] != "GET":
            await respond(send, 405, error_body("METHOD_NOT_ALLOWED", "use GET"), [(b"allow", b"GET")])
            return
        if not self._enabled:
            await respond(send, 403, error_body("POLLING_DISABLED", "polling is turned off here (config)"))
            return
        params = query_params(scope)
        try:
            after = int_param(params, "after", -1, 0, 2**62)
            limit = int_param(params, "limit", DEFAULT_PAGE, 1, MAX_PAGE)
            wait = float(params.get("wait") or 0)
            if not 0 <= wait <= MAX_WAIT:
                raise ValueError(f"wait must be between 0 and {MAX_WAIT:g} seconds")
        except ValueError as exc:
            await respond(send, 400, protocol.failure(None, ErrorCode.INVALID_PAYLOAD, f"bad query: {exc}"))
            return
        epoch = params.get("epoch") or None
        client_id = params.get("client_id") or None
        cursorless = after < 0
        if cursorless:
            after = self._cursors.position(client_id)
        self._track_poller(client_id, after)
        resumed = self._events.resume(epoch, after, limit)
        stayed = True
        if wait > 0 and resumed.recovered and not resumed.events:
            stayed = await self._wait_for_events(resumed.last_seq + 1, wait, receive)
            resumed = self._events.resume(epoch, after, limit)
        await respond(send, 200, events_answer(resumed))
        if cursorless and stayed:  # the next poll starts after this answer: coming back acknowledges it
            self._cursors.handed(client_id, resumed.last_seq)

    async def _wait_for_events(self, seq: int, wait: float, receive: Receive) -> bool:
        """Until event ``seq`` is on disk, ``wait`` runs out, the client leaves or the server stops; False if
        the client left."""
        arrived = asyncio.ensure_future(self._events.wait_committed(seq))
        left = asyncio.ensure_future(disconnected(receive))
        try:
            await asyncio.wait([arrived, left, self._closing], timeout=wait, return_when=asyncio.FIRST_COMPLETED)
            return not left.done()
        finally:
            arrived.cancel()
            left.cancel()

    def _track_poller(self, client_id: str | None, after: int) -> None:
        """Polling clients are listed while they poll; ``after`` is their acknowledgement."""
        key = client_id or "poll"
        self._clients.polled(key, idle=self._idle)
        self._clients.seen(key, after)
        if client_id is not None:
            self._events.acknowledge(client_id, after)
