"""How an app (studio, guardian, or a third party's) plugs into a backend.

An app is an :class:`AppSpec` whose ``build`` receives an :class:`AppContext`
(its own directory, config, clock, event sink and operations) and returns the
:class:`~deskbridge.router.Commands` it answers. Apps never see a transport.
An app declares the error codes it answers with (:class:`ErrorCodeInfo`) and
may name HTTP routes (:class:`HttpEndpoint`). Third-party apps are found
through the ``deskbridge.apps`` entry point group (docs/apps.md).
"""

from __future__ import annotations

import importlib
import importlib.util
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from deskbridge.changes import Changed, Changes
from deskbridge.clients import ClientRegistry
from deskbridge.clock import Clock
from deskbridge.cursors import ClientCursors
from deskbridge.door_policy import DoorPolicy
from deskbridge.errors import ErrorCodeInfo
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
EXTRAS: dict[str, tuple[str, ...]] = {
    "studio": ("playwright", "mutagen", "aiohttp"),
    "guardian": ("psutil",),
}
"""The modules each built-in app's extra (``deskbridge[studio]``) installs: the bare layer has none of them."""
ENTRY_POINT_GROUP = "deskbridge.apps"

Call = Callable[[str, Any], Awaitable[Any]]


@dataclass
class AppContext:
    name: str
    data_dir: Path
    config: Mapping[str, Any]
    clock: Clock
    events: EventSink
    operations: Operations
    clients: ClientRegistry
    call: Call
    """Run another command of this backend by type (:meth:`deskbridge.router.Router.call`)."""
    cursors: ClientCursors
    """Where each client that sends no cursor stands in the event log."""
    doors: dict[str, str] = field(default_factory=dict)
    """URLs of the doors serving this backend (``{"ws": "ws://127.0.0.1:8001/ws", ...}``), filled as they open."""
    closers: list[Callable[[], Any]] = field(default_factory=list)
    door_policy: DoorPolicy = field(default_factory=DoorPolicy)
    """What the app's contract asks of the web door (shared by every app of the backend)."""
    changed: Changed = field(init=False)
    """``changed(resource, change, **fields)``: raise this app's ``STATE_CHANGED`` event (deskbridge.changes)."""

    def __post_init__(self) -> None:
        self.changed = Changes(self.name, self.events)

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
    error_codes: tuple[ErrorCodeInfo, ...] = ()
    """The codes its commands raise besides the framework's (:class:`~deskbridge.errors.ErrorCode`)."""
    command_line: Callable[[list[str]], int] | None = None
    """``deskbridge <name> ...``: the app's own command line (the guardian's ``install``), given the words after
    its name; returns the exit code."""
    owner_only: tuple[str, ...] = ()
    """Command types a caller with a client's token may not run (:mod:`deskbridge.roles`)."""


class UnknownApp(LookupError):
    pass


class MissingExtra(UnknownApp):
    """The app is known, but what it needs is not installed."""


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
    missing = [module for module in EXTRAS.get(name, ()) if importlib.util.find_spec(module) is None]
    if missing:
        raise MissingExtra(
            f"app {name!r} needs the {name!r} extra, not installed here (missing: {', '.join(missing)}): "
            f"pip install 'deskbridge[{name}]'"
        )
    if target is None:
        found = [ep for ep in _entry_points() if ep.name == name]
        if not found:
            raise UnknownApp(f"no app named {name!r}; available: {', '.join(available_apps())}")
        target = found[0].value
    module_name, _, attr = target.partition(":")
    try:
        spec = getattr(importlib.import_module(module_name), attr)
    except ModuleNotFoundError as exc:
        raise MissingExtra(f"app {name!r} cannot load: module {exc.name!r} is not installed") from exc
    if not isinstance(spec, AppSpec):
        raise UnknownApp(f"{target} is not a deskbridge AppSpec")
    return spec
