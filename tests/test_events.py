"""The event log on a real SQLite file: seq, durability before delivery, resume, retention, acknowledgements."""

from __future__ import annotations

import asyncio
import contextlib
import json
import sqlite3
import tracemalloc
from collections.abc import Callable
from pathlib import Path

import pytest

from deskbridge.events import EventLog, Retention
from tests.support import BackendProcess, FakeClock


def open_log(path: Path, **options: object) -> tuple[EventLog, list[int]]:
    """A log whose flushes run when the test says (``flush``), recording delivered seqs."""
    log = EventLog(path, schedule=lambda callback: None, **options)  # type: ignore[arg-type]
    seen: list[int] = []
    log.subscribe(lambda bodies: seen.extend(json.loads(b)["seq"] for b in bodies))
    return log, seen


def emit(log: EventLog, count: int, **fields: object) -> None:
    for i in range(count):
        log.append({"type": "E", "data": {"i": i}, **fields})
    log.flush()


def seqs(bodies: list[bytes]) -> list[int]:
    return [json.loads(b)["seq"] for b in bodies]


def test_every_event_is_on_disk_before_it_is_delivered(tmp_path: Path) -> None:
    log = EventLog(tmp_path / "e.db", schedule=lambda callback: None)
    other = sqlite3.connect(tmp_path / "e.db")
    on_disk_at_delivery: list[bool] = []

    def deliver(bodies: list[bytes]) -> None:
        for seq in seqs(bodies):
            on_disk_at_delivery.append(
                other.execute("SELECT 1 FROM events WHERE seq = ?", (seq,)).fetchone() is not None
            )

    log.subscribe(deliver)
    assert [log.append({"type": "E"}) for _ in range(5)] == [1, 2, 3, 4, 5]
    assert on_disk_at_delivery == []  # nothing is seen before the commit
    log.flush()
    assert on_disk_at_delivery == [True] * 5
    assert log.committed_seq == 5
    log.close()


def test_seq_survives_reopening_and_epoch_names_the_file(tmp_path: Path) -> None:
    log, _ = open_log(tmp_path / "e.db")
    emit(log, 3)
    epoch = log.epoch
    log.close()
    again, _ = open_log(tmp_path / "e.db")
    assert again.epoch == epoch
    assert again.append({"type": "E"}) == 4
    again.close()
    fresh, _ = open_log(tmp_path / "other.db")
    assert fresh.epoch != epoch
    fresh.close()


def test_resume_answers_every_missed_event_in_pages(tmp_path: Path) -> None:
    log, _ = open_log(tmp_path / "e.db")
    emit(log, 25)
    first = log.resume(log.epoch, 5, limit=10)
    assert (first.recovered, first.more, first.last_seq, first.head) == (True, True, 15, 25)
    assert seqs(first.events) == list(range(6, 16))
    rest = log.resume(log.epoch, first.last_seq, limit=10)
    assert seqs(rest.events) == list(range(16, 26))
    assert not rest.more
    done = log.resume(log.epoch, 25)
    assert (done.recovered, done.events, done.last_seq) == (True, [], 25)
    assert log.resume(None, 20).recovered  # no epoch: the cursor is trusted
    log.close()


def test_unknown_epoch_or_future_cursor_restarts_from_the_beginning(tmp_path: Path) -> None:
    log, _ = open_log(tmp_path / "e.db")
    emit(log, 4)
    other = log.resume("some-other-log", 2)
    assert not other.recovered
    assert seqs(other.events) == [1, 2, 3, 4]
    future = log.resume(None, 99)
    assert not future.recovered
    assert seqs(future.events) == [1, 2, 3, 4]
    log.close()


def test_count_retention_trims_and_resume_past_it_is_not_recovered(tmp_path: Path) -> None:
    log, _ = open_log(tmp_path / "e.db", retention=Retention(max_count=10, max_age=None, trim_every=1))
    emit(log, 30)
    assert log.floor == 20
    assert seqs(log.read(0)) == list(range(21, 31))
    trimmed = log.resume(log.epoch, 5)
    assert not trimmed.recovered
    assert seqs(trimmed.events) == list(range(21, 31))
    assert log.resume(log.epoch, 20).recovered
    log.close()
    again, _ = open_log(tmp_path / "e.db", retention=Retention(max_count=10, max_age=None, trim_every=1))
    assert again.floor == 20
    assert not again.resume(again.epoch, 5).recovered
    again.close()


def live_bytes(path: Path) -> int:
    """The pages of the log file in use (its WAL included), as SQLite counts them."""
    with contextlib.closing(sqlite3.connect(path)) as db:
        pages, free, size = (
            db.execute(f"PRAGMA {name}").fetchone()[0] for name in ("page_count", "freelist_count", "page_size")
        )
        return int((pages - free) * size)


def test_size_retention_keeps_the_pages_in_use_under_the_limit_and_the_newest_events(tmp_path: Path) -> None:
    limit = 2 * 2**20
    policy = Retention(max_count=None, max_age=None, max_bytes=limit, trim_every=100)
    log, _ = open_log(tmp_path / "e.db", retention=policy)
    for _ in range(20):
        emit(log, 100, blob="x" * 4000)  # 2,000 events of ~4 kB: ~8 MB without the limit
    log.trim()

    assert live_bytes(tmp_path / "e.db") <= limit
    assert log.floor > 1000  # most of them went, the oldest first
    kept = seqs(log.read(0))
    assert kept == list(range(log.floor + 1, 2001))
    assert len(kept) > 300  # and only as many as the limit asks: ~500 of ~4 kB fit 2 MiB
    assert not log.resume(log.epoch, 1).recovered
    assert log.resume(log.epoch, log.floor).recovered
    log.close()


def test_size_retention_waits_for_a_known_consumer(tmp_path: Path) -> None:
    policy = Retention(max_count=None, max_age=None, max_bytes=2**20, trim_every=100)
    log, _ = open_log(tmp_path / "e.db", retention=policy)
    emit(log, 10)
    log.acknowledge("desktop", 10)
    for _ in range(10):
        emit(log, 100, blob="x" * 4000)
    log.trim()

    assert log.floor == 10  # past the limit, still held where the consumer stands
    log.acknowledge("desktop", 1010)
    log.trim()
    assert log.floor > 10
    assert live_bytes(tmp_path / "e.db") <= 2**20
    log.close()


def test_age_retention_keeps_terminal_events_and_never_reuses_a_seq(tmp_path: Path) -> None:
    clock = FakeClock()
    policy = Retention(max_count=None, max_age=60, trim_every=1)
    log, _ = open_log(tmp_path / "e.db", retention=policy, clock=clock)
    emit(log, 3)
    log.append({"type": "P", "payload": {"operation_id": "x", "status": "completed"}})
    log.flush()
    clock.now += 120
    log.trim()
    assert seqs(log.read(0)) == [4]  # the terminal event stays
    assert log.floor == 4
    log.close()
    again, _ = open_log(tmp_path / "e.db", retention=policy, clock=clock)
    assert again.append({"type": "E"}) == 5
    again.close()


def test_unacknowledged_events_are_kept_until_the_consumer_acknowledges(tmp_path: Path) -> None:
    clock = FakeClock()
    policy = Retention(max_count=5, max_age=None, trim_every=1, consumer_ttl=3600)
    log, _ = open_log(tmp_path / "e.db", retention=policy, clock=clock)
    emit(log, 2)
    log.acknowledge("desktop", 2)
    emit(log, 20)
    assert log.floor == 2
    assert seqs(log.read(0))[0] == 3
    log.acknowledge("desktop", 15)
    log.flush()
    log.trim()
    assert log.floor == 15
    assert log.acknowledged("desktop") == 15
    clock.now += 7200  # the consumer went silent past its ttl: it no longer holds anything back
    log.trim()
    assert log.floor == 17
    log.close()


def test_retention_defaults_are_the_documented_ones() -> None:
    default = Retention(max_age=7 * 86400, max_count=100_000, max_bytes=256 * 2**20)
    assert Retention.from_config({}) == Retention() == default
    off = {"max_age_days": None, "max_count": None, "max_megabytes": None}
    assert Retention.from_config({"events": off}) == Retention(max_age=None, max_count=None, max_bytes=None)
    assert Retention.from_config({"events": {"max_megabytes": 1.5}}).max_bytes == 1_572_864


def test_under_retention_the_file_stops_growing(tmp_path: Path) -> None:
    """Trimmed pages are reused: disk use is bounded by the policy, not by how long the log has run."""
    path = tmp_path / "e.db"
    log, _ = open_log(path, retention=Retention(max_count=500, max_age=None, trim_every=100))

    def pages() -> int:
        with sqlite3.connect(path) as db:
            db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            (count,) = db.execute("PRAGMA page_count").fetchone()
        db.close()
        return int(count)

    body = {"data": {"session_id": "0" * 36, "child_profile": "child", "duration_seconds": 3300}}
    for _ in range(6):
        emit(log, 100, **body)
    full = pages()
    for _ in range(60):
        emit(log, 100, **body)
    assert len(log.read(0, 10_000)) <= 600
    assert pages() <= full * 1.2, "6,000 more events, the same file"
    log.close()


def test_wait_committed_wakes_after_the_commit(tmp_path: Path) -> None:
    async def main() -> None:
        loop = asyncio.get_running_loop()
        log = EventLog(tmp_path / "e.db", schedule=loop.call_soon)
        seq = log.append({"type": "E"})
        waiter = asyncio.ensure_future(log.wait_committed(seq))
        await asyncio.wait_for(waiter, 5)
        assert log.committed_seq == seq
        log.close()

    asyncio.run(main())


def test_a_closed_log_refuses_appends(tmp_path: Path) -> None:
    log, seen = open_log(tmp_path / "e.db")
    log.append({"type": "E"})
    log.close()  # flushes what was pending
    assert seen == [1]
    with pytest.raises(RuntimeError):
        log.append({"type": "E"})


def test_the_stdio_door_resumes_with_get_events(spawn: Callable[..., BackendProcess], tmp_path: Path) -> None:
    first = spawn("diag", data_dir=tmp_path / "data")
    first.ok("EMIT", {"count": 5})
    epoch = first.ready["epoch"]
    first.kill()  # a crash: what was emitted is on disk
    again = spawn("diag", data_dir=tmp_path / "data")
    assert again.ready["epoch"] == epoch
    assert again.ready["last_seq"] == 5
    page = again.ok("GET_EVENTS", {"epoch": epoch, "after": 2})
    assert page["recovered"] is True
    assert [e["seq"] for e in page["events"]] == [3, 4, 5]
    assert (page["last_seq"], page["head"], page["more"]) == (5, 5, False)
    other = again.ok("GET_EVENTS", {"epoch": "not-this-log", "after": 4, "limit": 2})
    assert other["recovered"] is False
    assert [e["seq"] for e in other["events"]] == [1, 2]
    assert other["more"] is True
    assert again.ok("ACK_EVENTS", {"client_id": "desktop", "last_seq": 5}) == {"last_seq": 5}
    assert again.error("GET_EVENTS", {"after": -1})["error_code"] == "INVALID_PAYLOAD"


def test_a_wait_that_ends_unanswered_leaves_nothing_behind(tmp_path: Path) -> None:
    """Each long-poll that timed out on a quiet log used to leave its waiter until the next event."""

    async def main() -> int:
        loop = asyncio.get_running_loop()
        log = EventLog(tmp_path / "e.db", schedule=loop.call_soon)

        async def wait_in_vain() -> None:  # what the web door does when a long-poll's wait runs out
            waiter = asyncio.ensure_future(log.wait_committed(1))
            await asyncio.sleep(0)
            waiter.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await waiter

        for _ in range(100):  # warm up: the loop's own structures reach their size
            await wait_in_vain()
        tracemalloc.start()
        before = tracemalloc.get_traced_memory()[0]
        for _ in range(2000):
            await wait_in_vain()
        grown = tracemalloc.get_traced_memory()[0] - before
        tracemalloc.stop()
        log.close()
        return grown

    grown = asyncio.run(main())
    assert grown < 20_000, f"2000 waits that timed out hold {grown} bytes"


def test_a_log_left_open_across_a_restart_of_the_machine_starts_a_new_epoch(tmp_path: Path) -> None:
    """A power cut may take back the last commits (``synchronous=NORMAL``): the log cannot prove it kept what
    clients saw, so it names itself anew. A killed process (same boot) keeps its epoch: SQLite kept it all."""
    log, _ = open_log(tmp_path / "e.db", boot="boot-1")
    emit(log, 3)  # never closed: the process died
    killed, _ = open_log(tmp_path / "e.db", boot="boot-1")
    assert killed.epoch == log.epoch
    emit(killed, 2)  # never closed either, and then the power went
    after_power_cut, _ = open_log(tmp_path / "e.db", boot="boot-2")
    assert after_power_cut.epoch != log.epoch
    assert not after_power_cut.resume(log.epoch, 4).recovered
    after_power_cut.close()
    reopened, _ = open_log(tmp_path / "e.db", boot="boot-3")  # closed cleanly: any later boot trusts it
    assert reopened.epoch == after_power_cut.epoch
    reopened.close()


def test_a_client_ahead_of_the_log_starts_a_new_epoch_for_every_client(tmp_path: Path) -> None:
    """Proof the log lost commits: a seq a client saw is past its head. The events that follow would reuse
    numbers, so a cursor of the old epoch is not recovered even once the head is past it again."""
    log, _ = open_log(tmp_path / "e.db")
    emit(log, 3)
    old = log.epoch
    ahead = log.resume(old, 8)
    assert (ahead.recovered, ahead.after) == (False, 0)
    assert ahead.epoch != old
    emit(log, 10)
    behind = log.resume(old, 6)
    assert not behind.recovered, "seq 6 now names another event than the one this client saw"
    assert log.resume(log.epoch, 6).recovered
    log.close()
    again, _ = open_log(tmp_path / "e.db")
    assert again.epoch == ahead.epoch, "the new epoch is kept"
    again.close()


def test_max_count_caps_the_log_however_many_operations_finish(tmp_path: Path) -> None:
    """Terminal events outlive the age limit, not the count: 30 operations ending keep at most 10 events."""
    log, _ = open_log(tmp_path / "e.db", retention=Retention(max_count=10, max_age=None, trim_every=1))
    for n in range(30):
        log.append({"type": "P", "payload": {"operation_id": f"op-{n}", "status": "completed"}})
        log.flush()
    assert seqs(log.read(0)) == list(range(21, 31))
    log.close()


def test_only_the_consumers_heard_from_last_hold_trimming_back(tmp_path: Path) -> None:
    """A program that invents a client id per poll cannot hold the log for a week: past ``max_consumers``, the
    longest silent consumer stops counting."""
    clock = FakeClock()
    policy = Retention(max_count=5, max_age=None, trim_every=1, max_consumers=2)
    log, _ = open_log(tmp_path / "e.db", retention=policy, clock=clock)
    emit(log, 2)
    log.acknowledge("stale", 1)
    log.flush()
    emit(log, 20)
    assert log.floor == 1, "a consumer holds trimming back"
    for client_id in ("desk", "phone"):
        clock.now += 1
        log.acknowledge(client_id, 20)
        log.flush()
    log.trim()
    assert log.floor == 17, "the third consumer, silent longest, no longer holds it"
    assert log.acknowledged("stale") is None
    log.close()
