"""guardian (seed 004): a play-time guardian that watches the Roblox process.

Managers: config (the seed's JSON, extended), monitor (process watching),
timeline (the guardian's clock), usage (play time per child per day), sessions,
limits (warnings, blocks, closing), sync (Firebase sync requests); service ties
them into one tick; events (the seed's shapes) and schema (the database) are
theirs. commands (remote commands) and desktop (the seed's endpoints) are the wire.
"""

from __future__ import annotations

from deskbridge.app import AppContext, AppSpec, HttpEndpoint
from deskbridge.guardian import commands as remote
from deskbridge.guardian import data_access, desktop
from deskbridge.guardian.config import load
from deskbridge.guardian.errors import ERROR_CODES
from deskbridge.guardian.events import TYPES
from deskbridge.guardian.monitor import PsutilProcesses
from deskbridge.guardian.schema import MIGRATIONS
from deskbridge.guardian.service import Guardian
from deskbridge.guardian.timeline import sleep_counting
from deskbridge.router import Commands
from deskbridge.store import Database

HTTP_ENDPOINTS = (
    HttpEndpoint("POST", "/desktop/connect", "DESKTOP_CONNECT"),
    HttpEndpoint("POST", "/desktop/disconnect", "DESKTOP_DISCONNECT"),
    HttpEndpoint("GET", "/desktop/status", "DESKTOP_STATUS"),
    HttpEndpoint("GET", "/desktop/queue/sessions", "DESKTOP_QUEUE_SESSIONS"),
    HttpEndpoint("GET", "/desktop/queue/notifications", "DESKTOP_QUEUE_NOTIFICATIONS"),
    HttpEndpoint("POST", "/desktop/command", "DESKTOP_COMMAND"),
    HttpEndpoint("POST", "/sync/confirm", "SYNC_CONFIRM"),
)
"""Seed 004's endpoints; GET /desktop/events/poll is the web door's own (the core's event log)."""


def build(context: AppContext) -> Commands:
    config = load(context.config)
    root = context.data_dir.parent
    data_access.check((root, context.data_dir, root / "events"))
    desktop.bind_doors(config.desktop_client, context.config, context.door_policy)
    db = Database(context.data_dir / "guardian.db", MIGRATIONS, name="guardian database")
    guardian = Guardian(config, db, sleep_counting(context.clock), PsutilProcesses(), context.events.emit)
    commands = Commands()
    remote.register(commands, guardian, context.call, context.changed)
    desktop.register(commands, guardian, context)
    guardian.start()
    context.on_close(guardian.aclose)
    return commands


def _command_line(words: list[str]) -> int:
    """``deskbridge guardian ...``; imported when called, so that serving never loads the installer."""
    from deskbridge.guardian import command_line

    return command_line.main(words)


app = AppSpec(
    name="guardian",
    version="0.1.0",
    description="Play-time guardian: process watching, sessions, daily limits, desktop events",
    build=build,
    event_types=TYPES,
    http_endpoints=HTTP_ENDPOINTS,
    error_codes=ERROR_CODES,
    owner_only=remote.PARENT_ONLY,
    command_line=_command_line,
)
