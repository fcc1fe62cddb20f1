"""Seed 004's desktop endpoints as commands; the web door serves each at its seed path.

``GET /desktop/events/poll`` is not here: the web door answers it from the
core's event log (``{"events": [...], "last_seq": N}``). The seed's "queued
sessions" and "queued notifications" are the sync requests the desktop has
not confirmed yet. Request bodies are read liberally (a seed client may send
fields of its own); what the guardian needs is validated.
"""

from __future__ import annotations

import dataclasses
from typing import Annotated, Any, Final

import msgspec

from deskbridge.app import AppContext
from deskbridge.guardian import sync
from deskbridge.guardian.service import Guardian
from deskbridge.payloads import Payload
from deskbridge.router import Commands

POLL_PATH: Final = "/desktop/events/poll"
DOOR: Final = "desktop"
"""The door name of clients registered by POST /desktop/connect."""

ClientId = Annotated[str, msgspec.Meta(min_length=1, max_length=100)]


class ConnectPayload(Payload):
    client_id: ClientId | None = None
    """Reconnect under a known id; default: a new one."""


class DisconnectPayload(Payload):
    client_id: ClientId | None = None
    """Default: every client that connected through POST /desktop/connect."""


class SyncConfirmPayload(Payload):
    sync_id: Annotated[str, msgspec.Meta(min_length=1, max_length=100)]


def register(commands: Commands, guardian: Guardian, context: AppContext) -> None:
    desktop = guardian.config.desktop_client

    def websocket_url() -> str | None:
        return context.doors.get("ws") if desktop.websocket.enabled else None

    @commands.command("DESKTOP_CONNECT")
    def connect(payload: ConnectPayload) -> dict[str, Any]:
        """POST /desktop/connect: register the desktop client; where to get events from."""
        client = context.clients.connect(DOOR, payload.client_id)
        return {
            "client_id": client.client_id,
            "websocket_url": websocket_url(),
            "websocket_enabled": desktop.websocket.enabled,
            "polling_url": POLL_PATH,
            "polling_enabled": desktop.http_polling.enabled,
            "polling_interval": desktop.http_polling.interval,
            "connected_at": client.connected_at,
        }

    @commands.command("DESKTOP_DISCONNECT")
    def disconnect(payload: DisconnectPayload) -> dict[str, Any]:
        """POST /desktop/disconnect; events raised meanwhile wait in the event log."""
        if payload.client_id is not None:
            ids = [payload.client_id]
        else:
            ids = [client.client_id for client in context.clients.list() if client.door == DOOR]
        gone = [client_id for client_id in ids if context.clients.disconnect(client_id)]
        return {"disconnected": gone, "unknown": [client_id for client_id in ids if client_id not in gone]}

    @commands.command("DESKTOP_STATUS")
    def status() -> dict[str, Any]:
        """GET /desktop/status: who is connected, what waits for the desktop, what the guardian sees."""
        clients = context.clients.list()
        counts = guardian.sync.counts()
        return {
            "connected": bool(clients),
            "clients": [dataclasses.asdict(client) for client in clients],
            "websocket_url": websocket_url(),
            "polling_url": POLL_PATH,
            "queue_sizes": {"sessions": counts.get(sync.SESSION, 0), "notifications": counts.get(sync.NOTIFICATION, 0)},
            "monitoring": guardian.monitoring(),
        }

    @commands.command("DESKTOP_QUEUE_SESSIONS")
    def queued_sessions() -> dict[str, Any]:
        """GET /desktop/queue/sessions: finished sessions not yet confirmed as synced, oldest first."""
        pending = guardian.sync.pending(sync.SESSION)
        return {"sessions": pending, "count": len(pending)}

    @commands.command("DESKTOP_QUEUE_NOTIFICATIONS")
    def queued_notifications() -> dict[str, Any]:
        """GET /desktop/queue/notifications: notifications not yet confirmed as synced, oldest first."""
        pending = guardian.sync.pending(sync.NOTIFICATION)
        return {"notifications": pending, "count": len(pending)}

    @commands.command("SYNC_CONFIRM")
    def confirm(payload: SyncConfirmPayload) -> dict[str, Any]:
        """POST /sync/confirm: stop raising a sync request; twice, or an unknown id, is harmless."""
        outcome = guardian.sync.confirm(payload.sync_id, guardian.now())
        messages = {
            sync.Confirmation.CONFIRMED: "confirmed",
            sync.Confirmation.ALREADY_CONFIRMED: "this sync request was already confirmed",
            sync.Confirmation.UNKNOWN: "no sync request has this id; nothing to do",
        }
        return {"sync_id": payload.sync_id, "status": outcome, "message": messages[outcome]}
