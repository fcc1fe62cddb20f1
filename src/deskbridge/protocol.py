"""The wire format of seed 000, sans I/O: bytes in, messages out, and back.

Nothing here reads or writes a file, a pipe or a socket, so the framer and the
decoder can be fuzzed and benchmarked on their own (the ``h11`` idea).

* A command is ``{"id", "type", "payload", "timestamp"?}``.
* A success is ``{"id", "type": "<TYPE>_RESPONSE", "success": true, "data", "error": null, "timestamp"}``.
* A failure is ``{"id", "type": "ERROR_RESPONSE", "success": false, "error", "error_code", "timestamp", "details"?}``.
* An event is any message with a ``seq``; a progress event is
  ``{"id": "progress-event", "type": "<EVENT>", "payload": {"operation_id", ...}, "timestamp", "seq"}``.
"""

from __future__ import annotations

import enum
import json
import time
from pathlib import PurePath
from typing import Any, Final

import msgspec

from deskbridge.errors import ErrorCode

PROTOCOL_VERSION: Final = "1.0"
DEFAULT_MAX_LINE: Final = 16 * 1024 * 1024
PROGRESS_EVENT_ID: Final = "progress-event"
ERROR_RESPONSE: Final = "ERROR_RESPONSE"

Id = str | int | None


class Status(enum.StrEnum):
    """An operation's ``status`` in its events and snapshots."""

    PENDING = "pending"
    RUNNING = "running"
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELLED = "cancelled"


TERMINAL_STATUSES: Final = frozenset({Status.COMPLETED, Status.FAILED, Status.CANCELLED})
"""An operation ends in exactly one event with one of these (equal to their plain strings, as read off the wire)."""


class Command(msgspec.Struct):
    """A decoded command; ``payload`` stays raw until the handler's type decodes it."""

    id: str
    type: str
    payload: msgspec.Raw = msgspec.Raw(b"{}")
    timestamp: int | float | None = None


class _Success(msgspec.Struct):
    id: Id
    type: str
    success: bool
    data: Any
    error: None
    timestamp: int


class _Failure(msgspec.Struct, omit_defaults=True):
    id: Id
    type: str
    success: bool
    error: str
    error_code: str
    timestamp: int
    details: Any = None


def _enc_hook(obj: Any) -> Any:
    if isinstance(obj, PurePath):
        return str(obj)
    raise NotImplementedError(f"cannot encode {type(obj).__name__}")


_encoder: Final = msgspec.json.Encoder(enc_hook=_enc_hook)
_command_decoder: Final = msgspec.json.Decoder(Command)
_any_decoder: Final = msgspec.json.Decoder()

encode = _encoder.encode
"""Encode any message (dicts, Structs, dataclasses, paths...) to JSON bytes."""

decode_command = _command_decoder.decode
"""The fast path for a well-formed command; on any error, :func:`parse_command` says why."""


def now_ms() -> int:
    return time.time_ns() // 1_000_000


def success(command_id: Id, command_type: str, data: Any, timestamp: int | None = None) -> bytes:
    return _encoder.encode(_Success(command_id, command_type + "_RESPONSE", True, data, None, timestamp or now_ms()))


def failure(
    command_id: Id,
    code: str,
    message: str,
    details: Any = None,
    timestamp: int | None = None,
) -> bytes:
    return _encoder.encode(
        _Failure(command_id, ERROR_RESPONSE, False, message, str(code), timestamp or now_ms(), details)
    )


def progress_event(event_type: str, payload: dict[str, Any], timestamp: int | None = None) -> dict[str, Any]:
    """A progress event body; the event log adds ``seq`` when it accepts it."""
    return {
        "id": PROGRESS_EVENT_ID,
        "type": event_type,
        "payload": payload,
        "timestamp": timestamp or now_ms(),
    }


class Rejected(msgspec.Struct):
    """A line that is not a usable command, with the response it earns."""

    response: bytes


def parse_command(line: bytes | str) -> Command | Rejected:
    """Decode one command, or say precisely why it is not one."""
    try:
        return _command_decoder.decode(line)
    except (msgspec.DecodeError, UnicodeDecodeError, RecursionError):
        pass
    # Slow path, only for bad input: find the most useful thing to say.
    try:
        value = _any_decoder.decode(line)
    except (msgspec.DecodeError, UnicodeDecodeError) as exc:
        return Rejected(failure(_lenient_id(line), ErrorCode.PARSE_ERROR, f"line is not valid JSON: {exc}"))
    except RecursionError:
        # msgspec stops at the interpreter's recursion limit (about 1000 levels) rather than overflow the stack
        return Rejected(failure(None, ErrorCode.PARSE_ERROR, "line is nested too deeply to decode"))
    if not isinstance(value, dict):
        kind = type(value).__name__ if value is not None else "null"
        return Rejected(failure(None, ErrorCode.INVALID_MESSAGE, f"a command must be a JSON object, not {kind}"))
    raw_id = value.get("id")
    echo_id: Id = raw_id if isinstance(raw_id, (str, int)) and not isinstance(raw_id, bool) else None
    problems = []
    if not isinstance(raw_id, str):
        problems.append(("id", "missing" if raw_id is None else "must be a string"))
    if not isinstance(value.get("type"), str):
        problems.append(("type", "missing" if value.get("type") is None else "must be a string"))
    ts = value.get("timestamp")
    if ts is not None and (isinstance(ts, bool) or not isinstance(ts, (int, float))):
        problems.append(("timestamp", "must be a number"))
    if problems:
        message = "; ".join(f"`{field}` {why}" for field, why in problems)
        details = {"fields": [f"$.{field}" for field, _ in problems]}
        return Rejected(failure(echo_id, ErrorCode.INVALID_MESSAGE, f"invalid command: {message}", details))
    return Rejected(failure(echo_id, ErrorCode.INVALID_MESSAGE, "invalid command"))


def _lenient_id(line: bytes | str) -> Id:
    """The id of a line msgspec refuses but Python's json reads (a lone surrogate escape), so it is still answered."""
    try:
        value = json.loads(line)
    except (ValueError, RecursionError):
        return None
    raw_id = value.get("id") if isinstance(value, dict) else None
    if isinstance(raw_id, str) and not raw_id.isascii():
        try:
            raw_id.encode()
        except UnicodeEncodeError:  # the id itself is the lone surrogate: it cannot be echoed
            return None
    return raw_id if isinstance(raw_id, (str, int)) and not isinstance(raw_id, bool) else None


def validation_details(exc: msgspec.ValidationError) -> tuple[str, dict[str, Any]]:
    """Turn msgspec's ``Expected int, got str - at `$.total`` into a message and a field path."""
    text = str(exc)
    message, sep, where = text.rpartition(" - at `")
    if not sep:
        return f"invalid payload: {text}", {"fields": ["$"]}
    return f"invalid payload: {message} at `{where}", {"fields": [where.rstrip("`")]}


class LineTooLong:
    """Marks a line that crossed the limit; it is reported once and skipped."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "LINE_TOO_LONG"


LINE_TOO_LONG: Final = LineTooLong()


class LineFramer:
    """NDJSON framing that never holds more than ``max_line`` bytes of one line.

    ``feed`` returns complete lines (without ``\\n``; a trailing ``\\r`` is left
    for the JSON decoder, which treats it as white space) and a
    :data:`LINE_TOO_LONG` marker the moment a line crosses the limit; the rest
    of that line is dropped as it arrives. Blank lines are skipped.
    """

    __slots__ = ("_buf", "_skipping", "max_line")

    def __init__(self, max_line: int = DEFAULT_MAX_LINE) -> None:
        if max_line < 1:
            raise ValueError("max_line must be positive")
        self.max_line = max_line
        self._buf = bytearray()
        self._skipping = False

    @property
    def buffered(self) -> int:
        return len(self._buf)

    def feed(self, data: bytes) -> list[bytes | LineTooLong]:
        parts = data.split(b"\n")
        tail = parts.pop()
        out: list[bytes | LineTooLong] = []
        if parts:
            if self._skipping:
                self._skipping = False
                parts[0] = b""
            elif self._buf:
                if len(self._buf) + len(parts[0]) > self.max_line:
                    parts[0] = b""
                    out.append(LINE_TOO_LONG)
                else:
                    self._buf += parts[0]
                    parts[0] = bytes(self._buf)
                self._buf.clear()
            limit = self.max_line
            for line in parts:
                if len(line) > limit:
                    out.append(LINE_TOO_LONG)
                elif line and not line.isspace():
                    out.append(line)
        if tail and not self._skipping:
            if len(self._buf) + len(tail) > self.max_line:
                self._buf.clear()
                self._skipping = True
                out.append(LINE_TOO_LONG)
            else:
                self._buf += tail
        return out

    def close(self) -> list[bytes | LineTooLong]:
        """At end of input: a last line that had no newline still counts."""
        rest = bytes(self._buf)
        self._buf.clear()
        self._skipping = False
        return [rest] if rest and not rest.isspace() else []
