"""Bugs the robustness suite found in the core, each pinned by the input that found it.

Add a case here when a fuzz, fault or soak finding is fixed: the input, at the
lowest layer that showed it, and at the door a user would have hit.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Final

import pytest

from deskbridge import protocol
from deskbridge.errors import ErrorCode
from deskbridge.router import Commands, Router
from tests.support import BackendProcess

Spawn = Callable[..., BackendProcess]


def nested(depth: int) -> bytes:
    return b"[" * depth + b"]" * depth


HOSTILE_LINES: Final = {
    # msgspec raises RecursionError past the interpreter's recursion limit; nothing caught it
    "array nested 5000 deep": nested(5000),
    "object nested 3000 deep": b'{"a":' * 3000 + b"1" + b"}" * 3000,
    "payload nested 5000 deep": b'{"id":"n","type":"ECHO","payload":' + nested(5000) + b"}",
    # the lenient id reader echoed a string that cannot be encoded: UnicodeEncodeError
    "lone surrogate as the id": b'{"id":"\\ud800","type":"PING"}',
}
hostile = pytest.mark.parametrize("line", HOSTILE_LINES.values(), ids=HOSTILE_LINES.keys())


def error_of(body: bytes) -> dict[str, Any]:
    response: dict[str, Any] = json.loads(body)
    assert response["type"] == "ERROR_RESPONSE", response
    assert response["success"] is False, response
    return response


@hostile
def test_parse_command_answers_a_hostile_line_instead_of_raising(line: bytes) -> None:
    rejected = protocol.parse_command(line)
    assert isinstance(rejected, protocol.Rejected)
    response = error_of(rejected.response)
    assert response["error_code"] == ErrorCode.PARSE_ERROR
    assert response["id"] is None


@hostile
def test_the_router_answers_a_hostile_line_instead_of_raising(line: bytes) -> None:
    commands = Commands()
    commands.add("ECHO", lambda payload: payload, inline=True)

    async def main() -> list[bytes]:
        with ThreadPoolExecutor(1) as executor:
            router = Router(commands, asyncio.get_running_loop(), executor)
            replies: list[bytes] = []
            router.dispatch(line, replies.append)
            return replies

    (reply,) = asyncio.run(main())
    assert error_of(reply)["error_code"] == ErrorCode.PARSE_ERROR


def test_a_hostile_line_on_stdio_is_answered_and_the_backend_goes_on(spawn: Spawn) -> None:
    """Before the fix, the first of these lines closed the backend's input: it answered nothing more and exited."""
    backend = spawn("diag")
    for line in HOSTILE_LINES.values():
        backend.send_raw(line + b"\n")
        assert error_of(json.dumps(backend.next_message()).encode())["error_code"] == ErrorCode.PARSE_ERROR
    assert backend.ok("PING")["pong"] is True
