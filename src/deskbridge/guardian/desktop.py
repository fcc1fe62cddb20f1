"""Seed 004's desktop endpoints as commands; the web door serves each at its seed path.

``GET /desktop/events/poll`` is not here: the web door answers it from the
core's event log (``{"events": [...], "last_seq": N}``). The seed's "queued
sessions" and "queued notifications" are the sync requests the desktop has
not confirmed yet. Request bodies are read liberally (a seed client may send
fields of its own); what the guardian needs is validated.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any, Final

import msgspec

from deskbridge import protocol
from deskbridge.app import AppContext
from deskbridge.clients import ClientInfo
from deskbridge.door_policy import DoorPolicy
from deskbridge.guardian import events, sync
from deskbridge.guardian.config import DesktopClientConfig
from deskbridge.guardian.service import Guardian
from deskbridge.payloads import Payload
from deskbridge.router import Commands

POLL_PATH: Final = "/desktop/events/poll"
DOOR: Final = "desktop"
"""The door name of clients registered by POST /desktop/connect."""
POLL_DOOR: Final = "poll"
"""The door name the web door gives polling clients."""

ClientId = Annotated[str, msgspec.Meta(min_length=1, max_length=100)]


class ConnectPayload(Payload):
    client_id: ClientId | None = None
    """Reconnect under a known id; default: a new one."""


class DisconnectPayload(Payload):
    client_id: ClientId | None = None
    """Default: every client that connected through POST /desktop/connect."""


class SyncConfirmPayload(Payload):
    sync_id: Annotated[str, msgspec.Meta(min_length=1, max_length=100)]


AUTH_NONE: Final = "none: a loopback client needs no token here (desktop_client.require_token is false)"
AUTH_TOKEN: Final = "the install's token: header 'Authorization: Bearer <token>' or query '?token=<token>'"
TOKENLESS_PATHS: Final = ("/desktop/", "/sync/confirm")
TOKENLESS_WEBSOCKET: Final = ("/",)
"""The seed's client connects to ``ws://localhost:8001``: the root path."""


def bind_doors(desktop: DesktopClientConfig, raw: Mapping[str, Any], policy: DoorPolicy) -> None:
    """The config's ``desktop_client`` decides where and how the web door serves: what it names, it binds."""
    said = raw.get("desktop_client", {}).get("websocket", {})
    policy.source = "the config's desktop_client.websocket"
    if "host" in said:
        policy.host = desktop.websocket.host
    if "port" in said:
        policy.port = desktop.websocket.port
    policy.websocket = desktop.websocket.enabled
    policy.polling = desktop.http_polling.enabled
    policy.cursorless = True
    if not desktop.require_token:
        policy.tokenless = TOKENLESS_PATHS
        policy.tokenless_websocket = TOKENLESS_WEBSOCKET


class StatusPayload(Payload):
    client_id: ClientId | None = None
    """Whose queue to count; default: the one desktop client that sends no id."""


def register(commands: Commands, guardian: Guardian, context: AppContext) -> None:
    desktop = guardian.config.desktop_client
    stale_ms = 2 * desktop.http_polling.interval * 1000

    def websocket_url() -> str | None:
        url = context.doors.get("ws") if desktop.websocket.enabled else None
        if url is not None and not desktop.require_token:
            return url.removesuffix("/ws") + "/"  # the path a client without the token may open
        return url

    def connected(clients: list[ClientInfo]) -> bool:
        """A WebSocket open, or a poll (or a connect) within two polling intervals."""
        now = protocol.now_ms()
        return any(c.door == "ws" or (c.door in (POLL_DOOR, DOOR) and now - c.last_seen <= stale_ms) for c in clients)

    @commands.command("DESKTOP_CONNECT")
    def connect(payload: ConnectPayload) -> dict[str, Any]:
        """POST /desktop/connect: register the desktop client (listed while it polls or holds a WebSocket, as a
        polling client is); where to get events from."""
        client = context.clients.register(DOOR, payload.client_id)
        return {
            "client_id": client.client_id,
            "websocket_url": websocket_url(),
            "websocket_enabled": desktop.websocket.enabled,
            "polling_url": POLL_PATH,
            "polling_enabled": desktop.http_polling.enabled,
            "polling_interval": desktop.http_polling.interval,
            "connected_at": client.connected_at,
            "token_required": desktop.require_token,
            "auth": AUTH_NONE if not desktop.require_token else AUTH_TOKEN,
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
    def status(payload: StatusPayload) -> dict[str, Any]:
        """GET /desktop/status: whether the desktop client is connected, what it has not received yet."""
        clients = context.clients.list()
        backlog = context.cursors.backlog(payload.client_id, (events.SESSION_EVENT, events.NOTIFICATION))
        return {
            "connected": connected(clients),
            "clients": [msgspec.structs.asdict(client) for client in clients],
            "websocket_url": websocket_url(),
            "polling_url": POLL_PATH,
            "queue_sizes": {
                "sessions": backlog[events.SESSION_EVENT],
                "notifications": backlog[events.NOTIFICATION],
                "events": backlog["events"],
            },
            "unsynced": guardian.sync.counts(),
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
