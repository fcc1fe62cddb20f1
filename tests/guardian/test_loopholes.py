"""The loopholes a child finds, closed: each driven with real processes named like the game (copies of ``sleep``),
the guardian ticked by hand with an injected clock, zone source and OS-user lookup."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psutil
import pytest

from deskbridge.guardian.monitor import PsutilProcesses
from tests.guardian.conftest import Games
from tests.guardian.support import FakeClock, Harness, minutes, paris

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="names processes through Linux's exec rules")


def real(
    tmp_path: Path, clock: FakeClock, config: dict[str, Any], users: dict[int, str] | None = None, **options: Any
) -> Harness:
    """A guardian on the real process table; ``users`` says which OS user runs which pid (default: "kid")."""
    owners = users if users is not None else {}
    table = PsutilProcesses(user_of=lambda process: owners.get(process.pid, "kid"))
    return Harness(tmp_path / "guardian.db", config, clock, table, **options)


def game_config(name: str, **profile: Any) -> dict[str, Any]:
    return {"monitor": {"process_names": [name]}, "children": {"default_child": profile}}


def alive(process: Any) -> bool:
    return bool(process.poll() is None)


# -- 5: play while the guardian was down ----------------------------------------------------------------------


def test_a_game_that_ran_while_the_guardian_was_down_is_counted_from_the_last_saved_tick_and_told(
    tmp_path: Path, games: Games
) -> None:
    name = games.unique()
    clock = FakeClock(time.time())
    run = real(tmp_path, clock, game_config(name))
    game = games.start(name)
    run.play(60)  # seen playing a minute, then the guardian is killed

    clock.advance(10 * 60)  # ten minutes unwatched; the game runs on
    run = run.restart()
    run.play(1)

    assert run.used() == minutes(11)
    (told,) = [e for e in run.of("unwatched_play") if e["type"] == "session_event"]
    assert told["data"]["seconds"] == pytest.approx(600, abs=2)
    (notice,) = [e for e in run.of("unwatched_play") if e["type"] == "notification"]
    assert notice["data"]["type"] == "unwatched_play"
    assert alive(game)


def test_a_game_started_while_the_guardian_was_down_counts_from_its_start(tmp_path: Path, games: Games) -> None:
    name = games.unique()
    clock = FakeClock(time.time() - 3600)  # the guardian last ran an hour ago
    run = real(tmp_path, clock, game_config(name))
    run.play(10)
    game = games.start(name)  # started now, while the guardian is down
    clock.wall = clock.mono = time.time() + 300  # the guardian comes back five minutes later

    run = run.restart()
    run.play(1)

    (told, notice) = run.of("unwatched_play")
    assert (told["type"], notice["type"]) == ("session_event", "notification")
    assert told["data"]["seconds"] == pytest.approx(300, abs=3)
    assert run.used() == minutes(5)
    assert psutil.Process(game.pid).create_time() == pytest.approx(time.time(), abs=10)


# -- 6: the time zone ----------------------------------------------------------------------------------------


def test_a_time_zone_change_neither_starts_a_new_day_nor_goes_unnoticed(tmp_path: Path, games: Games) -> None:
    name = games.unique()
    zone = ["Europe/Paris"]
    clock = FakeClock(paris(2025, 8, 11, 23, 0))
    run = real(tmp_path, clock, {**game_config(name), "timezone": None}, zone=lambda: zone[0])
    games.start(name)
    run.play(20 * 60, tick=10)

    zone[0] = "America/New_York"  # 17:20 there: a child hoping for a fresh evening
    run.play(20)

    assert run.guardian.today("default_child")["date"] == "2025-08-11"
    assert run.used() == pytest.approx(20 * 60 + 20, abs=10)  # the same day goes on (to a tick)
    (changed,) = [e for e in run.events if e["type"] == "notification"]
    assert (changed["data"]["type"], changed["data"]["zone_to"]) == ("clock_changed", "America/New_York")
    run.play(60 * 60, tick=10)  # midnight comes in Paris, the zone of the first run
    assert run.guardian.today("default_child")["date"] == "2025-08-12"
    assert run.restart().guardian.zone is not None
    assert str(run.restart().guardian.zone) == "Europe/Paris"


# -- 7: blocks belong to a day and a window --------------------------------------------------------------------


def test_this_mornings_block_is_not_last_nights(tmp_path: Path, games: Games) -> None:
    name = games.unique()
    clock = FakeClock(paris(2025, 8, 11, 21, 0))
    hours = {"allowed_hours": {"start": "08:00", "end": "20:00"}, "grace_seconds": 30}
    run = real(tmp_path, clock, game_config(name, **hours))
    evening = games.start(name)
    run.play(40)
    assert evening.wait(timeout=10) is not None  # closed after its grace
    run.play(1)

    clock.advance(10 * 3600)  # 07:00 the next morning, still outside the allowed hours
    morning = games.start(name)
    run.play(1)

    assert alive(morning)  # not closed at once: a notice and a grace of its own
    notices = [e for e in run.events if e["type"] == "notification"]
    assert [n["data"]["type"] for n in notices] == ["outside_allowed_hours", "final_countdown", "outside_allowed_hours"]
    run.play(40)
    assert morning.wait(timeout=10) is not None


# -- 8: force_close closes, counts true, and holds ------------------------------------------------------------


def test_force_close_until_tomorrow_keeps_the_game_closed_and_counts_only_what_it_closed(
    tmp_path: Path, games: Games
) -> None:
    name = games.unique()
    clock = FakeClock(paris(2025, 8, 11, 15, 0))
    run = real(tmp_path, clock, game_config(name))
    game = games.start(name)
    run.play(1)

    closed, failed, until = run.guardian.force_close(None, "tomorrow")
    assert ([info.pid for info in closed], failed) == ([game.pid], [])
    assert until == paris(2025, 8, 12, 0, 0)
    assert run.guardian.force_close(None, None)[0] == []  # a second call: nothing left to close, none counted

    again = games.start(name)  # relaunched seconds later
    run.play(1)
    assert again.wait(timeout=10) is not None
    (auto,) = run.of("roblox_auto_closed")
    assert auto["data"]["reason"] == "closed_by_parent"

    clock.advance(9 * 3600 + 60)  # tomorrow
    run.play(1)
    tomorrow = games.start(name)
    run.play(2)
    assert alive(tomorrow)


def test_a_parent_can_take_minutes_away_today(tmp_path: Path, games: Games) -> None:
    name = games.unique()
    clock = FakeClock(paris(2025, 8, 11, 15, 0))
    run = real(tmp_path, clock, game_config(name, daily_limit_minutes=30, grace_seconds=0))
    game = games.start(name)
    run.play(10 * 60, tick=10)

    assert run.guardian.grant_bonus("default_child", -25)["minutes_remaining"] == 0
    run.play(1)

    assert game.wait(timeout=10) is not None
    assert [n["data"]["type"] for n in run.events if n["type"] == "notification"][-1] == "time_limit_exceeded"


# -- 9: parent actions leave a trace ----------------------------------------------------------------------------


def test_every_parent_action_is_an_event_saying_what_and_through_which_door(
    guardian_backend: Callable[..., Any],
) -> None:
    backend = guardian_backend({})

    backend.ok("PAUSE_MONITORING", {"minutes": 10})
    backend.ok("DESKTOP_COMMAND", {"command": "set_daily_limit", "params": {"minutes": 240}})
    backend.ok("GRANT_BONUS_TIME", {"minutes": 15})

    actions = ("pause_monitoring", "set_daily_limit", "grant_bonus_time")
    traced = [backend.wait_event(lambda e, a=action: e.get("data", {}).get("action") == a) for action in actions]
    assert all(t["type"] == "notification" for t in traced)
    assert [(t["data"]["action"], t["data"]["door"]) for t in traced] == [
        ("pause_monitoring", "stdio"),
        ("set_daily_limit", "stdio"),
        ("grant_bonus_time", "stdio"),
    ]
    assert traced[1]["data"]["params"]["minutes"] == 240


# -- 10: whose game ----------------------------------------------------------------------------------------------


def test_each_game_counts_and_closes_for_the_child_whose_account_runs_it(tmp_path: Path, games: Games) -> None:
    name = games.unique()
    clock = FakeClock(paris(2025, 8, 11, 15, 0))
    children = {"alice": {"daily_limit_minutes": 1, "grace_seconds": 0}, "bob": {"daily_limit_minutes": 120}}
    config = {"monitor": {"process_names": [name]}, "children": children, "active_child": "alice",
              "users": {"alice": "alice", "bob": "bob"}}  # fmt: skip
    owners: dict[int, str] = {}
    run = real(tmp_path, clock, config, owners)
    alices, bobs, dads = games.start(name), games.start(name), games.start(name)
    owners.update({alices.pid: "alice", bobs.pid: "bob", dads.pid: "dad"})

    run.play(90)

    assert alices.wait(timeout=10) is not None  # her minute is up
    assert alive(bobs)  # his afternoon is not hers
    assert alive(dads)  # a parent's game is nobody's
    assert run.used("bob") == minutes(1.5)
    started = [e["data"]["session_data"]["child_profile"] for e in run.of("session_started")]
    assert sorted(started) == ["alice", "bob"]  # two children playing at once
    assert {e["data"]["child_profile"] for e in run.of("roblox_started")} == {"alice", "bob", None}
