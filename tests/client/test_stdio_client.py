"""deskbridge.client over stdio: what a Python front end or script writes."""

from __future__ import annotations

import asyncio
import shutil
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from deskbridge.client import (
    BackendStartError,
    ConnectionLost,
    Cursor,
    OperationFailed,
    RemoteError,
    StdioClient,
    SyncClient,
)


def run(coro: object) -> object:
    return asyncio.run(coro)  # type: ignore[arg-type]


def test_call_returns_data(tmp_path: Path) -> None:
    async def main() -> None:
        async with await StdioClient.spawn("diag", data_dir=tmp_path) as client:
            assert client.ready["type"] == "BACKEND_READY"
            assert await client.call("ECHO", {"a": [1, "é"]}) == {"a": [1, "é"]}
            assert (await client.call("PING"))["pong"] is True

    run(main())


def test_an_error_response_raises_with_its_code_and_details(tmp_path: Path) -> None:
    async def main() -> None:
        async with await StdioClient.spawn("diag", data_dir=tmp_path) as client:
            with pytest.raises(RemoteError) as info:
                await client.call("COUNT", {"to": "many"})
            assert info.value.error_code == "INVALID_PAYLOAD"
            assert info.value.details == {"fields": ["$.to"]}
            with pytest.raises(RemoteError, match="UNKNOWN_COMMAND"):
                await client.call("NOPE")

    run(main())


def test_an_operation_handle_yields_progress_then_the_result(tmp_path: Path) -> None:
    async def main() -> None:
        async with await StdioClient.spawn("diag", data_dir=tmp_path) as client:
            handle = await client.start("COUNT", {"to": 4, "interval": 0.12})
            seen = [payload async for payload in handle]
            assert seen[-1]["status"] == "completed"
            assert [p["status"] for p in seen[:-1]] == ["in_progress"] * (len(seen) - 1)
            assert len(seen) >= 3
            assert await handle.result() == {"counted": 4}

    run(main())


def test_a_failed_or_cancelled_operation_raises(tmp_path: Path) -> None:
    async def main() -> None:
        async with await StdioClient.spawn("diag", data_dir=tmp_path) as client:
            failing = await client.start("COUNT", {"to": 5, "interval": 0.01, "fail_at": 2})
            with pytest.raises(OperationFailed) as info:
                await failing.result(timeout=10)
            assert info.value.status == "failed"
            endless = await client.start("COUNT", {"to": 10**6, "interval": 0.01})
            assert await endless.cancel() is True
            with pytest.raises(OperationFailed) as info:
                await endless.result(timeout=10)
            assert info.value.status == "cancelled"
            assert info.value.error_code == "OPERATION_CANCELLED"

    run(main())


def test_pending_calls_fail_at_once_when_the_backend_dies(tmp_path: Path) -> None:
    async def main() -> None:
        client = await StdioClient.spawn("diag", data_dir=tmp_path)
        call = asyncio.ensure_future(client.call("SLEEP", {"seconds": 60}))
        handle = await client.start("COUNT", {"to": 10**6, "interval": 0.01})
        await asyncio.sleep(0.2)
        client.process.kill()
        started = time.monotonic()
        with pytest.raises(ConnectionLost):
            await asyncio.wait_for(call, 5)
        with pytest.raises(ConnectionLost):
            await asyncio.wait_for(handle.result(), 5)
        assert time.monotonic() - started < 2
        with pytest.raises(ConnectionLost):
            await client.call("PING")
        await client.aclose()

    run(main())


def test_a_backend_that_cannot_start_reports_why(tmp_path: Path) -> None:
    async def main() -> None:
        async with await StdioClient.spawn("diag", data_dir=tmp_path):
            with pytest.raises(BackendStartError, match="in use by pid"):
                await StdioClient.spawn("diag", data_dir=tmp_path)

    run(main())


def test_the_sync_client_for_scripts(tmp_path: Path) -> None:
    with SyncClient.spawn("diag", data_dir=tmp_path) as client:
        assert client.call("ECHO", {"x": 1}) == {"x": 1}
        operation = client.start("COUNT", {"to": 3, "interval": 0.01})
        statuses = [p["status"] for p in operation.progress()]
        assert statuses[-1] == "completed"
        assert operation.result() == {"counted": 3}
        with pytest.raises(RemoteError):
            client.call("CRASH")


async def until(condition: Callable[[], bool], what: str, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.01)


def test_resume_after_kill_9_replays_the_events_after_the_cursor_once_in_order_before_live_ones(
    tmp_path: Path,
) -> None:
    async def main() -> None:
        first = await StdioClient.spawn("diag", data_dir=tmp_path)
        assert first.recovered is True  # no cursor: live from the head
        assert await first.caught_up() is True
        await first.call("EMIT", {"count": 5})
        saved = first.cursor  # what the front end persisted
        assert saved == Cursor(first.ready["epoch"], 5) == (first.ready["epoch"], 5)
        await first.call("EMIT", {"count": 1500})  # seen, but never saved: the front end dies before
        running = await first.start("COUNT", {"to": 10**6, "interval": 0.01})
        await asyncio.sleep(0.1)
        first.process.kill()  # SIGKILL, with an operation running
        with pytest.raises(ConnectionLost):
            await running.result(timeout=5)
        await first.aclose()
        async with await StdioClient.spawn("diag", data_dir=tmp_path) as other:  # ends the operation, emits more
            await other.call("EMIT", {"count": 3, "type": "LATER"})
            head = other.last_seq

        resumes: list[tuple[bool, str]] = []
        client = await StdioClient.spawn(
            "diag", data_dir=tmp_path, resume=saved, on_resume=lambda *args: resumes.append(args)
        )
        events: list[dict[str, Any]] = []
        client.on_event(events.append)  # before the first await: nothing can be missed
        assert int(client.ready["last_seq"]) == head
        await client.call("EMIT", {"count": 1, "type": "LIVE"})  # live: held until the replay is done
        assert await client.caught_up(timeout=5) is True
        await until(lambda: bool(events) and events[-1]["type"] == "LIVE", "the live event")
        seqs = [event["seq"] for event in events]
        assert seqs == list(range(6, head + 2))  # every event after the cursor, once, in order (2 pages)
        assert [event["type"] for event in events[-4:]] == ["LATER"] * 3 + ["LIVE"]
        interrupted = [e for e in events if e.get("payload", {}).get("error_code") == "OPERATION_INTERRUPTED"]
        assert [e["payload"]["operation_id"] for e in interrupted] == [running.id]
        assert resumes == [(True, saved.epoch)]
        assert client.recovered is True
        assert client.cursor == (saved.epoch, head + 1)
        await client.aclose()

    run(main())


def test_resuming_at_the_head_replays_nothing(tmp_path: Path) -> None:
    async def main() -> None:
        async with await StdioClient.spawn("diag", data_dir=tmp_path) as first:
            await first.call("EMIT", {"count": 2})
            saved = first.cursor
        async with await StdioClient.spawn("diag", data_dir=tmp_path, resume=saved) as client:
            events: list[dict[str, Any]] = []
            client.on_event(events.append)
            assert client.recovered is True
            assert await client.caught_up() is True
            await client.call("EMIT", {"count": 1})
            await until(lambda: len(events) == 1, "the live event")
            assert events[0]["seq"] == 3
            assert client.cursor == (saved.epoch, 3)

    run(main())


def test_an_operation_started_during_the_replay_gets_its_events_in_its_handle(tmp_path: Path) -> None:
    async def main() -> None:
        async with await StdioClient.spawn("diag", data_dir=tmp_path) as first:
            saved = first.cursor
            await first.call("EMIT", {"count": 2500})
        async with await StdioClient.spawn("diag", data_dir=tmp_path, resume=saved) as client:
            events: list[dict[str, Any]] = []
            client.on_event(events.append)
            # Its answer comes at once; its events are in the log before the replay's last page is read,
            # so they arrive both replayed and live (held): the handle and the listeners get them once.
            handle = await client.start("COUNT", {"to": 3, "interval": 0})
            progress = [payload async for payload in handle]
            assert await handle.result(timeout=5) == {"counted": 3}
            assert [p["status"] for p in progress][-1] == "completed"  # ticks are conflated: 1, then 3, ...
            await client.caught_up(timeout=5)
            total = 2500 + len(progress)
            await until(lambda: len(events) == total, "every event")
            assert [event["seq"] for event in events] == list(range(1, total + 1))
            assert [event["payload"] for event in events[2500:]] == progress

    run(main())


def test_a_cursor_of_another_log_is_reported_not_recovered_and_the_new_log_replays_from_its_start(
    tmp_path: Path,
) -> None:
    async def main() -> None:
        async with await StdioClient.spawn("diag", data_dir=tmp_path) as first:
            await first.call("EMIT", {"count": 5})
            saved = first.cursor
        shutil.rmtree(tmp_path / "events")  # the log is reset: a new epoch, seq restarts at 1
        async with await StdioClient.spawn("diag", data_dir=tmp_path) as other:
            await other.call("EMIT", {"count": 2, "type": "NEW_LOG"})
            new_epoch = other.epoch
        assert new_epoch != saved.epoch
        resumes: list[tuple[bool, str]] = []
        async with await StdioClient.spawn(
            "diag", data_dir=tmp_path, resume=saved, on_resume=lambda *args: resumes.append(args)
        ) as client:
            events: list[dict[str, Any]] = []
            client.on_event(events.append)
            assert await client.caught_up(timeout=5) is False
            assert client.recovered is False
            assert resumes == [(False, new_epoch)]
            await client.call("EMIT", {"count": 1, "type": "LIVE"})
            await until(lambda: len(events) == 3, "the live event")
            assert [(e["seq"], e["type"]) for e in events] == [(1, "NEW_LOG"), (2, "NEW_LOG"), (3, "LIVE")]
            assert client.cursor == (new_epoch, 3)

    run(main())


def test_a_cursor_ahead_of_the_log_is_not_recovered_and_a_bad_one_is_refused(tmp_path: Path) -> None:
    async def main() -> None:
        async with await StdioClient.spawn("diag", data_dir=tmp_path) as first:
            await first.call("EMIT", {"count": 2})
            epoch = first.epoch
        async with await StdioClient.spawn("diag", data_dir=tmp_path, resume=(epoch, 99)) as client:
            events: list[dict[str, Any]] = []
            client.on_event(events.append)
            assert await client.caught_up(timeout=5) is False  # the log lost its tail: from its start
            assert [e["seq"] for e in events] == [1, 2]
            assert client.cursor.last_seq == 2
            assert client.cursor.epoch != epoch, "a new epoch: the log would give seqs 3-99 out again"
        with pytest.raises(ValueError, match="resume"):
            await StdioClient.spawn("diag", data_dir=tmp_path, resume=(epoch, -1))

    run(main())


def test_a_backend_killed_during_the_replay_leaves_the_cursor_before_the_gap(tmp_path: Path) -> None:
    async def main() -> None:
        async with await StdioClient.spawn("diag", data_dir=tmp_path) as first:
            saved = first.cursor
            await first.call("EMIT", {"count": 5000})
        client = await StdioClient.spawn("diag", data_dir=tmp_path, resume=saved)
        events: list[dict[str, Any]] = []
        emitted = False

        def kill_midway(event: dict[str, Any]) -> None:
            events.append(event)
            if emitted and event["seq"] % 1000 == 0:  # at the end of a page, once the live event is held
                client.process.kill()

        client.on_event(kill_midway)
        await client.call("EMIT", {"count": 1, "type": "LIVE"})  # seq 5001
        emitted = True
        with pytest.raises(ConnectionLost):
            await client.caught_up(timeout=5)
        last = events[-1]["seq"]
        assert last % 1000 == 0
        assert last < 5000
        assert [e["seq"] for e in events] == list(range(1, last + 1))  # the held live event never jumped the gap
        assert client.cursor == (saved.epoch, last)
        await client.aclose()

    run(main())


def test_a_listener_that_raises_stops_neither_the_others_nor_the_stream(tmp_path: Path) -> None:
    async def main() -> None:
        async with await StdioClient.spawn("diag", data_dir=tmp_path) as client:
            seen: list[int] = []

            def broken(event: dict[str, Any]) -> None:
                raise RuntimeError("a bug in the application")

            client.on_event(broken)
            client.on_event(lambda event: seen.append(event["seq"]))
            await client.call("EMIT", {"count": 3})
            await until(lambda: len(seen) == 3, "the events")
            assert await client.call("ECHO", {"still": "here"}) == {"still": "here"}

    run(main())


OLD_BACKEND = """
import json, sys
def out(message):
    sys.stdout.write(json.dumps(message) + "\\n")
    sys.stdout.flush()
sys.stderr.write(json.dumps({"type": "BACKEND_READY", "epoch": "e1", "last_seq": 7}) + "\\n")
sys.stderr.flush()
out({"type": "LIVE", "seq": 8})
for line in sys.stdin:
    command = json.loads(line)
    out({"id": command["id"], "type": "ERROR_RESPONSE", "success": False, "error_code": "UNKNOWN_COMMAND",
         "error": "no such command"})
"""


def test_a_backend_that_cannot_replay_goes_on_live_and_says_it_did_not_recover() -> None:
    """A stand-in for an older backend without GET_EVENTS: a script, not deskbridge."""

    async def main() -> None:
        resumes: list[tuple[bool, str]] = []
        client = await StdioClient.spawn(
            "diag",
            command=[sys.executable, "-c", OLD_BACKEND],
            resume=("e1", 3),
            on_resume=lambda *args: resumes.append(args),
        )
        events: list[dict[str, Any]] = []
        client.on_event(events.append)
        assert await client.caught_up(timeout=5) is False
        assert resumes == [(False, "e1")]
        await until(lambda: len(events) == 1, "the live event")
        assert events[0]["seq"] == 8
        assert client.cursor == ("e1", 8)
        await client.aclose()

    run(main())
