"""Sessions: one from the first game process to the last, announced once, synced when over."""

from __future__ import annotations

from collections.abc import Callable

from tests.guardian.support import FakeClock, FakeProcesses, Harness, kind_of, paris

Make = Callable[..., Harness]


def test_a_game_starting_and_stopping_is_a_session_with_its_events(harness: Make, processes: FakeProcesses) -> None:
    run = harness()
    game = processes.launch()
    run.play(1)
    run.play(45 * 60)
    processes.quit(game)
    run.play(1)

    assert [kind_of(event) for event in run.events] == [
        "roblox_started",
        "session_started",
        "roblox_stopped",
        "session_ended",
        "firebase_sync_request",
    ]
    started, ended = run.of("session_started")[0], run.of("session_ended")[0]
    session_id = f"default_child_{int(paris(2025, 8, 11, 10, 0, 1) * 1000)}"
    assert started["data"]["session_data"] == {
        "session_id": session_id,
        "child_profile": "default_child",
        "duration_minutes": 0,
        "is_active": True,
        "duration_seconds": 0,
        "started_at": "2025-08-11T08:00:01Z",
    }
    assert ended["data"]["session_data"] == {
        "session_id": session_id,
        "child_profile": "default_child",
        "duration_minutes": 45,
        "is_active": False,
        "duration_seconds": 45 * 60 + 1,  # from the poll that saw it start to the one that saw it gone
        "started_at": "2025-08-11T08:00:01Z",
        "ended_at": "2025-08-11T08:45:02Z",
    }
    assert run.of("roblox_started")[0]["data"]["process_info"] == {
        "pid": game.pid,
        "name": "RobloxPlayerBeta.exe",
        "started_at": "2025-08-11T08:00:00Z",  # the stand-in's create_time: launched before the first tick
    }


def test_every_event_has_an_id_and_a_timestamp(harness: Make, processes: FakeProcesses) -> None:
    run = harness()
    processes.launch()
    run.play(1)

    ids = {event["id"] for event in run.events}
    assert len(ids) == len(run.events) == 2
    assert {event["timestamp"] for event in run.events} == {int(paris(2025, 8, 11, 10, 0, 1) * 1000)}


def test_several_instances_are_one_session(harness: Make, processes: FakeProcesses) -> None:
    run = harness()
    first = processes.launch()
    run.play(60)
    second = processes.launch()
    run.play(60)
    processes.quit(first)
    run.play(60)

    assert len(run.of("roblox_started")) == 2
    assert len(run.of("session_started")) == 1
    assert run.of("session_ended") == []

    processes.quit(second)
    run.play(1)
    assert len(run.of("session_ended")) == 1


def test_a_finished_session_is_sent_for_sync(harness: Make, processes: FakeProcesses) -> None:
    run = harness()
    game = processes.launch()
    run.play(600)
    processes.quit(game)
    run.play(1)

    (request,) = run.of("firebase_sync_request")
    assert request["data"]["data_type"] == "session"
    assert request["data"]["data"] == run.of("session_ended")[0]["data"]["session_data"]
    assert request["data"]["sync_id"]


def test_a_restart_while_playing_continues_the_session_without_repeating_it(
    harness: Make, processes: FakeProcesses
) -> None:
    run = harness()
    game = processes.launch()
    run.play(600)
    session_id = run.of("session_started")[0]["data"]["session_data"]["session_id"]

    run = run.restart()
    run.play(600)
    processes.quit(game)
    run.play(1)

    assert run.of("guardian_stopped")  # the kill is told (test_downtime.py); the session goes on regardless
    assert after_the_stop(run) == ["roblox_stopped", "session_ended", "firebase_sync_request"]
    ended = run.of("session_ended")[0]["data"]["session_data"]
    assert (ended["session_id"], ended["duration_minutes"]) == (session_id, 20)


def test_a_game_that_quit_while_the_guardian_was_down_ends_its_session(
    harness: Make, clock: FakeClock, processes: FakeProcesses
) -> None:
    run = harness()
    game = processes.launch()
    run.play(600)

    processes.quit(game)
    clock.advance(300)
    run = run.restart()
    run.play(1)

    assert after_the_stop(run) == ["roblox_stopped", "session_ended", "firebase_sync_request"]
    assert run.of("session_ended")[0]["data"]["session_data"]["duration_minutes"] == 10


def test_a_game_running_when_the_guardian_starts_begins_a_session(harness: Make, processes: FakeProcesses) -> None:
    processes.launch()
    run = harness()

    run.play(1)

    assert [kind_of(event) for event in run.events] == ["roblox_started", "session_started"]


def after_the_stop(run: Harness) -> list[str]:
    """The kinds of events after a restart, but the notice of the stop and its sync requests."""
    return [
        kind_of(event)
        for event in run.events
        if kind_of(event) != "guardian_stopped" and event["data"].get("data", {}).get("type") != "guardian_stopped"
    ]
