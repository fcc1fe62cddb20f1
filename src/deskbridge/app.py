"""How an app (studio, guardian, or a third party's) plugs into a backend.

An app is an :class:`AppSpec` whose ``build`` receives an :class:`AppContext`
(its own directory, config, clock, event sink and operations) and returns the
:class:`~deskbridge.router.Commands` it answers. Apps never see a transport.
"""

from __future__ import annotations

import importlib
import importlib.util
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from deskbridge.clients import ClientRegistry
from deskbridge.clock import Clock
from deskbridge.events import EventSink
from deskbridge.operations import Operations
from deskbridge.router import Commands

if TYPE_CHECKING:
    from importlib.metadata import EntryPoint

BUILTIN_APPS: dict[str, str] = {
    "studio": "deskbridge.studio:app",
    "guardian": "deskbridge.guardian:app",
    "diag": "deskbridge.diag:app",
}
ENTRY_POINT_GROUP = "deskbridge.apps"


@dataclass
class AppContext:
    name: str
    data_dir: Path
    config: Mapping[str, Any]
    clock: Clock
    events: EventSink
    operations: Operations
    clients: ClientRegistry
    doors: dict[str, str] = field(default_factory=dict)
    """URLs of the doors serving this backend (``{"ws": "ws://127.0.0.1:8001/ws", ...}``), filled as they open."""
    closers: list[Callable[[], Any]] = field(default_factory=list)

    def on_close(self, closer: Callable[[], Any]) -> None:
        """Run ``closer`` at shutdown, after operations stopped (last registered, first run)."""
        self.closers.append(closer)


@dataclass(frozen=True)
class HttpEndpoint:
    """An HTTP route an app's contract names (seed 004's ``/desktop/...``), served by running a command.

    The web door turns the query parameters (GET) or the JSON body (POST) into
    the command's payload and answers with the command's ``data`` as the body
    (``raw``), or with the whole response envelope.
    """

    method: str
    path: str
    command: str
    raw: bool = True


@dataclass(frozen=True)
class AppSpec:
    name: str
    version: str
    description: str
    build: Callable[[AppContext], Commands]
    event_types: tuple[str, ...] = ()
    http_endpoints: tuple[HttpEndpoint, ...] = ()


class UnknownApp(LookupError):
    pass


def _entry_points() -> list[EntryPoint]:
    """Installed apps of other packages; reading every distribution's metadata costs ~20 ms, so only on demand."""
    from importlib.metadata import entry_points

    return list(entry_points(group=ENTRY_POINT_GROUP))


def _builtin_present(name: str) -> bool:
    """A frozen bundle holds only the built-in apps it was built with (``dev.py freeze guardian diag``)."""
    return importlib.util.find_spec(BUILTIN_APPS[name].partition(":")[0]) is not None


def available_apps() -> list[str]:
    names = {name for name in BUILTIN_APPS if _builtin_present(name)}
    names.update(ep.name for ep in _entry_points())
    return sorted(names)


def load_app(name: str) -> AppSpec:
    """Import an app by name, only when it is asked for."""
    target = BUILTIN_APPS.get(name)
    if target is not None and not _builtin_present(name):
        raise UnknownApp(f"the app {name!r} is not part of this build; available: {', '.join(available_apps())}")
    if target is None:
        found = [ep for ep in _entry_points() if ep.name == name]
        if not found:
            raise UnknownApp(f"no app named {name!r}; available: {', '.join(available_apps())}")
        target = found[0].value
    module_name, _, attr = target.partition(":")
    spec = getattr(importlib.import_module(module_name), attr)
    if not isinstance(spec, AppSpec):
        raise UnknownApp(f"{target} is not a deskbridge AppSpec")
    return spec
