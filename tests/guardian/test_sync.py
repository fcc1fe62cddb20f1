"""Sync requests: raised again with backoff until confirmed; confirming is idempotent."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from deskbridge.guardian.config import SyncConfig
from deskbridge.guardian.schema import MIGRATIONS
from deskbridge.guardian.sync import Confirmation, SyncRequests
from deskbridge.store import Database

T0 = 1_700_000_000.0


class Recorder:
    def __init__(self) -> None:
        self.events: list[dict[str, Any]] = []

    def __call__(self, event: dict[str, Any]) -> None:
        self.events.append(event)

    def attempts(self) -> list[int]:
        return [event["data"]["attempt"] for event in self.events]


@pytest.fixture
def emitted() -> Recorder:
    return Recorder()


@pytest.fixture
def requests(tmp_path: Path, emitted: Recorder) -> SyncRequests:
    return SyncRequests(
        Database(tmp_path / "g.db", MIGRATIONS), emitted, SyncConfig(retry_seconds=30, max_retry_seconds=100)
    )


def test_a_request_is_an_event_with_a_sync_id(requests: SyncRequests, emitted: Recorder) -> None:
    sync_id = requests.request("session", {"session_id": "kid_1"}, T0)

    (event,) = emitted.events
    assert event["type"] == "firebase_sync_request"
    assert event["data"] == {"data_type": "session", "data": {"session_id": "kid_1"}, "sync_id": sync_id, "attempt": 1}
    assert event["timestamp"] == T0 * 1000


def test_an_unconfirmed_request_is_raised_again_with_backoff(requests: SyncRequests, emitted: Recorder) -> None:
    sync_id = requests.request("session", {}, T0)

    for second in range(0, 400):
        requests.resend_due(T0 + second)

    assert emitted.attempts() == [1, 2, 3, 4, 5, 6]  # at 0, 30, 90 (+60), 190 (+100, the cap), 290, 390
    assert {event["data"]["sync_id"] for event in emitted.events} == {sync_id}
    assert len({event["id"] for event in emitted.events}) == 6


def test_a_confirmed_request_is_not_raised_again(requests: SyncRequests, emitted: Recorder) -> None:
    sync_id = requests.request("session", {}, T0)

    assert requests.confirm(sync_id, T0 + 1) == Confirmation.CONFIRMED
    requests.resend_due(T0 + 1000)

    assert emitted.attempts() == [1]


def test_confirming_twice_or_an_unknown_id_is_harmless(requests: SyncRequests) -> None:
    sync_id = requests.request("session", {}, T0)
    requests.confirm(sync_id, T0)

    assert requests.confirm(sync_id, T0) == Confirmation.ALREADY_CONFIRMED
    assert requests.confirm("no-such-id", T0) == Confirmation.UNKNOWN


def test_pending_requests_are_the_queues_by_kind(requests: SyncRequests) -> None:
    first = requests.request("session", {"n": 1}, T0)
    requests.request("session", {"n": 2}, T0 + 1)
    requests.request("notification", {"n": 3}, T0 + 2)
    requests.confirm(first, T0 + 3)

    assert [item["data"] for item in requests.pending("session")] == [{"n": 2}]
    assert requests.counts() == {"session": 1, "notification": 1}


def test_requests_outlive_the_guardian(tmp_path: Path, requests: SyncRequests, emitted: Recorder) -> None:
    sync_id = requests.request("session", {"n": 1}, T0)

    again = SyncRequests(Database(tmp_path / "g.db", MIGRATIONS), emitted, SyncConfig(retry_seconds=30))
    again.resend_due(T0 + 3600)

    assert emitted.events[-1]["data"]["sync_id"] == sync_id
    assert emitted.attempts() == [1, 2]
