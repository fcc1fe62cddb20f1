"""Roblox's own log, in its real line format, followed as the player writes it: appended, rotated, truncated; and
the guardian's in-game time and events from it."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from deskbridge.guardian.roblox_logs import Joined, Left, LogFollower
from tests.guardian.support import FakeProcesses, Harness

JOB = "a1b2c3d4-e5f6-7890-abcd-ef1234567890"


def entry(seconds: float, message: str) -> str:
    """One line as the player writes it: a timestamp token, a space, the message."""
    return f"2024-11-10T12:{int(seconds // 60):02d}:{seconds % 60:06.3f}Z,{seconds:.6f},1a2b3c4d,6 {message}\r\n"


def joining(place: int, seconds: float = 1.0) -> str:
    return entry(seconds, f"[FLog::Output] ! Joining game '{JOB}' place {place} at 128.116.1.2")


DISCONNECT = entry(60, "[FLog::Network] Time to disconnect replication data: 0.0123")
NOISE = entry(0.5, "[FLog::Network] serverId: 128.116.1.2|55555")


def player_log(folder: Path, run: str, text: str = "", age: float = 0.0) -> Path:
    path = folder / f"0.650.0.6500718_20241110T12{run}Z_Player_A1B2C_last.log"
    path.write_text(text, newline="")
    moment = path.stat().st_mtime - age
    os.utime(path, (moment, moment))
    return path


def append(path: Path, text: str) -> None:
    with open(path, "a", newline="") as handle:
        handle.write(text)


def test_appended_lines_are_read_as_written_even_split_mid_line(tmp_path: Path) -> None:
    log = player_log(tmp_path, "0000", NOISE, age=5)
    player_log(tmp_path, "0001", "", age=60)  # an older run's log: not the one followed
    (tmp_path / "0.650.0_Studio_last.log").write_text(joining(1))  # Studio's log is not play
    follower = LogFollower(tmp_path)
    assert follower.poll() == []
    assert follower.following == log
    line = joining(920587237)
    append(log, line[:30])
    assert follower.poll() == []
    append(log, line[30:])
    assert follower.poll() == [Joined(920587237, JOB)]
    append(log, NOISE + DISCONNECT)
    assert follower.poll() == [Left(920587237)]
    assert follower.place is None
    append(log, joining(1818) + entry(90, "[FLog::SingleSurfaceApp] leaveUGCGameInternal"))
    assert follower.poll() == [Joined(1818, JOB), Left(1818)]


def test_a_newer_log_is_followed_from_its_start_and_ends_the_game_of_the_old_one(tmp_path: Path) -> None:
    old = player_log(tmp_path, "0000", joining(111), age=30)
    follower = LogFollower(tmp_path)
    assert follower.poll() == [Joined(111, JOB)]
    new = player_log(tmp_path, "0100", NOISE + joining(222))
    assert follower.poll() == [Left(111), Joined(222, JOB)]
    assert follower.following == new
    assert follower.following != old


def test_a_truncated_log_is_read_again_from_its_start(tmp_path: Path) -> None:
    log = player_log(tmp_path, "0000", joining(333) + NOISE * 20)
    follower = LogFollower(tmp_path)
    assert follower.poll() == [Joined(333, JOB)]
    log.write_text(DISCONNECT, newline="")  # shorter than what was read
    assert follower.poll() == [Left(333)]


def test_garbage_lines_are_skipped(tmp_path: Path) -> None:
    bad = entry(1, "[FLog::Output] ! Joining game 'nope' place x at")
    player_log(tmp_path, "0000", "\x00\xff garbage\n\n" + bad + joining(7))
    assert LogFollower(tmp_path).poll() == [Joined(7, JOB)]


def test_in_game_time_apart_from_the_home_screen_and_the_place_in_events(
    harness: Callable[..., Harness], processes: FakeProcesses, tmp_path: Path
) -> None:
    folder = tmp_path / "logs"
    folder.mkdir()
    log = player_log(folder, "0000", NOISE)
    run = harness({"monitor": {"roblox_logs": {"folders": [str(folder)], "count_home_screen": False}}})
    processes.launch()
    run.play(60)
    assert run.used() == 0, "the app's home screen does not count"
    append(log, joining(920587237))
    run.play(120)
    assert 115 <= run.used() <= 121
    append(log, DISCONNECT)
    run.play(60)
    assert 115 <= run.used() <= 122
    (joined,) = run.of("game_joined")
    assert joined["data"]["place_id"] == 920587237
    assert joined["data"]["job_id"] == JOB
    (left,) = run.of("game_left")
    assert left["data"]["place_id"] == 920587237
