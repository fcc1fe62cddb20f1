"""The limits families ask for, each with an injected clock: several allowed windows per day and per weekday, the
longest session and its break, a weekly limit, the final countdown; every new key checked strictly."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from deskbridge.config import ConfigError
from deskbridge.guardian.config import load
from tests.guardian.support import FakeClock, FakeProcesses, Harness, paris

Make = Callable[..., Harness]


def child(**profile: Any) -> dict[str, Any]:
    return {"children": {"default_child": {"grace_seconds": 60, **profile}}}


def notices(run: Harness, kind: str) -> list[dict[str, Any]]:
    return [event["data"] for event in run.of(kind) if event["type"] == "notification"]


def test_several_windows_a_day_and_a_weekdays_own(harness: Make, clock: FakeClock, processes: FakeProcesses) -> None:
    monday = [{"start": "09:00", "end": "10:30"}, {"start": "11:00", "end": "12:00"}]
    run = harness(child(allowed_hours=[{"start": "07:00", "end": "08:00"}, {"start": "16:00", "end": "20:00"}],
                        weekday_allowed_hours={"monday": monday}))  # fmt: skip
    processes.launch()  # Monday 10:00
    run.play(29 * 60, tick=10)
    assert notices(run, "outside_allowed_hours") == []
    run.play(3 * 60, tick=10)  # 10:32: outside, the grace ends at 10:31
    (first,) = notices(run, "outside_allowed_hours")
    assert first["message"] == "default_child may play from 09:00 to 10:30 or from 11:00 to 12:00 only"
    assert processes.table == {}
    clock.advance(28 * 60)  # 11:00: the second window
    processes.launch()
    run.play(59 * 60, tick=10)
    assert len(notices(run, "outside_allowed_hours")) == 1
    run.play(2 * 60, tick=10)  # 12:00: the gap after the second window is another block, with its own notice
    assert len(notices(run, "outside_allowed_hours")) == 2
    assert run.guardian.today("default_child")["blocked"] == "outside_allowed_hours"
    clock.advance(paris(2025, 8, 12, 7, 0) - clock.wall)  # Tuesday 07:00: the days' windows
    run.play(10)
    assert run.guardian.today("default_child")["blocked"] is None


def test_the_longest_session_then_a_required_break_that_a_relaunch_does_not_shorten(
    harness: Make, clock: FakeClock, processes: FakeProcesses
) -> None:
    run = harness(child(max_session_minutes=30, break_minutes=10))
    game = processes.launch()
    run.play(10 * 60, tick=10)
    processes.quit(game)
    run.play(2 * 60, tick=10)  # a pause shorter than the break: the same session goes on
    processes.launch()
    run.play(21 * 60, tick=10)
    (notice,) = notices(run, "break_required")
    assert "30 minutes in a row" in notice["message"]
    run.play(2 * 60, tick=10)
    assert processes.table == {}
    run.play(5 * 60, tick=10)
    processes.launch()  # five minutes into the break
    run.play(10)
    assert processes.table == {}, "closed at once: no second grace"
    assert len(notices(run, "break_required")) == 1
    run.play(11 * 60, tick=10)  # ten minutes without playing
    processes.launch()
    run.play(5 * 60, tick=10)
    assert processes.table != {}
    assert run.guardian.today("default_child")["blocked"] is None


def test_a_weekly_limit_counts_from_monday(harness: Make, clock: FakeClock, processes: FakeProcesses) -> None:
    run = harness(child(daily_limit_minutes=120, weekly_limit_minutes=60))
    game = processes.launch()
    run.play(40 * 60, tick=10)
    processes.quit(game)
    run.play(10)
    clock.advance(paris(2025, 8, 12, 10, 0) - clock.wall)  # Tuesday
    run.play(10)
    assert run.guardian.today("default_child")["minutes_remaining"] in (20, 21)  # 40 min played, give or take a poll
    processes.launch()
    run.play(21 * 60, tick=10)
    (notice,) = notices(run, "weekly_limit_exceeded")
    assert notice["message"] == "default_child has used this week's 60 minutes"
    clock.advance(paris(2025, 8, 18, 10, 0) - clock.wall)  # next Monday: a new week
    run.play(10)
    assert run.guardian.today("default_child")["blocked"] is None


def test_the_final_countdown_within_the_grace(harness: Make, processes: FakeProcesses) -> None:
    run = harness(child(daily_limit_minutes=10, countdown_seconds=[30, 10]))
    processes.launch()
    run.play(10 * 60 + 61)
    counts = [data["closes_in_seconds"] for data in notices(run, "final_countdown")]
    assert counts == [30, 10]
    assert len(notices(run, "time_limit_exceeded")) == 1
    assert processes.table == {}


@pytest.mark.parametrize(
    ("profile", "named"),
    [
        ({"break_minutes": 10}, "break_minutes needs max_session_minutes"),
        ({"allowed_hours": []}, "$.children.default_child.allowed_hours"),
        ({"weekday_allowed_hours": {"caturday": [{"start": "09:00", "end": "10:00"}]}}, "weekday_allowed_hours"),
        ({"weekly_limit_minutes": 10081}, "$.children.default_child.weekly_limit_minutes"),
        ({"countdown_seconds": [0]}, "$.children.default_child.countdown_seconds[0]"),
        ({"max_session_minutes": 0}, "$.children.default_child.max_session_minutes"),
    ],
)
def test_every_new_key_is_checked_and_named(profile: dict[str, Any], named: str) -> None:
    with pytest.raises(ConfigError) as raised:
        load({"children": {"default_child": profile}})
    assert named in str(raised.value)
