"""WebSocket close codes: part of the protocol, shared by the web door and every client.

A client must be able to tell "reconnect and resume" from "do not retry":
codes 4400-4499 mirror the HTTP status of a refusal and mean *do not retry*
(retrying cannot help until the user fixes the token, origin or host); every
other code, including the standard ones below, means *reconnect and resume
from your last seq*.
"""

from __future__ import annotations

import enum
from typing import Final

MAX_REASON_BYTES: Final = 123
"""What a close frame's reason holds (RFC 6455: 125 bytes of payload, two of them the code)."""


class CloseCode(enum.IntEnum):
    NORMAL = 1000
    GOING_AWAY = 1001
    """The backend is ending: stopped by a signal, or the process that owns it over stdio exited."""
    UNSUPPORTED_DATA = 1003
    """A binary frame: the protocol is JSON text."""
    MESSAGE_TOO_BIG = 1009
    SERVICE_RESTART = 1012
    SLOW_CONSUMER = 4008
    """The connection's outbound queue overflowed: reconnect and resume by seq."""
    BAD_REQUEST = 4400
    """The handshake was malformed (e.g. a cursor that is not a number)."""
    UNAUTHORIZED = 4401
    """Missing or wrong token."""
    FORBIDDEN_ORIGIN = 4403
    """The page's Origin is not on the allowlist."""
    MISDIRECTED = 4421
    """The Host header does not name this server on a loopback address."""


def should_retry(code: int | None) -> bool:
    """Whether a client that saw ``code`` should reconnect (with backoff) and resume."""
    return code is None or not 4400 <= code <= 4499


def fit_reason(reason: str) -> str:
    """``reason`` cut to fit a close frame (on a character boundary, ending in an ellipsis): a refusal that
    quotes a long path or cursor must still be sent, or the client sees 1006 and retries forever."""
    data = reason.encode()
    if len(data) <= MAX_REASON_BYTES:
        return reason
    return data[: MAX_REASON_BYTES - 3].decode("utf-8", "ignore") + "\u2026"
