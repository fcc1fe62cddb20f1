"""The client registry: each kind of connection of a client tracked on its own, polling clients expiring by time."""

from __future__ import annotations

from deskbridge.clients import ClientRegistry
from tests.support import FakeClock


def listed(registry: ClientRegistry) -> dict[str, str]:
    return {client.client_id: client.door for client in registry.list()}


def test_a_polling_client_that_stopped_is_unlisted_by_time_with_no_other_traffic() -> None:
    clock = FakeClock()
    registry = ClientRegistry(clock=clock)
    registry.polled("desk")
    clock.now += 59
    assert listed(registry) == {"desk": "poll"}
    clock.now += 2
    assert listed(registry) == {}, "a client that left stays 'connected' until someone else polls"


def test_forgetting_a_poller_leaves_the_same_clients_websocket_listed() -> None:
    clock = FakeClock()
    registry = ClientRegistry(clock=clock)
    socket = registry.connect("ws", "desk")
    registry.polled("desk")
    registry.seen("desk", 42)
    clock.now += 120
    registry.polled("other")  # what used to sweep idle pollers, and the WebSocket with them
    assert listed(registry) == {"desk": "ws", "other": "poll"}
    assert registry.list()[0].last_seq == 42
    registry.disconnect(socket)
    assert listed(registry) == {"other": "poll"}


def test_polling_clients_are_bounded_oldest_first() -> None:
    clock = FakeClock()
    registry = ClientRegistry(clock=clock, max_pollers=100)
    for n in range(5000):
        registry.polled(f"id-{n}")
        clock.now += 0.001
    ids = listed(registry)
    assert len(ids) == 100
    assert "id-4999" in ids
    assert "id-0" not in ids
    registry.polled("id-4900")  # polling again makes it the newest
    registry.polled("new")
    assert "id-4900" in listed(registry)
