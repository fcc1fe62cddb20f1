"""guardian (seed 004): a play-time guardian that watches the Roblox process."""

from __future__ import annotations

from deskbridge.app import AppContext, AppSpec
from deskbridge.router import Commands

EVENT_TYPES = ("roblox_event", "session_event", "notification", "firebase_sync_request")


def build(context: AppContext) -> Commands:
    return Commands()


app = AppSpec(
    name="guardian",
    version="0.1.0",
    description="Play-time guardian: process watching, sessions, daily limits, desktop events",
    build=build,
    event_types=EVENT_TYPES,
)
