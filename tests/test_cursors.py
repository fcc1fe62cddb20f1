"""The cursors the server keeps for clients that send none, on a real event log."""

from __future__ import annotations

from pathlib import Path

from deskbridge.cursors import ClientCursors
from deskbridge.events import EventLog, Retention


def open_log(path: Path, **options: object) -> EventLog:
    return EventLog(path, schedule=lambda callback: None, **options)  # type: ignore[arg-type]


def append(log: EventLog, *types: str) -> None:
    for kind in types:
        log.append({"type": kind, "data": {}})
    log.flush()


def test_a_client_never_seen_starts_at_the_beginning_and_each_keeps_its_own(tmp_path: Path) -> None:
    log = open_log(tmp_path / "events.db")
    cursors = ClientCursors(log)
    append(log, "a", "b", "c")

    assert cursors.position(None) == 0
    cursors.handed(None, 2)

    assert (cursors.position(None), cursors.position("desktop"), cursors.position("phone")) == (2, 2, 0)


def test_what_was_handed_is_on_disk_before_handed_returns(tmp_path: Path) -> None:
    log = open_log(tmp_path / "events.db")
    append(log, "a", "b")
    ClientCursors(log).handed("kid-pc", 2)

    again = open_log(tmp_path / "events.db")  # as after a kill -9: nothing else was flushed

    assert ClientCursors(again).position("kid-pc") == 2


def test_the_backlog_counts_what_the_client_has_not_had_by_type(tmp_path: Path) -> None:
    log = open_log(tmp_path / "events.db")
    cursors = ClientCursors(log)
    append(log, "notification", "session_event", "notification", "roblox_event")
    cursors.handed(None, 1)

    assert cursors.backlog(None, ("notification", "session_event", "firebase_sync_request")) == {
        "events": 3, "notification": 1, "session_event": 1, "firebase_sync_request": 0,
    }  # fmt: skip


def test_retention_keeps_what_a_known_client_has_not_had(tmp_path: Path) -> None:
    log = open_log(tmp_path / "events.db", retention=Retention(max_age=None, max_count=1, trim_every=1))
    cursors = ClientCursors(log)
    append(log, "a")
    cursors.handed(None, 1)
    append(log, "b", "c", "d")
    log.trim()

    assert len(log.read(cursors.position(None))) == 3
