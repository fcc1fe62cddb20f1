"""Limits: warnings before, a notice at the limit, the game closed after the grace, and kept closed."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

from deskbridge.guardian.config import AllowedHours
from tests.guardian.support import GAME, FakeClock, FakeProcesses, Harness, kind_of, minutes, paris

Make = Callable[..., Harness]


def child(**profile: Any) -> dict[str, Any]:
    return {"children": {"default_child": profile}}


def test_a_warning_at_each_threshold_once_each(harness: Make, processes: FakeProcesses) -> None:
    run = harness(child(daily_limit_minutes=30, warning_minutes=[15, 5]))
    processes.launch()

    run.play(29 * 60)

    warnings = run.of("time_limit_warning")
    assert [w["data"]["threshold_minutes"] for w in warnings] == [15, 5]
    assert [w["data"]["minutes_remaining"] for w in warnings] == [15, 5]
    assert warnings[0]["timestamp"] == int(paris(2025, 8, 11, 10, 15, 1) * 1000)
    assert warnings[0]["data"]["session_data"]["is_active"] is True


def test_a_game_started_late_gets_only_the_nearest_warning(
    harness: Make, clock: FakeClock, processes: FakeProcesses
) -> None:
    run = harness(child(daily_limit_minutes=30))
    game = processes.launch()
    run.play(27 * 60)
    processes.quit(game)
    run.play(60)
    assert len(run.of("time_limit_warning")) == 2

    processes.launch()
    run.play(10)

    assert len(run.of("time_limit_warning")) == 2  # 15 and 5 were given today already


def test_warnings_are_not_repeated_after_a_restart(harness: Make, processes: FakeProcesses) -> None:
    run = harness(child(daily_limit_minutes=30))
    processes.launch()
    run.play(20 * 60)

    run = run.restart()
    run.play(6 * 60)

    assert [w["data"]["threshold_minutes"] for w in run.of("time_limit_warning")] == [5]


def test_at_the_limit_a_notice_then_the_game_is_closed_after_the_grace(harness: Make, processes: FakeProcesses) -> None:
    run = harness(child(daily_limit_minutes=120, grace_seconds=60))
    game = processes.launch()
    run.play(120 * 60 + 1)

    (notice,) = run.of("time_limit_exceeded")
    assert notice["type"] == "notification"
    assert notice["data"] == {
        "title": "Time Limit Exceeded",
        "message": "default_child has exceeded 2 hour limit",
        "type": "time_limit_exceeded",
        "child_profile": "default_child",
        "minutes_used": 120,
        "auto_close": True,
        "closes_in_seconds": 60,
    }
    run.play(59)
    assert processes.closed == []

    run.play(1)
    assert processes.closed == [game]
    (closed,) = run.of("roblox_auto_closed")
    assert closed["data"]["reason"] == "time_limit_exceeded"
    assert closed["data"]["process_info"]["name"] == GAME
    run.play(1)
    assert [kind_of(e) for e in run.events[-3:]] == ["roblox_stopped", "session_ended", "firebase_sync_request"]


def test_a_guardian_restarted_during_the_grace_keeps_its_deadline_and_sends_no_second_notice(
    harness: Make, processes: FakeProcesses
) -> None:
    """Restarting the guardian (a crash, a reboot of the service) is not a way to get another grace."""
    run = harness(child(daily_limit_minutes=120, grace_seconds=60))
    game = processes.launch()
    run.play(120 * 60 + 1)
    assert len(run.of("time_limit_exceeded")) == 1
    run.play(30)

    run = run.restart()
    run.play(29)
    assert processes.closed == []
    run.play(1)

    assert processes.closed == [game]
    assert run.of("time_limit_exceeded") == [], "a second notice after the restart"


def test_a_block_that_ended_while_the_guardian_was_down_is_not_kept(harness: Make, processes: FakeProcesses) -> None:
    run = harness(child(daily_limit_minutes=10, grace_seconds=60))
    processes.launch()
    run.play(11 * 60)
    assert len(run.of("time_limit_exceeded")) == 1
    run.guardian.grant_bonus("default_child", 30)
    run.play(1)  # no longer blocked: the block is forgotten, on disk too

    run = run.restart()
    run.play(30 * 60)
    (notice,) = run.of("time_limit_exceeded")
    assert notice["data"]["closes_in_seconds"] == 60, "a new block gets its whole grace"


def test_a_game_started_again_past_the_limit_is_closed_at_once(harness: Make, processes: FakeProcesses) -> None:
    run = harness(child(daily_limit_minutes=10, grace_seconds=30))
    processes.launch()
    run.play(11 * 60)
    assert len(processes.closed) == 1

    again = processes.launch()
    run.play(1)

    assert processes.closed[-1] == again
    assert len(run.of("time_limit_exceeded")) == 1  # one notice per block


def test_the_crash_handler_is_closed_with_the_game_but_is_not_the_game(harness: Make, processes: FakeProcesses) -> None:
    run = harness(child(daily_limit_minutes=0, grace_seconds=0))
    helper = processes.launch("RobloxCrashHandler.exe")
    run.play(1)
    assert run.of("roblox_started") == []

    game = processes.launch()
    run.play(1)

    assert set(processes.closed) == {game, helper}
    assert [e["data"]["process_info"]["pid"] for e in run.of("roblox_auto_closed")] == [game.pid]


def test_without_auto_close_the_parent_is_told_and_the_game_runs_on(harness: Make, processes: FakeProcesses) -> None:
    run = harness(child(daily_limit_minutes=10, auto_close=False))
    processes.launch()

    run.play(60 * 60)

    assert run.of("time_limit_exceeded")[0]["data"]["auto_close"] is False
    assert processes.closed == []
    assert run.used() == minutes(60)


def test_notices_are_queued_for_sync(harness: Make, processes: FakeProcesses) -> None:
    run = harness(child(daily_limit_minutes=0))
    processes.launch()
    run.play(1)

    (request,) = run.of("firebase_sync_request")
    assert request["data"]["data_type"] == "notification"
    assert request["data"]["data"] == run.of("time_limit_exceeded")[0]["data"]


def test_bonus_time_lets_the_child_play_again_and_rearms_the_warnings(harness: Make, processes: FakeProcesses) -> None:
    run = harness(child(daily_limit_minutes=10, grace_seconds=0))
    processes.launch()
    run.play(11 * 60)
    assert len(processes.closed) == 1

    today = run.guardian.grant_bonus("default_child", 15)
    processes.launch()
    run.play(14 * 60)

    assert today["minutes_remaining"] == 15
    assert len(processes.closed) == 1
    assert [w["data"]["threshold_minutes"] for w in run.of("time_limit_warning")] == [15, 5, 5]


def test_a_new_day_lifts_the_block(harness: Make, clock: FakeClock, processes: FakeProcesses) -> None:
    clock.wall = paris(2025, 8, 11, 23, 0)
    run = harness(child(daily_limit_minutes=30, grace_seconds=0))
    processes.launch()
    run.play(31 * 60)
    assert len(processes.closed) == 1

    clock.advance(3600)  # 00:31 tomorrow
    processes.launch()
    run.play(60)

    assert len(processes.closed) == 1


def test_outside_allowed_hours_the_game_is_closed_too(
    harness: Make, clock: FakeClock, processes: FakeProcesses
) -> None:
    clock.wall = paris(2025, 8, 11, 19, 50)
    run = harness(child(allowed_hours={"start": "08:00", "end": "20:00"}, grace_seconds=30))
    processes.launch()

    run.play(10 * 60 + 30)

    assert [w["data"]["threshold_minutes"] for w in run.of("time_limit_warning")] == [15, 5]  # bedtime approaches
    (notice,) = run.of("outside_allowed_hours")
    assert notice["data"]["message"] == "default_child may play from 08:00 to 20:00 only"
    assert notice["timestamp"] == int(paris(2025, 8, 11, 20, 0) * 1000)
    assert [e["data"]["reason"] for e in run.of("roblox_auto_closed")] == ["outside_allowed_hours"]


def test_a_game_started_outside_allowed_hours_is_closed_after_the_grace(
    harness: Make, clock: FakeClock, processes: FakeProcesses
) -> None:
    clock.wall = paris(2025, 8, 11, 6, 0)
    run = harness(child(allowed_hours={"start": "08:00", "end": "20:00"}, grace_seconds=30))
    processes.launch()

    run.play(1)
    assert len(run.of("outside_allowed_hours")) == 1
    run.play(29)
    assert processes.closed == []
    run.play(1)
    assert len(processes.closed) == 1


def test_paused_monitoring_counts_nothing_and_closes_nothing(harness: Make, processes: FakeProcesses) -> None:
    run = harness(child(daily_limit_minutes=10, grace_seconds=0))
    processes.launch()
    run.play(5 * 60)

    run.guardian.pause(None)
    run.play(30 * 60)
    assert processes.closed == []
    assert run.used() == minutes(5)

    run.guardian.resume()
    run.play(6 * 60)
    assert len(processes.closed) == 1


def test_a_pause_for_some_minutes_ends_by_itself_and_survives_a_restart(
    harness: Make, processes: FakeProcesses
) -> None:
    run = harness()
    processes.launch()
    state = run.guardian.pause(20)
    assert state["paused_until"] == "2025-08-11T08:20:00Z"

    run = run.restart()
    run.play(20 * 60)
    assert run.guardian.monitoring()["active"] is True
    run.play(10 * 60)

    assert run.used() == minutes(10)


def test_a_lower_limit_set_remotely_applies_at_once(harness: Make, processes: FakeProcesses) -> None:
    run = harness(child(grace_seconds=0))
    processes.launch()
    run.play(20 * 60)

    run.guardian.set_daily_limit("default_child", 15, None)
    run.play(1)

    assert len(processes.closed) == 1


def test_remote_limits_replace_the_files_and_survive_a_restart(harness: Make) -> None:
    run = harness(child(daily_limit_minutes=60, weekday_limits={"saturday": 180, "monday": 30}))
    allowances = run.guardian.allowances
    today = date(2025, 8, 11)  # a Monday, with a limit of its own

    run.guardian.set_daily_limit("default_child", 90, None)
    assert run.guardian.today("default_child")["limit_minutes"] == 90  # today's, though Mondays have their own
    assert allowances.profile("default_child").limit_minutes(date(2025, 8, 16)) == 180  # Saturday keeps its own
    assert allowances.profile("default_child").limit_minutes(date(2025, 8, 18)) == 30  # so does next Monday
    assert allowances.profile("default_child").limit_minutes(date(2025, 8, 12)) == 90  # the default moved
    allowances.set_limit("default_child", 120, "sunday", today)

    restarted = run.restart().guardian
    profile = restarted.allowances.profile("default_child")
    assert (profile.daily_limit_minutes, profile.weekday_limits) == (90, {"saturday": 180, "monday": 30, "sunday": 120})
    assert restarted.today("default_child")["limit_minutes"] == 90


def hours(*windows: tuple[str, str]) -> tuple[AllowedHours, ...]:
    return tuple(AllowedHours(start=start, end=end) for start, end in windows)


def test_allowed_hours_set_remotely_apply_at_once_and_survive_a_restart(
    harness: Make, clock: FakeClock, processes: FakeProcesses
) -> None:
    clock.wall = paris(2025, 8, 11, 10, 0)  # a Monday
    run = harness(child(allowed_hours={"start": "08:00", "end": "20:00"}, grace_seconds=0))
    processes.launch()

    run.guardian.set_allowed_hours("default_child", hours(("07:00", "08:00"), ("16:00", "20:00")), None)
    run.play(1)

    assert [n["data"]["message"] for n in run.of("outside_allowed_hours")] == [
        "default_child may play from 07:00 to 08:00 or from 16:00 to 20:00 only"
    ]
    assert len(processes.closed) == 1
    run.guardian.set_allowed_hours("default_child", hours(("09:00", "12:00")), "saturday")

    restarted = run.restart().guardian
    profile = restarted.allowances.profile("default_child")
    assert profile.windows(date(2025, 8, 11)) == hours(("07:00", "08:00"), ("16:00", "20:00"))
    assert profile.windows(date(2025, 8, 16)) == hours(("09:00", "12:00"))
    restarted.set_allowed_hours("default_child", (), "saturday")  # Saturday follows every day's again
    saturday = date(2025, 8, 16)
    assert restarted.allowances.profile("default_child").windows(saturday) == profile.windows(date(2025, 8, 11))
    restarted.set_allowed_hours("default_child", (), None)  # and every day is open
    assert restarted.allowances.profile("default_child").windows(saturday) == ()
