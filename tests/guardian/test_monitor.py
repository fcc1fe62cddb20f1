"""Process watching, with real processes: copies of ``sleep`` named like the game."""

from __future__ import annotations

import sys
import time

import psutil
import pytest

from deskbridge.guardian.monitor import ProcessInfo, PsutilProcesses, Watcher
from deskbridge.guardian.platforms import Detector
from tests.guardian.conftest import Games
from tests.guardian.support import FakeClock, FakeProcesses
from tests.support import wait_until

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="names processes through Linux's exec rules")


def watcher_for(*names: str) -> Watcher:
    watcher = Watcher(PsutilProcesses(), Detector(names))
    watcher.poll()  # everything already running is the baseline
    return watcher


def pids(infos: list[ProcessInfo]) -> set[int]:
    return {info.pid for info in infos}


def test_a_game_is_seen_at_the_first_poll_after_it_starts_and_once_only(games: Games) -> None:
    name = games.unique()
    watcher = watcher_for(name)
    game = games.start(name)

    started = watcher.poll().started

    assert pids(started) == {game.pid}
    assert started[0].name == name
    assert started[0].create_time == pytest.approx(time.time(), abs=5)
    assert watcher.poll().started == []
    assert pids(watcher.running) == {game.pid}


def test_a_game_that_exits_is_reported_stopped_once(games: Games) -> None:
    name = games.unique()
    watcher = watcher_for(name)
    game = games.start(name)
    watcher.poll()

    games.stop(game)

    assert pids(watcher.poll().stopped) == {game.pid}
    assert watcher.poll().stopped == []
    assert watcher.running == []


def test_a_killed_game_its_parent_has_not_reaped_has_stopped(games: Games) -> None:
    name = games.unique()
    watcher = watcher_for(name)
    game = games.start(name)
    watcher.poll()

    game.kill()  # not waited for: a zombie that keeps its pid
    wait_until(lambda: psutil.Process(game.pid).status() == psutil.STATUS_ZOMBIE, 10, "the game to die")

    assert pids(watcher.poll().stopped) == {game.pid}


def test_names_match_whatever_their_case(games: Games) -> None:
    name = games.unique()
    watcher = watcher_for(name.upper())

    game = games.start(name)

    assert pids(watcher.poll().started) == {game.pid}


def test_a_game_launched_under_another_name_is_matched_by_its_executable(games: Games) -> None:
    executable = games.program(games.unique("Exe"))
    launcher = games.alias(games.unique("launcher"), executable)  # the process is named "launcher..."
    watcher = watcher_for(executable.name)

    game = games.launch(launcher)

    (started,) = watcher.poll().started
    assert (started.pid, started.name, started.exe_name) == (game.pid, launcher.name, executable.name)


def test_a_process_named_like_the_game_is_matched_whatever_its_executable(games: Games) -> None:
    renamed = games.alias(games.unique("Alias"), games.program(games.unique("other")))
    watcher = watcher_for(renamed.name)

    game = games.launch(renamed)

    (started,) = watcher.poll().started
    assert started.pid == game.pid
    assert started.exe_name != renamed.name


def test_a_name_longer_than_linux_keeps_still_matches(games: Games) -> None:
    name = games.unique("RobloxPlay")  # 18 characters; Linux keeps 15 in the process table
    assert len(name) > 15
    watcher = watcher_for(name)

    game = games.start(name)

    (started,) = watcher.poll().started
    assert (started.pid, started.name) == (game.pid, name)


def test_other_processes_are_not_games(games: Games) -> None:
    watcher = watcher_for(games.unique())

    games.start(games.unique())

    assert watcher.poll().started == []


def test_several_instances_are_each_reported_and_all_running(games: Games) -> None:
    name = games.unique()
    watcher = watcher_for(name)

    first, second = games.start(name), games.start(name)

    assert pids(watcher.poll().started) == {first.pid, second.pid}
    games.stop(first)
    assert pids(watcher.poll().stopped) == {first.pid}
    assert pids(watcher.running) == {second.pid}


def test_games_running_before_the_watcher_are_reported_at_its_first_poll(games: Games) -> None:
    name = games.unique()
    game = games.start(name)

    watcher = Watcher(PsutilProcesses(), Detector([name]))

    assert pids(watcher.poll().started) == {game.pid}


def test_games_a_previous_run_knew_are_not_reported_again(games: Games) -> None:
    name = games.unique()
    game = games.start(name)
    (known,) = watcher_for(name).running

    watcher = Watcher(PsutilProcesses(), Detector([name]), known=[known])

    assert watcher.poll().started == []
    assert pids(watcher.running) == {game.pid}


def test_helpers_are_found_among_the_processes_seen_and_are_not_games(games: Games) -> None:
    helper = games.unique("Crash")
    watcher = Watcher(PsutilProcesses(), Detector([games.unique()], helpers=[helper.lower()]))
    process = games.start(helper)

    assert watcher.poll().started == []
    assert pids(watcher.helpers()) == {process.pid}


def test_close_terminates_the_whole_tree(games: Games) -> None:
    shell = games.program(games.unique(), source="/bin/sh")
    game = games.launch(shell, "-c", "sleep 600 & wait")
    wait_until(lambda: psutil.Process(game.pid).children(), 10, "the shell's sleep")
    table = PsutilProcesses()
    info = table.describe(game.pid)
    assert info is not None
    (child,) = psutil.Process(game.pid).children()

    closed, failed = table.close([info], timeout=2)

    assert (closed, failed) == ([info], [])
    assert not table.alive(info)
    assert not child.is_running() or child.status() == psutil.STATUS_ZOMBIE


def test_close_kills_a_game_that_ignores_terminate(games: Games) -> None:
    shell = games.program(games.unique(), source="/bin/sh")
    game = games.launch(shell, "-c", "trap '' TERM; sleep 600 & wait")
    wait_until(lambda: psutil.Process(game.pid).children(), 10, "the shell's sleep (its trap is set before)")
    table = PsutilProcesses()
    info = table.describe(game.pid)
    assert info is not None

    started = time.monotonic()
    closed, _ = table.close([info], timeout=0.3)

    assert closed == [info]
    assert 0.3 <= time.monotonic() - started < 2
    assert game.wait(timeout=2) == -9


def test_close_of_a_process_already_gone_counts_it_in_neither_list(games: Games) -> None:
    name = games.unique()
    game = games.start(name)
    table = PsutilProcesses()
    info = table.describe(game.pid)
    assert info is not None
    games.stop(game)

    assert table.close([info], timeout=1) == ([], [])


def test_a_reused_pid_is_noticed_at_the_next_audit() -> None:
    now = [1000.0]
    table = FakeProcesses(FakeClock(1000.0))
    other = table.launch("editor")
    watcher = Watcher(table, Detector(["game"]), clock=lambda: now[0])
    watcher.poll()
    table.quit(other)
    reused = ProcessInfo(other.pid, "game", "game", 1000.5)  # same pid, between two polls
    table.table[reused.pid] = reused

    now[0] = 1030.0
    assert watcher.poll().started == []  # the diff cannot see it
    now[0] = 1061.0
    assert watcher.poll().started == [reused]


def test_a_young_process_is_named_again_after_it_execs() -> None:
    now = [1000.0]
    table = FakeProcesses(FakeClock(1000.0))
    watcher = Watcher(table, Detector(["game"]), clock=lambda: now[0])
    forked = table.launch("python", created=999.9)  # caught between fork and exec
    watcher.poll()
    table.table[forked.pid] = ProcessInfo(forked.pid, "game", "game", forked.create_time)

    now[0] = 1000.5
    assert pids(watcher.poll().started) == {forked.pid}


def test_an_old_process_is_not_named_again() -> None:
    now = [1000.0]
    table = FakeProcesses(FakeClock(1000.0))
    watcher = Watcher(table, Detector(["game"]), clock=lambda: now[0])
    old = table.launch("python", created=900.0)
    watcher.poll()
    table.table[old.pid] = ProcessInfo(old.pid, "game", "game", old.create_time)  # exec'd much later

    now[0] = 1001.0
    assert watcher.poll().started == []  # until the next audit: too rare to pay for every poll
