"""Seed 004's desktop endpoints, as the commands the web door serves them with."""

from __future__ import annotations

import time
from collections.abc import Callable

from deskbridge.guardian import HTTP_ENDPOINTS
from tests.guardian.conftest import Games
from tests.support import BackendProcess

Start = Callable[..., BackendProcess]


def test_every_seed_endpoint_is_a_command_except_the_cores_event_poll(guardian_backend: Start) -> None:
    backend = guardian_backend({})
    routes = {(e.method, e.path): e.command for e in HTTP_ENDPOINTS}

    assert set(routes) == {
        ("POST", "/desktop/connect"),
        ("POST", "/desktop/disconnect"),
        ("GET", "/desktop/status"),
        ("GET", "/desktop/queue/sessions"),
        ("GET", "/desktop/queue/notifications"),
        ("POST", "/desktop/command"),
        ("POST", "/sync/confirm"),
    }
    assert set(routes.values()) <= set(backend.ready["commands"])


def test_connect_says_where_events_come_from(guardian_backend: Start) -> None:
    backend = guardian_backend({"desktop_client": {"http_polling": {"interval": 2}}})

    assert backend.error("DESKTOP_CONNECT", {"client_type": "flutter"})["details"]["did_you_mean"] == "client_id"
    connected = backend.ok("DESKTOP_CONNECT", {})

    assert connected["client_id"]
    assert connected["websocket_url"] is None  # no web door in front of this backend
    assert connected["polling_url"] == "/desktop/events/poll"
    assert connected["polling_interval"] == 2


def test_status_shows_who_is_connected_until_they_leave(guardian_backend: Start) -> None:
    backend = guardian_backend({})
    assert backend.ok("DESKTOP_STATUS")["connected"] is False

    client_id = backend.ok("DESKTOP_CONNECT", {"client_id": "desk-1"})["client_id"]
    status = backend.ok("DESKTOP_STATUS")
    assert status["connected"] is True
    assert [(c["client_id"], c["door"]) for c in status["clients"]] == [("desk-1", "desktop")]

    assert backend.ok("DESKTOP_DISCONNECT", {"client_id": client_id}) == {"disconnected": ["desk-1"], "unknown": []}
    assert backend.ok("DESKTOP_STATUS")["connected"] is False
    assert backend.ok("DESKTOP_DISCONNECT", {"client_id": client_id}) == {"disconnected": [], "unknown": ["desk-1"]}


def test_disconnect_without_an_id_lets_every_desktop_client_go(guardian_backend: Start) -> None:
    backend = guardian_backend({})
    backend.ok("DESKTOP_CONNECT", {"client_id": "a"})
    backend.ok("DESKTOP_CONNECT", {"client_id": "b"})

    assert backend.ok("DESKTOP_DISCONNECT")["disconnected"] == ["a", "b"]


def test_hellos_that_never_come_back_are_bounded(guardian_backend: Start) -> None:
    """Any local program may POST /desktop/connect without end (no token is needed for it by default): each hello
    is listed as a polling client is, and past 1,000 the longest silent is forgotten."""
    backend = guardian_backend({})
    sent = [backend.send("DESKTOP_CONNECT", {}) for _ in range(1_200)]
    hellos = [backend.response(command_id)["data"]["client_id"] for command_id in sent]

    listed = [client["client_id"] for client in backend.ok("DESKTOP_STATUS")["clients"]]
    assert len(listed) == 1_000
    assert hellos[-1] in listed
    assert hellos[0] not in listed


def test_a_client_that_says_hello_again_is_connected_again(guardian_backend: Start) -> None:
    """A hello counts as a poll: connected until two polling intervals pass without either, the same client."""
    backend = guardian_backend({"desktop_client": {"http_polling": {"interval": 0.5}}})
    first = backend.ok("DESKTOP_CONNECT", {"client_id": "desk-1"})
    assert backend.ok("DESKTOP_STATUS")["connected"] is True
    time.sleep(1.2)
    assert backend.ok("DESKTOP_STATUS")["connected"] is False

    again = backend.ok("DESKTOP_CONNECT", {"client_id": "desk-1"})
    status = backend.ok("DESKTOP_STATUS")
    assert status["connected"] is True
    assert [c["client_id"] for c in status["clients"]] == ["desk-1"]
    assert again["connected_at"] == first["connected_at"]


def test_queues_hold_what_is_not_yet_synced(guardian_backend: Start, games: Games) -> None:
    name = games.unique()
    config = {"monitor": {"process_names": [name]}, "children": {"default_child": {"daily_limit_minutes": 0}}}
    backend = guardian_backend(config)
    game = games.start(name)
    backend.wait_event(lambda e: e["type"] == "notification", timeout=10)
    games.stop(game)
    backend.wait_event(lambda e: e["type"] == "firebase_sync_request" and e["data"]["data_type"] == "session")

    sessions = backend.ok("DESKTOP_QUEUE_SESSIONS")
    notifications = backend.ok("DESKTOP_QUEUE_NOTIFICATIONS")

    assert sessions["count"] == 1
    assert sessions["sessions"][0]["data"]["is_active"] is False
    assert notifications["count"] == 1
    assert notifications["notifications"][0]["data"]["type"] == "time_limit_exceeded"
    status = backend.ok("DESKTOP_STATUS")
    assert status["unsynced"] == {"session": 1, "notification": 1}
    # Nobody has polled: the desktop client has every event still to receive (session started and ended).
    assert status["queue_sizes"]["sessions"] == 2
    assert status["queue_sizes"]["notifications"] == 1


def test_confirming_twice_or_an_unknown_id_is_harmless_and_says_so(guardian_backend: Start, games: Games) -> None:
    name = games.unique()
    backend = guardian_backend({"monitor": {"process_names": [name]}})
    game = games.start(name)
    backend.wait_event(lambda e: e.get("event_type") == "session_started", timeout=10)
    games.stop(game)
    request = backend.wait_event(lambda e: e["type"] == "firebase_sync_request", timeout=10)
    sync_id = request["data"]["sync_id"]

    assert backend.ok("SYNC_CONFIRM", {"sync_id": sync_id})["status"] == "confirmed"
    again = backend.ok("SYNC_CONFIRM", {"sync_id": sync_id})
    unknown = backend.ok("SYNC_CONFIRM", {"sync_id": "nope"})

    assert (again["status"], again["message"]) == ("already_confirmed", "this sync request was already confirmed")
    assert (unknown["status"], unknown["message"]) == ("unknown", "no sync request has this id; nothing to do")
    assert backend.error("SYNC_CONFIRM", {})["error_code"] == "INVALID_PAYLOAD"
