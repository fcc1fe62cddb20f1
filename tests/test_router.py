"""A success answer means the command's events are stored: the router's side of the event log's promise.

The log sits on a real 1 MiB tmpfs filled until SQLite refuses to commit;
handlers of every kind (inline on the loop, in a worker thread, async) emit
through the real EventSink.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from deskbridge import protocol
from deskbridge.errors import CommandError, ErrorCode
from deskbridge.events import EventLog, EventSink
from deskbridge.router import Commands, Router
from tests.robustness.support import remount, tmpfs

KINDS = ["inline", "thread", "async"]


@dataclass
class Rig:
    log: EventLog
    router: Router
    disk: Path

    async def call(self, command_type: str, payload: Any = None) -> dict[str, Any]:
        answer: asyncio.Future[bytes] = asyncio.get_running_loop().create_future()
        line = protocol.encode({"id": "1", "type": command_type, "payload": payload or {}})
        self.router.dispatch(line, answer.set_result)
        return dict(json.loads(await asyncio.wait_for(answer, 10)))

    def stored(self) -> list[str]:
        return [json.loads(body)["type"] for body in self.log.read(0, 1_000_000)]


def build(commands: Commands, sink: Callable[[], EventSink]) -> None:
    def emit(payload: dict[str, Any]) -> dict[str, Any]:
        sink().emit({"type": payload["type"]})
        return {"emitted": True}

    async def emit_async(payload: dict[str, Any]) -> dict[str, Any]:
        await asyncio.sleep(0)
        return emit(payload)

    commands.add("EMIT_INLINE", emit, inline=True)
    commands.add("EMIT_THREAD", emit)
    commands.add("EMIT_ASYNC", emit_async)
    commands.add("QUIET", lambda payload: {"quiet": True})


@pytest.fixture
def disk(tmp_path: Path) -> Iterator[Path]:
    with tmpfs(tmp_path / "disk", "1m") as path:
        yield path


@contextlib.asynccontextmanager
async def running(disk: Path) -> AsyncIterator[Rig]:
    loop = asyncio.get_running_loop()
    log = EventLog(disk / "events.db", schedule=loop.call_soon)
    commands = Commands()
    build(commands, lambda: sink)
    sink = EventSink(log, loop)
    with ThreadPoolExecutor(2) as executor:
        router = Router(commands, loop, executor, log)

        async def forward(payload: dict[str, Any]) -> Any:
            try:
                return await router.call(payload["type"], payload.get("payload"))
            except CommandError as exc:
                return {"refused": exc.code, "details": exc.details}

        commands.add("FORWARD", forward)
        try:
            yield Rig(log, router, disk)
        finally:
            log.close()


def with_rig(disk: Path, test: Callable[[Rig], Awaitable[None]]) -> None:
    async def main() -> None:
        async with running(disk) as rig:
            await test(rig)

    asyncio.run(main())


def fill(log: EventLog) -> None:
    while log.flush():
        for _ in range(100):
            log.append({"type": "FILL", "data": "x" * 200})


def test_the_answer_comes_after_the_events_are_stored(disk: Path) -> None:
    with_rig(disk, answers_after_the_events_are_stored)


async def answers_after_the_events_are_stored(rig: Rig) -> None:
    for kind in KINDS:
        answer = await rig.call(f"EMIT_{kind.upper()}", {"type": kind})
        assert answer["success"] is True
        assert rig.log.committed_seq == rig.log.last_seq, "answered before its event was on disk"
    assert rig.stored() == KINDS


@pytest.mark.parametrize("kind", KINDS)
def test_a_command_whose_events_cannot_be_stored_is_answered_events_not_stored(kind: str, disk: Path) -> None:
    with_rig(disk, lambda rig: answers_events_not_stored(kind, rig))


async def answers_events_not_stored(kind: str, rig: Rig) -> None:
    fill(rig.log)
    refused = await rig.call(f"EMIT_{kind.upper()}", {"type": "LATE"})
    quiet = await rig.call("QUIET")
    assert refused["error_code"] == ErrorCode.EVENTS_NOT_STORED
    assert refused["error"].startswith(f"EMIT_{kind.upper()} ran, but the events it raised are not stored")
    assert "database or disk is full" in refused["error"]
    assert quiet["success"] is True, "a command that raised nothing is not failed for the others' events"
    remount(rig.disk, "rw,size=20m")
    assert rig.log.retry() is True
    again = await rig.call(f"EMIT_{kind.upper()}", {"type": "AGAIN"})
    assert again["success"] is True
    assert rig.stored()[-2:] == ["LATE", "AGAIN"], "the refused command's event was lost"


def test_past_max_held_events_are_refused_and_their_command_told_so_but_an_end_is_always_taken(
    disk: Path,
) -> None:
    with_rig(disk, refuses_past_max_held)


async def refuses_past_max_held(rig: Rig) -> None:
    fill(rig.log)
    rig.log.max_held = rig.log.last_seq - rig.log.committed_seq
    dropped = await rig.call("EMIT_THREAD", {"type": "DROPPED"})
    assert dropped["error_code"] == ErrorCode.EVENTS_NOT_STORED
    assert "1 of the events it raised were dropped" in dropped["error"]
    end = rig.log.append(protocol.progress_event("DONE", {"operation_id": "o", "status": "completed"}))
    assert end == rig.log.last_seq
    remount(rig.disk, "rw,size=20m")
    assert rig.log.retry() is True
    assert "DROPPED" not in rig.stored()
    assert rig.stored()[-1] == "DONE"


def test_a_command_runs_another_through_the_router_and_owns_its_events(disk: Path) -> None:
    with_rig(disk, forwards)


async def forwards(rig: Rig) -> None:
    for kind in KINDS:
        answer = await rig.call("FORWARD", {"type": f"EMIT_{kind.upper()}", "payload": {"type": kind}})
        assert answer["data"] == {"emitted": True}
    assert rig.stored() == KINDS
    unknown = await rig.call("FORWARD", {"type": "NOPE"})
    assert unknown["data"]["refused"] == ErrorCode.UNKNOWN_COMMAND
    invalid = await rig.call("FORWARD", {"type": "EMIT_THREAD", "payload": [1]})
    assert invalid["data"] == {"refused": ErrorCode.INVALID_PAYLOAD, "details": {"fields": ["$"]}}
    fill(rig.log)
    refused = await rig.call("FORWARD", {"type": "EMIT_THREAD", "payload": {"type": "LATE"}})
    assert refused["error_code"] == ErrorCode.EVENTS_NOT_STORED, "the forwarded command's events are the caller's"
