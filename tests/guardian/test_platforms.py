"""Which processes are the game: the platform table, and real processes that look like each of its rows."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from deskbridge.guardian.monitor import PsutilProcesses, Watcher
from deskbridge.guardian.platforms import Detector, Role
from tests.guardian.conftest import Games

STORE = r"C:\Program Files\WindowsApps\ROBLOXCORPORATION.ROBLOX_2.652.762.0_x64__55nm5eh3cm0pr\Windows10Universal.exe"


@pytest.mark.parametrize(
    ("name", "exe", "role"),
    [
        (
            "RobloxPlayerBeta.exe",
            r"C:\Users\kid\AppData\Local\Roblox\Versions\version-1\RobloxPlayerBeta.exe",
            Role.GAME,
        ),
        ("robloxplayerbeta.exe", "", Role.GAME),  # case does not matter on Windows
        ("Windows10Universal.exe", STORE, Role.GAME),  # the Microsoft Store build
        ("Windows10Universal.exe", r"C:\Program Files\WindowsApps\Other.App_1.0\Windows10Universal.exe", None),
        ("notepad.exe", r"C:\Users\kid\AppData\Local\Roblox\Versions\version-1\notepad.exe", Role.GAME),  # renamed
        ("RobloxPlayerLauncher.exe", "", Role.HELPER),
        ("RobloxCrashHandler.exe", "", Role.HELPER),
        (
            "RobloxStudioBeta.exe",
            r"C:\Users\kid\AppData\Local\Roblox\Versions\version-1\RobloxStudioBeta.exe",
            Role.OTHER,
        ),
        ("RobloxPlayer", "/Applications/Roblox.app/Contents/MacOS/RobloxPlayer", Role.GAME),
        ("Roblox", "/Applications/Roblox.app/Contents/MacOS/Roblox", Role.GAME),
        ("Roblox", "/usr/local/bin/Roblox", None),  # the short name alone is someone else's
        ("chrome.exe", r"C:\Program Files\Google\Chrome\chrome.exe", None),
    ],
)
def test_the_table_says_what_each_process_is(name: str, exe: str, role: Role | None) -> None:
    assert Detector().role(name, Path(exe.replace("\\", "/")).name if exe else "", exe) == role


linux_only = pytest.mark.skipif(sys.platform != "linux", reason="names processes through Linux's exec rules")


@linux_only
def test_a_renamed_copy_under_an_install_folder_is_the_game(games: Games, tmp_path: Path) -> None:
    versions = tmp_path / "Roblox" / "Versions"
    folder = versions / "version-abc"
    folder.mkdir(parents=True)
    watcher = Watcher(PsutilProcesses(), Detector(install_dirs=[str(versions)]))
    watcher.poll()
    games.root = folder
    renamed = games.start("homework")

    (started,) = watcher.poll().started

    assert started.pid == renamed.pid


@linux_only
def test_the_store_build_is_matched_by_its_package_path_only(games: Games, tmp_path: Path) -> None:
    package = tmp_path / "WindowsApps" / "ROBLOXCORPORATION.ROBLOX_2.652_x64"
    other = tmp_path / "WindowsApps" / "Microsoft.Photos_1.0"
    package.mkdir(parents=True)
    other.mkdir(parents=True)
    watcher = Watcher(PsutilProcesses(), Detector())
    watcher.poll()
    games.root = package
    store = games.start("Windows10Universal.exe")
    games.root = other
    games.start("Windows10Universal.exe")

    assert [info.pid for info in watcher.poll().started] == [store.pid]


@linux_only
def test_a_launcher_is_closed_with_the_game_and_never_counted(games: Games) -> None:
    name = games.unique()
    watcher = Watcher(PsutilProcesses(), Detector([name]))
    watcher.poll()
    launcher = games.start("RobloxPlayerLauncher.exe")
    game = games.start(name)

    assert [info.pid for info in watcher.poll().started] == [game.pid]
    closed, failed = PsutilProcesses().close([*watcher.running, *watcher.helpers()], timeout=2)

    assert {info.pid for info in closed} == {game.pid, launcher.pid}
    assert failed == []
