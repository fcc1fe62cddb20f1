"""Play time per child per local day: split at midnight, not counted asleep, kept across restarts."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from pathlib import Path

import pytest

from deskbridge.guardian.schema import MIGRATIONS
from deskbridge.guardian.usage import Usage, split_by_day
from deskbridge.store import Database
from tests.guardian.support import PARIS, FakeClock, FakeProcesses, Harness, minutes, paris

Make = Callable[..., Harness]


def test_a_span_across_midnight_is_split_between_the_two_days() -> None:
    parts = split_by_day(paris(2025, 8, 11, 23, 50), paris(2025, 8, 12, 0, 20), PARIS)

    assert parts == [(date(2025, 8, 11), 600), (date(2025, 8, 12), 1200)]


def test_days_follow_the_zone_across_a_daylight_saving_change() -> None:
    # Paris leaves summer time on 26 October 2025: that day has 25 hours.
    parts = split_by_day(paris(2025, 10, 25, 23, 0), paris(2025, 10, 27, 1, 0), PARIS)

    assert parts == [(date(2025, 10, 25), 3600), (date(2025, 10, 26), 25 * 3600), (date(2025, 10, 27), 3600)]


def test_usage_adds_up_per_child_and_day_on_disk(tmp_path: Path) -> None:
    usage = Usage(Database(tmp_path / "g.db", MIGRATIONS), PARIS)
    usage.add("alice", paris(2025, 8, 11, 10, 0), paris(2025, 8, 11, 10, 30))
    usage.add("alice", paris(2025, 8, 11, 18, 0), paris(2025, 8, 11, 18, 15))
    usage.add("bob", paris(2025, 8, 11, 18, 0), paris(2025, 8, 11, 18, 5))

    reopened = Usage(Database(tmp_path / "g.db", MIGRATIONS), PARIS)
    assert reopened.seconds("alice", date(2025, 8, 11)) == 45 * 60
    assert reopened.seconds("bob", date(2025, 8, 11)) == 5 * 60
    assert reopened.history("alice", date(2025, 8, 12), 3) == [
        (date(2025, 8, 10), 0),
        (date(2025, 8, 11), 45 * 60),
        (date(2025, 8, 12), 0),
    ]


def test_time_counts_while_the_game_runs_and_only_then(harness: Make, processes: FakeProcesses) -> None:
    run = harness()
    run.play(600)
    game = processes.launch()

    run.play(1200)
    processes.quit(game)
    run.play(600)

    assert run.used() == minutes(20)


def test_a_session_across_midnight_splits_its_minutes(
    harness: Make, clock: FakeClock, processes: FakeProcesses
) -> None:
    clock.wall = paris(2025, 8, 11, 23, 40)
    run = harness({"children": {"default_child": {"daily_limit_minutes": 1440}}})
    run.play(600)  # 23:50
    processes.launch()

    run.play(1800)  # until 00:20

    usage = run.guardian.usage  # counted from the poll that saw the game start, one second in
    assert usage.seconds("default_child", date(2025, 8, 11)) == pytest.approx(600, abs=1)
    assert usage.seconds("default_child", date(2025, 8, 12)) == 1200
    assert run.used() == minutes(20)  # "today" is the 12th now


def test_time_asleep_is_not_counted(harness: Make, clock: FakeClock, processes: FakeProcesses) -> None:
    run = harness()
    processes.launch()
    run.play(600)

    clock.advance(2 * 3600)  # the lid is closed with the game open; no tick for two hours
    run.play(600)

    assert run.used() == minutes(20)


def test_moving_the_clock_to_tomorrow_grants_no_fresh_day(
    harness: Make, clock: FakeClock, processes: FakeProcesses
) -> None:
    run = harness({"children": {"default_child": {"daily_limit_minutes": 30, "auto_close": False}}})
    processes.launch()
    run.play(1800)

    clock.move_wall(86400)
    run.play(600)

    assert run.used() == minutes(40)  # still today's minutes, still over the limit
    assert run.guardian.today("default_child")["date"] == "2025-08-11"
    assert run.of("clock_changed")[0]["data"]["seconds"] == 86400


def test_moving_the_clock_back_steals_nothing_and_grants_nothing(
    harness: Make, clock: FakeClock, processes: FakeProcesses
) -> None:
    run = harness()
    processes.launch()
    run.play(600)

    clock.move_wall(-12 * 3600)  # 22:00 yesterday, says the wall clock
    run.play(600)

    assert run.used() == minutes(20)
    assert run.guardian.usage.seconds("default_child", date(2025, 8, 10)) == 0


def test_a_guardian_restarted_mid_session_resumes_the_days_usage(harness: Make, processes: FakeProcesses) -> None:
    run = harness()
    processes.launch()
    run.play(1800)

    run = run.restart()
    run.play(600)

    assert run.used() == minutes(40)
