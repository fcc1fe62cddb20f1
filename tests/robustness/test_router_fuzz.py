"""Every command of every app fed arbitrary JSON as its payload: a response of the right shape, every time.

A real backend (studio, guardian and diag, on a scratch data dir, with Suno
and the browser pointed at nothing) runs on an event loop of its own; lines go
to its router as a door sends them. For each command, hypothesis draws
payloads of three kinds: any JSON value; an object with the payload's own
field names and arbitrary values; and values built from the command's JSON
Schema (``GET_SCHEMA``), which reach the handler itself. Every answer must be

* exactly one, within seconds;
* a success whose ``type`` is ``<TYPE>_RESPONSE`` and whose ``data`` decodes
  as the handler's declared return type (an operation: ``operation_id`` and
  ``status: pending``), or
* an ``ERROR_RESPONSE`` with a documented code, and never ``INTERNAL_ERROR``
  (an exception the handler did not expect), except from ``CRASH``, whose job
  that is.

Payloads never name a path outside the test's directory nor a URL off the
loopback: path fields are drawn under the scratch directory (or relative,
which is refused), URL fields point at a closed port. Values that would only
make a command slow on purpose (``SLEEP``'s seconds, ``EMIT``'s count) are
capped, so that "within seconds" stays a fair demand.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import os
import socket
import tempfile
import threading
from collections.abc import Coroutine, Iterator
from pathlib import Path
from typing import Any, Final, TypeVar

import msgspec
import pytest
from fuzz.core_checks import check_error_response
from hypothesis import example, given, settings
from hypothesis import strategies as st

from deskbridge import protocol
from deskbridge.app import load_app
from deskbridge.backend import Backend
from deskbridge.errors import ErrorCode
from deskbridge.operations import Operation
from tests.robustness.support import FUZZ_SETTINGS, record

T = TypeVar("T")
APPS: Final = ("studio", "guardian", "diag")
INTERNAL_BY_DESIGN: Final = frozenset({"CRASH"})
PATH_FIELDS: Final = frozenset({"output_dir", "output_path", "path"})
ANSWER_WITHIN: Final = 10.0
EXAMPLES_PER_COMMAND: Final = int(os.environ.get("DESKBRIDGE_FUZZ_EXAMPLES", "40"))
TAME: Final[dict[str, dict[str, float]]] = {
    "SLEEP": {"seconds": 0.02},
    "BLOCKING_SLEEP": {"seconds": 0.02},
    "COUNT": {"to": 3, "interval": 0.001},
    "EMIT": {"count": 20},
    "PAUSE_MONITORING": {"minutes": 1},
}
"""Upper bounds for numbers that only make a command slow by design."""


def closed_port() -> int:
    """A loopback port nobody listens on (taken, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def sandboxed_config(port: int) -> dict[str, Any]:
    nowhere = f"http://127.0.0.1:{port}"
    return {
        "studio": {
            "suno": {"site_origin": nowhere, "clerk_base": nowhere, "api_base": nowhere, "cdn_base": nowhere},
            "browser": {"executable": "/nonexistent/chromium", "launch_timeout": 2, "session_wait": 0.5},
            "retry": {"attempts": 1, "first_delay": 0, "max_delay": 0},
            "page_delay": 0,
        },
        "monitor": {"poll_interval": 5},  # the guardian's process watcher: it has nothing to find here
    }


class InProcessBackend:
    """A real :class:`Backend` on an event loop thread of its own; lines go to its router as a door sends them."""

    def __init__(self, apps: tuple[str, ...], data_dir: Path, config: dict[str, Any]) -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, name="fuzzed-backend", daemon=True)
        self._thread.start()
        self.backend = Backend([load_app(name) for name in apps], data_dir=data_dir, config=config)
        self.run(self.backend.start())
        self.replies: list[list[bytes]] = []
        """Every reply each dispatched line got, to check later that no line was answered twice."""

    def run(self, coro: Coroutine[Any, Any, T], timeout: float = 30) -> T:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def send(self, line: bytes, timeout: float = ANSWER_WITHIN) -> bytes:
        """Dispatch one line; its first reply (``TimeoutError`` if none comes in time)."""
        replies: list[bytes] = []
        self.replies.append(replies)

        async def dispatch() -> bytes:
            answered = self.loop.create_future()

            def reply(body: bytes) -> None:
                replies.append(body)
                if not answered.done():
                    answered.set_result(body)

            self.backend.router.dispatch(line, reply)
            return await asyncio.wait_for(answered, timeout)

        return self.run(dispatch(), timeout + 5)

    def close(self) -> None:
        self.run(self.backend.aclose(timeout=2))
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(10)
        self.loop.close()


def backend_schema() -> dict[str, Any]:
    """``GET_SCHEMA`` of the fuzzed apps, read once at collection from a throwaway backend."""
    with tempfile.TemporaryDirectory(prefix="deskbridge-schema-") as scratch:
        backend = InProcessBackend(APPS, Path(scratch), sandboxed_config(closed_port()))
        try:
            return backend.backend.schema()
        finally:
            backend.close()


SCHEMA: Final = backend_schema()
COMMANDS: Final = sorted(SCHEMA["commands"])

# -- payloads -------------------------------------------------------------------------------------

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=10), inner, max_size=3),
    max_leaves=8,
)


def resolve(schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        schema = SCHEMA["$defs"][schema["$ref"].rsplit("/", 1)[-1]]
    return schema


def from_schema(schema: dict[str, Any]) -> st.SearchStrategy[Any]:
    """Values the schema describes (the subset msgspec emits), mostly valid; ``pattern`` is left to chance."""
    schema = resolve(schema)
    if "anyOf" in schema:
        return st.one_of([from_schema(option) for option in schema["anyOf"]])
    if "enum" in schema:
        return st.sampled_from(schema["enum"])
    kind = schema.get("type")
    if isinstance(kind, list):
        return st.one_of([from_schema({**schema, "type": one}) for one in kind])
    if kind == "null":
        return st.none()
    if kind == "boolean":
        return st.booleans()
    if kind == "integer":
        low = schema.get("minimum", schema["exclusiveMinimum"] + 1 if "exclusiveMinimum" in schema else None)
        high = schema.get("maximum", schema["exclusiveMaximum"] - 1 if "exclusiveMaximum" in schema else None)
        return st.integers(low, high)
    if kind == "number":
        return st.floats(schema.get("minimum"), schema.get("maximum"), allow_nan=False, allow_infinity=False)
    if kind == "string":
        if schema.get("format") == "date-time":
            return st.datetimes().map(lambda moment: moment.isoformat())
        return st.text(min_size=schema.get("minLength", 0), max_size=min(schema.get("maxLength", 30), 30))
    if kind == "array":
        items = from_schema(schema.get("items", {}))
        low = schema.get("minItems", 0)
        return st.lists(items, min_size=low, max_size=max(low, min(schema.get("maxItems", 3), 3)))
    if kind == "object":
        properties = schema.get("properties", {})
        required = set(schema.get("required", ()))
        return st.fixed_dictionaries(
            {name: from_schema(sub) for name, sub in properties.items() if name in required},
            optional={name: from_schema(sub) for name, sub in properties.items() if name not in required},
        )
    return json_values


def payloads(command: str, sandbox: Path) -> st.SearchStrategy[Any]:
    schema = resolve(SCHEMA["commands"][command]["payload"])
    names = sorted(schema.get("properties", {}))
    with_own_names = (
        st.dictionaries(st.sampled_from(names), json_values, max_size=len(names)) if names else st.nothing()
    )
    segment = st.text(st.characters(codec="utf-8", exclude_characters="/"), min_size=1, max_size=12)
    segment = segment.filter(lambda name: ".." not in name)
    suffix = st.sampled_from(["", ".csv", ".json"])
    paths = st.one_of(
        st.builds(lambda name, end: str(sandbox / f"{name}{end}"), segment, suffix),
        st.text(max_size=20).filter(lambda s: not s.startswith(("/", "~", "\\"))),  # relative: refused
    )
    return (
        st.one_of(json_values, with_own_names, from_schema(schema))
        .flatmap(lambda payload: st.just(payload) if not _has_paths(payload) else _with_paths(payload, paths))
        .map(lambda payload: _tame(command, _loopback_urls(payload)))
    )


def _has_paths(value: Any) -> bool:
    if isinstance(value, dict):
        return any(key in PATH_FIELDS or _has_paths(item) for key, item in value.items())
    return isinstance(value, list) and any(_has_paths(item) for item in value)


def _with_paths(value: Any, paths: st.SearchStrategy[str]) -> st.SearchStrategy[Any]:
    """``value`` with every path field's string drawn from ``paths``: nothing outside the sandbox, ever."""
    if isinstance(value, dict):
        return st.fixed_dictionaries(
            {
                key: paths if key in PATH_FIELDS and isinstance(item, str) else _with_paths(item, paths)
                for key, item in value.items()
            }
        )
    if isinstance(value, list):
        return st.tuples(*(_with_paths(item, paths) for item in value)).map(list)
    return st.just(value)


def _loopback_urls(value: Any) -> Any:
    if isinstance(value, dict):
        return {
            key: "http://127.0.0.1:9/nothing" if key.endswith("url") and isinstance(item, str) else _loopback_urls(item)
            for key, item in value.items()
        }
    if isinstance(value, list):
        return [_loopback_urls(item) for item in value]
    return value


def _tame(command: str, payload: Any) -> Any:
    caps = TAME.get(command)
    if not caps or not isinstance(payload, dict):
        return payload
    return {
        key: min(value, caps[key]) if key in caps and type(value) in (int, float) else value
        for key, value in payload.items()
    }


# -- the check --------------------------------------------------------------------------------------


def check_response(command: str, command_id: str, body: bytes, data_type: Any) -> dict[str, Any]:
    """``body`` is the one right answer to ``command``: see the module's docstring."""
    response = json.loads(body)
    assert response["id"] == command_id, response
    if response["success"] is not True:
        check_error_response(body, SCHEMA["error_codes"])  # only codes the apps declared
        if command not in INTERNAL_BY_DESIGN:
            assert response["error_code"] != ErrorCode.INTERNAL_ERROR, response
        return response
    assert response["type"] == f"{command}_RESPONSE", response
    assert response["error"] is None, response
    assert isinstance(response["timestamp"], int), response
    data = response["data"]
    if data_type is Operation:
        assert isinstance(data["operation_id"], str), response
        assert data["status"] == "pending", response
    else:
        msgspec.json.decode(msgspec.json.encode(data), type=data_type, strict=False)
    return response


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[InProcessBackend]:
    backend = InProcessBackend(APPS, tmp_path_factory.mktemp("fuzzed-data"), sandboxed_config(closed_port()))
    yield backend
    backend.close()
    twice = [replies for replies in backend.replies if len(replies) > 1]
    assert not twice, f"lines answered more than once: {twice[:3]}"
    record("fuzz.router", commands=len(COMMANDS), lines_sent=len(backend.replies), answered_twice=0)


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("fuzzed-files")


KNOWN_BUGS: Final[dict[str, tuple[dict[str, Any], str]]] = {}
"""Findings in code this suite does not own: each fails on its own example first, so the xfail is strict."""

ids = itertools.count()


def _command_param(command: str) -> Any:
    if command not in KNOWN_BUGS:
        return command
    return pytest.param(command, marks=pytest.mark.xfail(strict=True, reason=KNOWN_BUGS[command][1]))


@pytest.mark.parametrize("command", [_command_param(command) for command in COMMANDS])
def test_any_payload_gets_one_well_formed_answer(command: str, live: InProcessBackend, sandbox: Path) -> None:
    data_type = live.backend.router.routes[command].data_type

    @settings(FUZZ_SETTINGS, max_examples=EXAMPLES_PER_COMMAND)
    @given(payload=payloads(command, sandbox))
    def answers(payload: Any) -> None:
        command_id = f"fuzz-{next(ids)}"
        line = protocol.encode({"id": command_id, "type": command, "payload": payload})
        check_response(command, command_id, live.send(line), data_type)

    if command in KNOWN_BUGS:
        answers = example(payload=KNOWN_BUGS[command][0])(answers)
    answers()
