"""What the sans-I/O core must do with any bytes at all, checked the same way by hypothesis and by atheris.

``tests/robustness/test_fuzz_core.py`` draws its inputs with hypothesis;
``fuzz/fuzz_framer.py`` lets libFuzzer's coverage feedback find them. Both
hand them to :func:`check_stream`, which asserts:

* the framer never raises and never holds more than ``max_line`` bytes;
* it yields exactly the frames of :func:`reference_frames`, a model written
  from docs/protocol.md ("Framing"), whatever the cuts between chunks;
* every frame decodes to a command or to the error response it earns, never
  to an exception, and every error response is a well-formed
  ``ERROR_RESPONSE`` with a documented ``error_code``.
"""

from __future__ import annotations

import contextlib
import itertools
import json
from collections.abc import Collection, Sequence
from typing import Any, Final

import msgspec

from deskbridge.errors import ErrorCode
from deskbridge.protocol import LINE_TOO_LONG, Command, LineFramer, LineTooLong, Rejected, parse_command

Frame = bytes | LineTooLong
ERROR_CODES: Final = frozenset(code.value for code in ErrorCode)


def reference_frames(stream: bytes, max_line: int) -> list[Frame]:
    """The frames of ``stream`` as docs/protocol.md describes them, computed on the whole input at once.

    One frame per ``\\n``-terminated line, and for a last line without one;
    blank (white space only) lines are skipped; a line longer than
    ``max_line`` is one :data:`LINE_TOO_LONG`.
    """
    *lines, last = stream.split(b"\n")
    frames: list[Frame] = []
    for line in [*lines, last]:
        if len(line) > max_line:
            frames.append(LINE_TOO_LONG)
        elif line and not line.isspace():
            frames.append(line)
    return frames


def frame(stream: bytes, cuts: Sequence[int], max_line: int) -> list[Frame]:
    """Feed ``stream`` to a framer in chunks cut at ``cuts``, then close it; the buffer is checked after each feed."""
    framer = LineFramer(max_line)
    bounds = sorted({0, len(stream), *(min(max(cut, 0), len(stream)) for cut in cuts)})
    frames: list[Frame] = []
    for start, end in itertools.pairwise(bounds):
        frames += framer.feed(stream[start:end])
        assert framer.buffered <= max_line, f"framer holds {framer.buffered} bytes, limit {max_line}"
    frames += framer.close()
    assert framer.buffered == 0
    return frames


def check_error_response(body: bytes, codes: Collection[str] = ERROR_CODES) -> dict[str, Any]:
    """``body`` is a well-formed ``ERROR_RESPONSE`` (docs/protocol.md, "Messages") with one of ``codes`` (the
    framework's, or every code a backend declares); returns it decoded."""
    response = json.loads(body)
    assert isinstance(response, dict), response
    assert response["type"] == "ERROR_RESPONSE", response
    assert response["success"] is False, response
    assert isinstance(response["error"], str), response
    assert response["error"], response
    assert response["error_code"] in codes, response
    assert response["id"] is None or isinstance(response["id"], (str, int)), response
    assert isinstance(response["timestamp"], int), response
    return response


def decode(item: Frame) -> tuple[Any, ...]:
    """One frame as the router sees it: a command's fields, or the error it earns (timestamp left out)."""
    if isinstance(item, LineTooLong):
        return ("too long",)
    result = parse_command(item)
    if isinstance(result, Command):
        assert isinstance(result.id, str)
        assert isinstance(result.type, str)
        assert result.timestamp is None or isinstance(result.timestamp, (int, float))
        # The raw payload may still fail to decode (1e999, invalid UTF-8 in a key): the router answers those
        # INVALID_PAYLOAD or PARSE_ERROR; any other exception would escape it.
        with contextlib.suppress(msgspec.DecodeError, UnicodeDecodeError, RecursionError):
            msgspec.json.decode(result.payload)
        return ("command", result.id, result.type, bytes(result.payload), result.timestamp)
    assert isinstance(result, Rejected)
    response = check_error_response(result.response)
    del response["timestamp"]
    return ("rejected", response)


def check_stream(stream: bytes, cuts: Sequence[int], max_line: int) -> list[tuple[Any, ...]]:
    """Every property above for one input; the decoded messages, for callers that compare runs."""
    frames = frame(stream, cuts, max_line)
    assert frames == reference_frames(stream, max_line)
    return [decode(item) for item in frames]
