"""One WebSocket client: commands in; responses and live events out through one bounded outbox.

The connection is attached to the live stream *before* history is read, and
the two are merged by ``seq``, so a client resuming from ``?epoch=&after=``
(or a first ``SUBSCRIBE`` message) sees no gap and no duplicate. It is given
what it uses (the event log, the router's ``dispatch``, the client registry,
its limits), not the whole door.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, Final

import msgspec
from starlette.types import Receive, Scope, Send

from deskbridge import payloads, protocol
from deskbridge.caller import CALLER, Caller
from deskbridge.clients import ClientRegistry
from deskbridge.closecodes import CloseCode, fit_reason
from deskbridge.cursors import ClientCursors
from deskbridge.errors import ErrorCode
from deskbridge.events import DEFAULT_PAGE, EventLog, Resumed
from deskbridge.roles import Role
from deskbridge.transports.web.http import int_param
from deskbridge.transports.web.outbox import Outbox
from deskbridge.transports.web.security import query_params

log = logging.getLogger("deskbridge.web")

Dispatch = Callable[[bytes, Callable[[bytes], None]], None]
KEEP_CURSOR_EVERY: Final = 0.2


class SubscribePayload(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """A resume cursor sent as the first WebSocket message (or in the URL)."""

    after: int | None = None
    epoch: str | None = None


_subscribe_decoder = msgspec.json.Decoder(SubscribePayload)


MAX_IN_FLIGHT: Final = 256
"""Commands of one WebSocket that may await their answers before the door stops reading its messages."""


class Connection:
    """One WebSocket client: commands in; responses and events out through one bounded outbox."""

    def __init__(
        self,
        scope: Scope,
        receive: Receive,
        send: Send,
        *,
        events: EventLog,
        dispatch: Dispatch,
        clients: ClientRegistry,
        outbox_bytes: int,
        subscribe_grace: float,
        cursors: ClientCursors | None = None,
        role: Role = Role.OWNER,
    ) -> None:
        self.events = events
        self.role = role
        self._cursors = cursors
        """For a client that neither resumes nor subscribes: the cursor the server keeps for it (None: live)."""
        self._dispatch = dispatch
        self._clients = clients
        self._subscribe_grace = subscribe_grace
        self._receive = receive
        self._asgi_send = send
        self._params = query_params(scope)
        requested = self._params.get("client_id") or None
        self.info = clients.connect("ws", requested)
        self.client_id = self.info.client_id
        self.outbox = Outbox(outbox_bytes, self._send_text)
        self._in_flight = 0
        self._room_for_commands = asyncio.Event()
        """Set while fewer than ``MAX_IN_FLIGHT`` commands await their answer."""
        self._room_for_commands.set()
        self._sent_seq = 0
        self._paging = True  # until the catch-up from the cursor is done
        self._connected_seq = 0
        self._started = False
        self._tasks: set[asyncio.Task[Any]] = set()
        self._grace: asyncio.TimerHandle | None = None
        self._closing = False

    async def _send_text(self, data: bytes) -> None:
        self.events.settle()
        await self._asgi_send({"type": "websocket.send", "text": data.decode()})

    # -- the live stream ------------------------------------------------------------
    #
    # Events reach the outbox two ways: live, each committed batch as the log delivers it, or paged from the
    # log (``_paging``), a page at a time as the outbox drains. A connection pages while it catches up with
    # its cursor, and whenever a live batch would not fit in half its outbox (the other half is for responses;
    # the reader stops reading commands past it): a slow reader, or one commit bigger than the outbox. What it
    # is behind stays in the log, not in memory, and the connection stays open.
    # ``_sent_seq`` is the last event queued either way; paging ends, with no await in between, once it has
    # reached the log's head, so the next live batch follows it exactly.

    def _deliver(self, bodies: list[bytes]) -> None:
        if not self._paging:
            self._push_new(self.events.committed_seq, bodies)

    def _push_new(self, last: int, bodies: list[bytes]) -> None:
        """Queue a live batch ending at ``last`` (its seqs are consecutive); page from the log if it does not fit."""
        if not self._queue(range(last - len(bodies) + 1, last + 1), bodies):
            self._paging = True
            self._spawn(self._page(None))

    def _queue(self, seqs: Sequence[int], bodies: Sequence[bytes]) -> bool:
        """Queue the events after ``_sent_seq`` while they fit in half the outbox (the other half is for responses:
        the reader pauses past it), or while it is empty; False if some did not fit."""
        outbox = self.outbox
        room = outbox.limit // 2 - outbox.size
        sent = self._sent_seq
        try:
            for seq, body in zip(seqs, bodies, strict=True):
                if seq <= sent:
                    continue
                room -= len(body)
                if room < 0 and outbox.pending:
                    return False
                outbox.push(body)
                sent = seq
            return True
        finally:
            self._sent_seq = sent

    def _start(self, epoch: str | None, after: int | None, command_id: str | None) -> None:
        if self._started:
            return
        self._started = True
        if self._grace is not None:
            self._grace.cancel()
        if after is None and command_id is None and self._cursors is not None:
            after = self._cursors.position(self._params.get("client_id") or None)
            self._spawn(self._keep_cursor(self._cursors))
        elif after is None:
            acked = self.events.acknowledged(self.client_id)
            after = acked if acked is not None else self._connected_seq
        else:
            if "client_id" in self._params:
                self.events.acknowledge(self.client_id, after)
            self._clients.seen(self.client_id, after)
        resumed = self.events.resume(epoch, after, DEFAULT_PAGE)
        self._sent_seq = resumed.after
        self.outbox.push(self._notice(resumed, command_id))
        self._spawn(self._page(resumed))

    def _notice(self, resumed: Resumed, command_id: str | None) -> bytes:
        data = {
            "recovered": resumed.recovered,
            "epoch": resumed.epoch,
            "after": resumed.after,
            "last_seq": self.events.committed_seq,
            "client_id": self.client_id,
        }
        if command_id is not None:
            return protocol.success(command_id, "SUBSCRIBE", data)
        return protocol.encode({"type": "SUBSCRIBED", **data, "timestamp": protocol.now_ms()})

    async def _page(self, resumed: Resumed | None) -> None:
        """Events after ``_sent_seq`` from the log, as many as fit each time the outbox has drained, until live."""
        outbox = self.outbox
        while True:
            if resumed is None:
                await outbox.wait_empty()
                if self._closing:
                    return
                resumed = self.events.resume(self.events.epoch, self._sent_seq, DEFAULT_PAGE)
                if not resumed.recovered:  # trimmed under our feet: say so
                    outbox.push(self._notice(resumed, None))
            if self._queue(resumed.seqs, resumed.events):
                self._sent_seq = max(self._sent_seq, resumed.last_seq)
                if not resumed.more and self._sent_seq >= self.events.committed_seq:
                    self._paging = False
                    return
            resumed = None

    # -- lifecycle -------------------------------------------------------------------

    def _spawn(self, coro: Awaitable[Any]) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def close(self, code: int, reason: str) -> None:
        """Close with ``code``; a peer that does not even read the close frame is cut off."""
        if self._closing:
            return
        self._closing = True
        with contextlib.suppress(Exception):
            close = {"type": "websocket.close", "code": code, "reason": fit_reason(reason)}
            await asyncio.wait_for(self._asgi_send(close), 2.0)
            return
        transport = getattr(getattr(self._asgi_send, "__self__", None), "transport", None)
        if transport is not None:
            transport.abort()

    async def _keep_cursor(self, cursors: ClientCursors) -> None:
        """Move the server's cursor of a client that sends none to what was written to it (a few times a second)."""
        consumer, kept = self._params.get("client_id") or None, self._sent_seq
        while not self._closing:
            await self.outbox.wait_empty()
            if self._sent_seq > kept and not self.outbox.pending:
                kept = self._sent_seq
                cursors.handed(consumer, kept)
            await asyncio.sleep(KEEP_CURSOR_EVERY)

    async def run(self) -> None:
        CALLER.set(Caller("ws", self.client_id, self.role))
        await self._asgi_send({"type": "websocket.accept"})
        subscription = self.events.subscribe(self._deliver)
        self._connected_seq = self.events.committed_seq  # a client without a cursor: live from here
        writer = asyncio.ensure_future(self.outbox.run())
        try:
            if "after" in self._params or "epoch" in self._params:
                try:
                    after = int_param(self._params, "after", 0, 0, 2**62)
                except ValueError as exc:
                    await self.close(CloseCode.BAD_REQUEST, f"bad cursor: {exc}")
                    return
                self._start(self._params.get("epoch") or None, after, None)
            else:
                grace = self._subscribe_grace
                self._grace = asyncio.get_running_loop().call_later(grace, self._start, None, None, None)
            await self._read_loop()
        finally:
            subscription.cancel()
            writer.cancel()
            for task in list(self._tasks):
                task.cancel()
            if self._grace is not None:
                self._grace.cancel()
            self._clients.disconnect(self.info)

    async def _read_loop(self) -> None:
        receive, outbox = self._receive, self.outbox
        dispatch = self._dispatch
        pause_at = outbox.limit // 2
        while True:
            message = await receive()
            if message["type"] != "websocket.receive":
                return
            text = message.get("text")
            if text is None:
                await self.close(CloseCode.UNSUPPORTED_DATA, "binary frames are not accepted: send JSON text")
                return
            data = text.encode()
            outbox.deferred = True  # the answers of commands that finish now leave below, with no task switch
            try:
                if b"SUBSCRIBE" not in data or not self._subscribe(data):
                    if not self._started:
                        self._start(None, None, None)
                    self._in_flight += 1
                    if self._in_flight >= MAX_IN_FLIGHT:
                        self._room_for_commands.clear()
                    dispatch(data, self._answer)
            finally:
                outbox.deferred = False
            if outbox.pending:
                await outbox.drain()
            if outbox.size > pause_at:  # the client reads slowly: no more commands until it has caught up
                await outbox.wait_empty()
            await self._room_for_commands.wait()

    def _answer(self, body: bytes) -> None:
        """A command's answer, queued whole whatever its size (it is not a backlog: the reader stopped
        reading commands meanwhile if it had to)."""
        self._in_flight -= 1
        if self._in_flight < MAX_IN_FLIGHT:
            self._room_for_commands.set()
        self.outbox.push(body)

    def _subscribe(self, data: bytes) -> bool:
        """Handle a ``SUBSCRIBE`` command here (it concerns this connection); False if it is not one."""
        command = protocol.parse_command(data)
        if not isinstance(command, protocol.Command) or command.type != "SUBSCRIBE":
            return False
        if self._started:
            self.outbox.push(
                protocol.failure(command.id, ErrorCode.INVALID_MESSAGE,
                                 "already subscribed: SUBSCRIBE must be the first message (or use ?after=)")
            )  # fmt: skip
            return True
        try:
            payload = _subscribe_decoder.decode(command.payload)
        except msgspec.ValidationError as exc:
            message, details = payloads.invalid(exc, SubscribePayload)
            self.outbox.push(protocol.failure(command.id, ErrorCode.INVALID_PAYLOAD, message, details))
            return True
        self._start(payload.epoch, payload.after, command.id)
        return True
