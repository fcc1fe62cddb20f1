"""The guardian's clock: gaps that are sleep count nothing, and moving the wall clock changes nothing."""

from __future__ import annotations

import pytest

from deskbridge.clock import SYSTEM_CLOCK
from deskbridge.guardian.timeline import CLOCK_JUMP, SleepCountingClock, Timeline, sleep_counting
from tests.guardian.support import FakeClock


@pytest.fixture
def timeline(clock: FakeClock) -> Timeline:
    return Timeline(clock, sleep_gap=15)


def test_a_tick_counts_the_time_since_the_last_one(clock: FakeClock, timeline: Timeline) -> None:
    start = clock.wall
    clock.advance(1)

    step = timeline.advance()

    assert (step.start, step.end, step.awake, step.jump) == (start, start + 1, 1, 0)


def test_a_gap_longer_than_the_sleep_gap_is_sleep_and_counts_nothing(clock: FakeClock, timeline: Timeline) -> None:
    start = clock.wall
    clock.advance(8 * 3600)  # the laptop slept all night

    step = timeline.advance()

    assert step.awake == 0
    assert step.end == start + 8 * 3600  # but the night did pass
    assert step.jump == 0


def test_moving_the_wall_clock_forward_moves_nothing(clock: FakeClock, timeline: Timeline) -> None:
    start = clock.wall
    clock.advance(1)
    clock.move_wall(24 * 3600)

    step = timeline.advance()

    assert (step.end, step.awake) == (start + 1, 1)
    assert step.jump == 24 * 3600
    clock.advance(1)
    assert timeline.advance().end == start + 2  # and stays absorbed


def test_moving_the_wall_clock_back_moves_nothing(clock: FakeClock, timeline: Timeline) -> None:
    start = clock.wall
    clock.move_wall(-3 * 3600)
    clock.advance(1)

    step = timeline.advance()

    assert (step.end, step.awake, step.jump) == (start + 1, 1, -3 * 3600)


def test_a_clock_set_right_again_is_followed_back(clock: FakeClock, timeline: Timeline) -> None:
    start = clock.wall
    clock.move_wall(50 * 365 * 86400)  # a dead CMOS battery: 2075
    clock.advance(1)
    timeline.advance()
    clock.move_wall(-50 * 365 * 86400)  # NTP puts it right
    clock.advance(1)

    assert timeline.advance().end == start + 2


def test_small_corrections_pass_through(clock: FakeClock, timeline: Timeline) -> None:
    start = clock.wall
    clock.move_wall(CLOCK_JUMP / 2)
    clock.advance(1)

    step = timeline.advance()

    assert (step.end, step.jump) == (start + 1 + CLOCK_JUMP / 2, 0)


def test_now_between_ticks_flows_with_the_monotonic_clock(clock: FakeClock, timeline: Timeline) -> None:
    start = clock.wall
    clock.move_wall(3600)
    clock.advance(2)

    assert timeline.now() == start + 2


def test_the_system_clock_is_made_to_count_sleep_and_an_injected_one_is_kept(clock: FakeClock) -> None:
    assert isinstance(sleep_counting(SYSTEM_CLOCK), SleepCountingClock)
    assert sleep_counting(clock) is clock
    counting = SleepCountingClock()
    assert counting.monotonic() >= SYSTEM_CLOCK.monotonic() - 1  # Linux: CLOCK_BOOTTIME, never behind
