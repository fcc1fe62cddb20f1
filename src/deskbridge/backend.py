"""A backend: the apps' commands, one router, one event log, and their lifecycle.

Doors (:mod:`deskbridge.transports`) are given its router, event log and
client registry; they all share them, so every app is reachable through every
door at once, and a command sent through one door shows its events on all.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from deskbridge import __version__, builtin_commands, protocol
from deskbridge.app import AppContext, AppSpec
from deskbridge.changes import STATE_CHANGED
from deskbridge.clients import ClientRegistry
from deskbridge.clock import SYSTEM_CLOCK, Clock
from deskbridge.cursors import ClientCursors
from deskbridge.dirlock import DirLock
from deskbridge.door_policy import DoorPolicy
from deskbridge.errors import ErrorCodes
from deskbridge.events import EventLog, EventSink, Retention
from deskbridge.operations import Journal, Operations
from deskbridge.paths import ensure_dir
from deskbridge.roles import AccessPolicy
from deskbridge.router import Commands, Router

log = logging.getLogger("deskbridge.backend")


class Backend:
    def __init__(
        self,
        apps: Sequence[AppSpec],
        *,
        data_dir: Path,
        config: Mapping[str, Any] | None = None,
        clock: Clock = SYSTEM_CLOCK,
        workers: int = 32,
        throttle: float = 0.1,
        max_line: int = protocol.DEFAULT_MAX_LINE,
        demo: bool = False,
    ) -> None:
        if not apps:
            raise ValueError("a backend needs at least one app")
        self.apps = list(apps)
        self.name = "+".join(sorted(app.name for app in self.apps))
        self.data_dir = data_dir
        self.config: Mapping[str, Any] = config or {}
        self.clock = clock
        self.max_line = max_line
        self.demo = demo
        """Serving made-up data (``deskbridge demo``): every place that shows the backend says so."""
        self._workers = workers
        self._throttle = throttle
        self.error_codes = ErrorCodes((app.name, app.error_codes) for app in self.apps)
        self.clients = ClientRegistry(clock=clock)
        self.doors: dict[str, str] = {}
        self.door_policy = DoorPolicy()
        self.access = AccessPolicy.of(app.owner_only for app in self.apps)
        self._contexts: list[AppContext] = []
        self._locks: list[DirLock] = []

    async def start(self) -> None:
        """Open the data, build the apps; raises before anything is served if that fails."""
        loop = asyncio.get_running_loop()
        root = ensure_dir(self.data_dir)
        self.executor = ThreadPoolExecutor(self._workers, thread_name_prefix="deskbridge-worker")
        try:
            for app in self.apps:
                lock = DirLock(ensure_dir(root / app.name))
                lock.acquire()
                self._locks.append(lock)
            events_dir = ensure_dir(root / "events")
            # Two files, each opened and checked before anything is served (quick_check in full unless the last
            # run closed it cleanly: store.connect); SQLite lets go of the GIL while it reads, so the journal
            # opens on a worker while this thread opens the log.
            # Only once the locks are held: the journal's interrupted operations are this run's to end.
            journal = loop.run_in_executor(self.executor, Journal, events_dir / f"{self.name}-operations.db")
            try:
                self.events = EventLog(
                    events_dir / f"{self.name}.db",
                    schedule=loop.call_soon,
                    retry_later=loop.call_later,
                    clock=self.clock,
                    retention=Retention.from_config(self.config),
                )
            finally:
                self._journal = await journal
            self.sink = EventSink(self.events, loop)
            self.cursors = ClientCursors(self.events)
            self.operations = Operations(
                loop, self.sink.emit, self.executor, throttle=self._throttle, clock=self.clock, journal=self._journal
            )
            self.operations.end_interrupted()
            commands = Commands()
            self.router = Router(commands, loop, self.executor, self.events, max_line=self.max_line, access=self.access)
            commands.merge(
                builtin_commands.build(
                    app_versions={app.name: app.version for app in self.apps},
                    routes=self.router.routes,
                    schema=self.schema,
                    operations=self.operations,
                    events=self.events,
                    clients=self.clients,
                    demo=self.demo,
                )
            )
            for app in self.apps:
                context = AppContext(
                    name=app.name,
                    data_dir=root / app.name,
                    config=self.config,
                    clock=self.clock,
                    events=self.sink,
                    operations=self.operations,
                    clients=self.clients,
                    call=self.router.call,
                    cursors=self.cursors,
                    doors=self.doors,
                    door_policy=self.door_policy,
                )
                self._contexts.append(context)
                commands.merge(app.build(context))
        except BaseException:
            self._release()
            raise

    def schema(self) -> dict[str, Any]:
        from deskbridge.schema import backend_schema  # for GET_SCHEMA and `deskbridge schema`: not at start

        return backend_schema(self.router.routes, self.event_types(), self.error_codes.describe())

    def event_types(self) -> list[str]:
        """The apps' event types and the core's own (``STATE_CHANGED``, raised through any app's context)."""
        return sorted({STATE_CHANGED, *(t for app in self.apps for t in app.event_types)})

    def ready_message(self, transport: str) -> dict[str, Any]:
        return {
            "type": "BACKEND_READY",
            "protocol": protocol.PROTOCOL_VERSION,
            "version": __version__,
            "app": self.name,
            "apps": [app.name for app in self.apps],
            "transport": transport,
            "doors": dict(self.doors),
            "pid": os.getpid(),
            "epoch": self.events.epoch,
            "last_seq": self.events.last_seq,
            "commands": sorted(self.router.routes),
            "events": self.event_types(),
            "error_codes": self.error_codes.meanings(),
            "timestamp": protocol.now_ms(),
            **({"demo": True} if self.demo else {}),
        }

    async def aclose(self, timeout: float = 1.5) -> None:
        """Stop taking commands, let running ones finish briefly, cancel operations, flush."""
        self.router.closing = True
        deadline = asyncio.get_running_loop().time() + timeout
        await self.router.drain(timeout / 2)
        await self.operations.shutdown(max(0.05, deadline - asyncio.get_running_loop().time()))
        for context in reversed(self._contexts):
            for closer in reversed(context.closers):
                try:
                    result = closer()
                    if asyncio.iscoroutine(result):
                        await result
                except Exception:
                    log.exception("closing %s failed", context.name)
        self.events.close()
        self._journal.close()
        self.executor.shutdown(wait=False, cancel_futures=True)
        self._release()

    def _release(self) -> None:
        for lock in self._locks:
            lock.release()
        self._locks.clear()
