"""deskbridge.client over stdio: what a Python front end or script writes."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest

from deskbridge.client import (
    BackendStartError,
    ConnectionLost,
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
