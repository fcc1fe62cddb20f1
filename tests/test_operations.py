"""Operations as a front end sees them: an id at once, throttled progress, one terminal event."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from deskbridge.operations import Operation, Operations
from tests.support import BackendProcess

Spawn = Callable[..., BackendProcess]
TERMINAL = {"completed", "failed", "cancelled"}


@pytest.fixture
def diag(spawn: Spawn) -> BackendProcess:
    return spawn("diag")


def events_of(backend: BackendProcess, operation_id: str, timeout: float = 30) -> list[dict[str, Any]]:
    """Every event of one operation, up to and including its terminal event."""
    backend.wait_event(
        lambda e: e["payload"].get("operation_id") == operation_id and e["payload"].get("status") in TERMINAL,
        timeout,
    )
    return [e for e in backend.events if e.get("payload", {}).get("operation_id") == operation_id]


def test_the_answer_comes_first_then_progress_then_exactly_one_terminal_event(diag: BackendProcess) -> None:
    command_id = diag.send("COUNT", {"to": 5, "interval": 0.05})
    first = diag.next_message()
    assert first["id"] == command_id, "the response precedes every progress event"
    assert first["type"] == "COUNT_RESPONSE"
    operation_id = first["data"]["operation_id"]
    events = events_of(diag, operation_id)
    assert all(e["id"] == "progress-event" and e["type"] == "COUNT_PROGRESS" for e in events)
    statuses = [e["payload"]["status"] for e in events]
    assert statuses[-1] == "completed"
    assert sum(s in TERMINAL for s in statuses) == 1
    assert events[-1]["payload"]["result"] == {"counted": 5}
    assert events[-1]["payload"]["progress"] == 100
    seqs = [e["seq"] for e in events]
    assert seqs == sorted(seqs)
    assert len(set(seqs)) == len(seqs)


def test_progress_is_throttled_and_conflated(diag: BackendProcess) -> None:
    started = time.monotonic()
    operation_id = diag.ok("COUNT", {"to": 2000, "interval": 0})["operation_id"]
    events = events_of(diag, operation_id)
    elapsed = time.monotonic() - started
    ticks = [e for e in events if e["payload"]["status"] == "in_progress"]
    assert len(ticks) <= elapsed / 0.1 + 2, f"{len(ticks)} ticks in {elapsed:.2f}s exceed one per 100 ms"
    assert events[-1]["payload"]["current"] == 2000, "the terminal event carries the latest state"


def test_progress_may_come_from_a_worker_thread(diag: BackendProcess) -> None:
    operation_id = diag.ok("COUNT", {"to": 5, "interval": 0.05, "blocking": True})["operation_id"]
    events = events_of(diag, operation_id)
    assert [e for e in events if e["payload"]["status"] == "in_progress"]
    assert events[-1]["payload"]["result"] == {"counted": 5}


@pytest.mark.parametrize("blocking", [False, True])
def test_a_failing_operation_ends_failed_with_its_error(diag: BackendProcess, blocking: bool) -> None:
    payload = {"to": 10, "interval": 0.01, "fail_at": 3, "blocking": blocking}
    operation_id = diag.ok("COUNT", payload)["operation_id"]
    terminal = events_of(diag, operation_id)[-1]["payload"]
    assert terminal["status"] == "failed"
    assert terminal["error_code"] == "INTERNAL_ERROR"
    assert "failed at 3" in terminal["error"]


@pytest.mark.parametrize("blocking", [False, True])
def test_cancel_stops_an_operation_once(diag: BackendProcess, blocking: bool) -> None:
    operation_id = diag.ok("COUNT", {"to": 100_000, "interval": 0.01, "blocking": blocking})["operation_id"]
    diag.wait_event(lambda e: e["payload"].get("operation_id") == operation_id)
    answer = diag.ok("CANCEL_OPERATION", {"operation_id": operation_id})
    assert answer["cancelled"] is True
    assert answer["status"] in {"running", "cancelled"}, "the status at the moment of asking"
    terminal = events_of(diag, operation_id)[-1]["payload"]
    assert terminal["status"] == "cancelled"
    assert terminal["error_code"] == "OPERATION_CANCELLED"
    again = diag.ok("CANCEL_OPERATION", {"operation_id": operation_id})
    assert again == {"operation_id": operation_id, "cancelled": False, "status": "cancelled"}


def test_operations_can_be_queried_and_listed(diag: BackendProcess) -> None:
    done = diag.ok("COUNT", {"to": 2, "interval": 0})["operation_id"]
    events_of(diag, done)
    running = diag.ok("COUNT", {"to": 100_000, "interval": 0.01})["operation_id"]
    snapshot = diag.ok("GET_OPERATION", {"operation_id": done})
    assert snapshot["status"] == "completed"
    assert snapshot["result"] == {"counted": 2}
    assert snapshot["command"] == "COUNT"
    every = [op["operation_id"] for op in diag.ok("LIST_OPERATIONS")]
    active = [op["operation_id"] for op in diag.ok("LIST_OPERATIONS", {"active_only": True})]
    assert every == [done, running]
    assert active == [running]


def test_unknown_operations_are_a_clear_error(diag: BackendProcess) -> None:
    for command in ("GET_OPERATION", "CANCEL_OPERATION"):
        assert diag.error(command, {"operation_id": "nope"})["error_code"] == "OPERATION_NOT_FOUND"
    assert diag.error("GET_OPERATION", {})["error_code"] == "INVALID_PAYLOAD"


def test_many_operations_at_once_each_end_exactly_once(diag: BackendProcess) -> None:
    ids = [diag.ok("COUNT", {"to": 3, "interval": 0.01, "blocking": n % 2 == 1})["operation_id"] for n in range(40)]
    for operation_id in ids:
        statuses = [e["payload"]["status"] for e in events_of(diag, operation_id)]
        assert statuses.count("completed") == 1


def test_an_operation_a_crash_interrupted_ends_failed_at_the_next_start(spawn: Spawn, tmp_path: Path) -> None:
    data_dir = tmp_path / "crash"
    first = spawn("diag", data_dir=data_dir)
    operation_id = first.ok("COUNT", {"to": 100_000, "interval": 0.01})["operation_id"]
    first.wait_event(lambda e: e["payload"].get("operation_id") == operation_id)
    first.proc.kill()
    first.proc.wait()
    again = spawn("diag", data_dir=data_dir)
    page = again.ok("GET_EVENTS", {"epoch": first.ready["epoch"], "after": 0})
    ends = [e["payload"] for e in page["events"] if e["payload"].get("operation_id") == operation_id]
    assert ends[-1]["status"] == "failed"
    assert ends[-1]["error_code"] == "OPERATION_INTERRUPTED"
    assert [p["status"] for p in ends].count("failed") == 1
    assert again.close() == 0
    third = spawn("diag", data_dir=data_dir)
    later = third.ok("GET_EVENTS", {"after": page["last_seq"]})["events"]
    assert not [e for e in later if e["payload"].get("operation_id") == operation_id], "ended once, not at every start"


def test_a_clean_shutdown_leaves_nothing_to_end(spawn: Spawn, tmp_path: Path) -> None:
    data_dir = tmp_path / "clean"
    first = spawn("diag", data_dir=data_dir)
    first.ok("COUNT", {"to": 100_000, "interval": 0.01})
    assert first.close() == 0
    again = spawn("diag", data_dir=data_dir)
    tail = again.ok("GET_EVENTS", {"after": 0})["events"]
    assert [e["payload"]["status"] for e in tail if e["payload"].get("status") in TERMINAL] == ["cancelled"]


def _seconds_to_cancel(count: int) -> float:
    """CPU time to cancel ``count`` pending operations of a real registry on a real loop (each one finishes)."""

    async def work(op: Operation) -> None:
        raise AssertionError("never launched")

    async def run() -> float:
        ended: list[dict[str, Any]] = []
        with ThreadPoolExecutor(1) as executor:
            registry = Operations(asyncio.get_running_loop(), ended.append, executor, keep_finished=10 * count)
            ops = [registry.prepare("COUNT", "COUNT_PROGRESS", work) for _ in range(count)]
            started = time.process_time()
            for op in ops:
                registry.cancel(op.id)
            elapsed = time.process_time() - started
        assert len(ended) == count
        return elapsed

    return min(asyncio.run(run()) for _ in range(3))


def test_finishing_n_operations_costs_n_not_n_squared() -> None:
    """A mass cancel, a shutdown or N operations ending together: four times as many cost about four times as
    much (a scan of every operation at each finish made it sixteen: 10 000 running took 12.9 s to stop)."""
    small, large = _seconds_to_cancel(1000), _seconds_to_cancel(4000)
    assert large / max(small, 1e-6) < 8, f"1000 cost {small:.3f} s, 4000 cost {large:.3f} s"
