"""Which processes are the game, per platform, in one table (``reference/guardian.md``).

A process is the game when its name (or its executable's base name) is a
game name of the table or the config, when it is the Microsoft Store build
(``Windows10Universal.exe``, a name many Store apps share, so only under a
Roblox package path), or when its executable lies under a Roblox install
folder whatever it is called (a renamed copy of the player). Launcher and
crash handler are helpers: closed with the game, never counted as playing.
Studio (the creation tool, installed next to the player) is neither.

The table is matched whole on every platform: a Windows name or path cannot
turn up by accident elsewhere, and tests on one system exercise every row.
"""

from __future__ import annotations

import enum
import os
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Final, Literal

import msgspec


class Role(enum.Enum):
    GAME = "game"
    HELPER = "helper"
    """Closed together with the game; never counted."""
    OTHER = "other"
    """Found under an install folder, yet not play (Studio)."""


class Rule(msgspec.Struct, frozen=True):
    platform: str
    name: str
    role: Role
    under: str = ""
    """When set, the rule holds only for an executable whose path contains this (case and slashes ignored)."""


TABLE: Final = (
    Rule("windows", "RobloxPlayerBeta.exe", Role.GAME),
    Rule("windows", "Windows10Universal.exe", Role.GAME, under="/windowsapps/robloxcorporation.roblox"),
    Rule("windows", "RobloxPlayerLauncher.exe", Role.HELPER),
    Rule("windows", "RobloxCrashHandler.exe", Role.HELPER),
    Rule("windows", "RobloxStudioBeta.exe", Role.OTHER),
    Rule("windows", "RobloxStudioLauncherBeta.exe", Role.OTHER),
    Rule("macos", "RobloxPlayer", Role.GAME),
    Rule("macos", "Roblox", Role.GAME, under="/roblox.app/contents/macos/"),
    Rule("macos", "RobloxPlayerLauncher", Role.HELPER),
    Rule("macos", "RobloxCrashHandler", Role.HELPER),
    Rule("macos", "RobloxStudio", Role.OTHER),
    Rule("linux", "RobloxPlayerBeta", Role.GAME),  # a wine-hosted player, named as on Windows without ".exe"
)
LOG_DIRS: Final = {
    "windows": "%LOCALAPPDATA%\\Roblox\\logs",
    "macos": "~/Library/Logs/Roblox",
}
"""The player's log folder of the account running the guardian (:mod:`.roblox_logs`); a service running as its own
account names the children's folders in ``monitor.roblox_logs.folders`` instead."""
INSTALL_DIRS: Final = (
    "/appdata/local/roblox/versions/",  # Windows, per user
    "/program files (x86)/roblox/versions/",  # Windows, for all users
    "/program files/roblox/versions/",
    "/windowsapps/robloxcorporation.roblox",  # Windows, Microsoft Store package
    "/roblox.app/contents/macos/",  # macOS
)
"""Path fragments of folders holding only Roblox's own programs: any other executable there is a renamed player."""


def _path(path: str) -> str:
    return path.replace("\\", "/").casefold()


class Detector:
    """Classifies a process by its name, executable base name and executable path."""

    def __init__(
        self, games: Iterable[str] = (), helpers: Iterable[str] = (), install_dirs: Iterable[str] = ()
    ) -> None:
        self._names: dict[str, Role] = {}
        self._guarded: dict[str, list[tuple[str, Role]]] = {}
        for rule in TABLE:
            if rule.under:
                self._guarded.setdefault(rule.name.casefold(), []).append((rule.under, rule.role))
            else:
                self._names[rule.name.casefold()] = rule.role
        self._names.update({name.casefold(): Role.GAME for name in games})
        self._names.update({name.casefold(): Role.HELPER for name in helpers})
        self._dirs = tuple(_path(folder).rstrip("/") + "/" for folder in install_dirs) + INSTALL_DIRS

    def role(self, name: str, exe_name: str, exe: str) -> Role | None:
        """The process's role, or None when it is nothing to the guardian."""
        path = _path(exe)
        for candidate in (name.casefold(), exe_name.casefold()):
            for under, role in self._guarded.get(candidate, ()):
                if under in path:
                    return role
            if candidate in self._names:
                return self._names[candidate]
        if path and any(folder in path for folder in self._dirs):
            return Role.GAME  # a renamed copy of the player
        return None


PlatformName = Literal["linux", "macos", "windows"]


def this_platform() -> PlatformName:
    if sys.platform == "win32":
        return "windows"
    return "macos" if sys.platform == "darwin" else "linux"


def log_dirs(platform: str) -> list[Path]:
    """This account's Roblox log folder on ``platform`` (none on Linux), its variables expanded."""
    found = LOG_DIRS.get(platform)
    return [] if found is None else [Path(os.path.expanduser(os.path.expandvars(found)))]
