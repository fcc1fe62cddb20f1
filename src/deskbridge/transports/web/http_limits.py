"""Bounds on a request's head for the web door: uvicorn's httptools protocol with limits it lacks.

httptools (llhttp) bounds neither the request target nor the headers: uvicorn
would read a 1 MB header or 10 000 headers in full, and hold a target or a
header that never ends. ``h11`` stops at 16 KiB, but it is much slower, and
the door keeps httptools for speed (bench/web.py). The protocol here refuses a
head past these bounds before it is served, having parsed at most two
:data:`STEP` beyond them:

* the header lines (``Name: value`` and its line end), at most
  :data:`MAX_HEADER_BYTES` in all and :data:`MAX_HEADERS` of them: ``431
  Request Header Fields Too Large``;
* the request target, at most :data:`MAX_TARGET_BYTES`: ``414 URI Too Long``.

The answer comes after those owed to requests pipelined before it, then the
connection closes; other connections notice nothing.

Time and descriptors are bounded too: uvicorn times out neither a head nor a
body that stops coming, so a thousand connections that each send half a head
would hold every descriptor of a process limited to 1024 (a usual desktop
limit), and a client with the token would be refused. A head must be read
within :data:`HEAD_TIMEOUT` (from the connection, or from the previous
answer), and a body may not stop coming for :data:`BODY_TIMEOUT`, or the
connection is closed. And once the connections near the process's descriptor limit (less
:data:`RESERVED_DESCRIPTORS` for the backend's own files), each new one
closes the connection that has waited longest for a head: a client that sends
its request at once is always served, whoever holds the rest.
"""

from __future__ import annotations

import asyncio
import functools
import http
from collections.abc import Iterator
from typing import Any, Final

import httptools
from uvicorn.config import Config
from uvicorn.protocols.http.httptools_impl import STATUS_LINE, HttpToolsProtocol
from uvicorn.server import ServerState

HEAD_TIMEOUT: Final = 5.0
"""Seconds a request head may take, from the connection (or the previous answer): uvicorn's keep-alive."""
BODY_TIMEOUT: Final = 5.0
"""Seconds a request body may go without a byte coming (a body is at most --max-line bytes, over loopback)."""
RESERVED_DESCRIPTORS: Final = 128
"""Descriptors left to the backend's own files (databases, logs, pipes to children) when the connections near
the limit."""
MAX_HEADER_BYTES: Final = 65_536
"""The header lines together. Node and h11 allow 16 KiB for a whole head, nginx 32 KiB; more here because a
browser on 127.0.0.1 sends the door the cookies of every local server, whatever their port."""
MAX_HEADERS: Final = 100
"""As Apache's ``LimitRequestFields``; a browser sends about 20, a WebSocket handshake may hold 128."""
MAX_TARGET_BYTES: Final = 65_535
"""The longest target ``httptools.parse_url`` takes: what the door already served, now refused before it is read."""
STEP: Final = 16_384
"""A read is parsed this much at a time: how far past a bound the parser may get before the check."""
SLACK: Final = 256
"""Room for the request line's method and version and the line ends, in a head's bytes beyond its pieces."""
_LOOK: Final = min(MAX_HEADER_BYTES, MAX_TARGET_BYTES)
"""A head read no further than this is within the byte bounds: no need to count it exactly."""


class _Refused(Exception):
    """Raised in a parser callback to stop the parser where the head went past a bound."""


@functools.cache
def _descriptor_limit() -> int | None:
    try:
        import resource
    except ImportError:  # Windows: no descriptor limit to near
        return None
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    return None if soft == resource.RLIM_INFINITY else soft


def connection_room(limit: int | None = None) -> int | None:
    """How many connections the door holds before it closes the one that waited longest for a head."""
    limit = _descriptor_limit() if limit is None else limit
    return None if limit is None else max(16, limit - RESERVED_DESCRIPTORS)


class BoundedHttpToolsProtocol(HttpToolsProtocol):
    """:class:`HttpToolsProtocol` checking each request's head as it is read; a new request starts afresh.

    An ordinary head costs one sum: the bytes parsed since it began (over by
    less than :data:`STEP`: the piece it began in may end the request before).
    Only once that sum passes the smaller byte bound, or the headers number
    more than :data:`MAX_HEADERS`, is the head counted exactly: after each
    piece parsed, and when it ends, before it is served. A header httptools is
    still reading is out of sight until it ends: its size is what the bytes
    parsed exceed the rest by.
    """

    def __init__(
        self,
        config: Config,
        server_state: ServerState,
        app_state: dict[str, Any],
        _loop: asyncio.AbstractEventLoop | None = None,
    ) -> None:
        super().__init__(config, server_state, app_state, _loop)
        self._in_head = False
        self._parsed = 0  # the head's bytes in the pieces parsed before this one: at most STEP more
        self._piece = 0  # the length of the piece being parsed
        self._refusal: int | None = None
        self._deadline: asyncio.TimerHandle | None = None
        self.waiting_since: float | None = None
        """When this connection began to wait for a head (None: a request is being read or answered)."""

    # Time and room

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._wait_for_head()
        room = connection_room()
        if room is not None and len(self.connections) > room:
            self._make_room()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        self.waiting_since = None
        super().connection_lost(exc)

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if not self.transport.is_closing() and not self.pipeline:
            self._wait_for_head()

    def handle_websocket_upgrade(self) -> None:
        self._disarm()  # a WebSocket now: its own pings keep it honest
        self.waiting_since = None
        super().handle_websocket_upgrade()

    def _wait_for_head(self) -> None:
        self.waiting_since = self.loop.time()
        self._arm(HEAD_TIMEOUT, "a request head")

    def _arm(self, seconds: float, what: str) -> None:
        self._disarm()
        self._deadline = self.loop.call_later(seconds, self._timed_out, seconds, what)

    def _disarm(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    def _timed_out(self, seconds: float, what: str) -> None:
        self._deadline = None
        if not self.transport.is_closing():
            self.logger.info("%s did not come within %g s: connection closed", what, seconds)
            if self.cycle is not None and not self.cycle.response_complete:
                self.cycle.disconnected = True  # the app reading the body hears "gone", and answers no one
                self.cycle.message_event.set()
            self.transport.close()

    def _make_room(self) -> None:
        """Close the connection that has waited longest for a head (this new one, if none waited longer)."""
        waiting = [c for c in self.connections if isinstance(c, BoundedHttpToolsProtocol) and c.waiting_since]
        if waiting:
            oldest = min(waiting, key=lambda connection: connection.waiting_since or 0.0)
            self.logger.warning("%d connections near the descriptor limit: the oldest idle one closed", len(waiting))
            oldest.waiting_since = None
            oldest.transport.close()

    def data_received(self, data: bytes) -> None:
        """As :meth:`HttpToolsProtocol.data_received`, checking the head; nothing is read after a refusal."""
        if self._refusal is not None:
            return
        self._unset_keepalive_if_required()
        for piece in (data,) if len(data) <= STEP else _pieces(data):
            self._piece = len(piece)
            try:
                self.parser.feed_data(piece)
            except httptools.HttpParserError:
                if self._refusal is None:
                    msg = "Invalid HTTP request received."
                    self.logger.warning(msg)
                    self.send_400_response(msg)
                return
            except httptools.HttpParserUpgrade:
                if self._should_upgrade():
                    self.handle_websocket_upgrade()
                else:
                    self._unsupported_upgrade_warning()
                return
            if self._in_head:
                self._parsed += self._piece
                if (self._parsed > _LOOK or len(self.headers) > MAX_HEADERS) and self._refuses(self._parsed):
                    return

    # Parser callbacks

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._in_head = True
        self._parsed = 0
        if self._deadline is None:  # a pipelined request: its head's time starts now
            self._arm(HEAD_TIMEOUT, "a request head")

    def on_headers_complete(self) -> None:
        self._in_head = False
        self.waiting_since = None
        parsed = self._parsed + self._piece
        if (parsed > _LOOK or len(self.headers) > MAX_HEADERS) and self._refuses(parsed):
            raise _Refused
        self._arm(BODY_TIMEOUT, "a request body")
        super().on_headers_complete()

    def on_body(self, body: bytes) -> None:
        self._arm(BODY_TIMEOUT, "the rest of a request body")
        super().on_body(body)

    def on_message_complete(self) -> None:
        self._disarm()
        super().on_message_complete()

    # Refusing

    def _refuses(self, parsed: int) -> bool:
        """Count the head exactly; refuse it if it is past a bound (``parsed``: at most its bytes + STEP)."""
        header_bytes = sum(len(name) + len(value) + 4 for name, value in self.headers)  # ": " and CRLF
        if len(self.url) > MAX_TARGET_BYTES:
            self._refuse(414, f"a request target longer than {MAX_TARGET_BYTES} bytes")
        elif len(self.headers) > MAX_HEADERS:
            self._refuse(431, f"more than {MAX_HEADERS} headers")
        elif header_bytes > MAX_HEADER_BYTES:
            self._refuse(431, f"headers longer than {MAX_HEADER_BYTES} bytes in all")
        elif parsed - STEP - SLACK - len(self.url) - header_bytes > MAX_HEADER_BYTES:
            self._refuse(431, f"a header longer than {MAX_HEADER_BYTES} bytes")
        return self._refusal is not None

    def _refuse(self, status: int, why: str) -> None:
        """Answer ``status`` now, or once the responses owed to the requests before it are sent."""
        self._refusal = status
        self._in_head = False
        self.logger.warning("Request refused with %d: %s.", status, why)
        self.flow.pause_reading()
        if self.cycle is None or self.cycle.response_complete:
            self._send_refusal()
            return
        # The last request read before this one answers last: the refusal follows it.
        last = self.cycle
        answered = last.on_response

        def then_refuse() -> None:
            answered()
            self._send_refusal()

        last.on_response = then_refuse

    def _send_refusal(self) -> None:
        if self._refusal is None or self.transport.is_closing():
            return
        body = http.HTTPStatus(self._refusal).phrase.encode("ascii")
        content = [STATUS_LINE[self._refusal]]
        for name, value in self.server_state.default_headers:
            content.extend([name, b": ", value, b"\r\n"])
        content.extend(
            [
                b"content-type: text/plain; charset=utf-8\r\n",
                b"content-length: " + str(len(body)).encode("ascii") + b"\r\n",
                b"connection: close\r\n",
                b"\r\n",
                body,
            ]
        )
        self.transport.write(b"".join(content))
        self.transport.close()


def _pieces(data: bytes) -> Iterator[memoryview]:
    view = memoryview(data)
    for start in range(0, len(data), STEP):
        yield view[start : start + STEP]
