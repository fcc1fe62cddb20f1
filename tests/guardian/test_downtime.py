"""Stopping the guardian does not free the game: a kill is told with the gap it left, and too many stops a day too."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from tests.guardian.support import FakeClock, Harness


def test_a_killed_guardian_is_told_at_restart_with_the_gap_a_clean_stop_only_counts(
    harness: Callable[..., Harness], clock: FakeClock
) -> None:
    run = harness()
    run.play(5)
    clock.advance(300)  # killed: no clean shutdown, five minutes off
    run = run.restart()
    run.play(1)
    (told,) = run.of("guardian_stopped")
    assert told["data"]["clean"] is False
    assert 300 <= told["data"]["seconds"] <= 306
    assert told["data"]["stops_today"] == 1

    asyncio.run(run.guardian.aclose())  # a clean shutdown
    clock.advance(60)
    run = run.restart()
    run.play(1)
    assert run.of("guardian_stopped") == []
    assert run.of("guardian_stopped_often") == []


def test_more_stops_in_a_day_than_the_config_allows_are_said_each_time(
    harness: Callable[..., Harness], clock: FakeClock
) -> None:
    run = harness({"monitor": {"max_stops_per_day": 2}})
    run.play(1)
    said = []
    for _ in range(4):
        clock.advance(30)
        run = run.restart()
        run.play(1)
        said += [event["data"]["stops_today"] for event in run.of("guardian_stopped_often")]
    assert said == [3, 4]


def test_the_first_run_ever_reports_no_stop(harness: Callable[..., Harness]) -> None:
    run = harness()
    run.play(2)
    assert run.of("guardian_stopped") == []
