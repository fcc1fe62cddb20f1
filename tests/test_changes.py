"""Every command that changes state raises one ``STATE_CHANGED`` event, stored in the log like any other,
so a front end that was away learns what changed by reading from its cursor; every event has a ``timestamp``."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from tests.support import BackendProcess


def changes(backend: BackendProcess, after: int) -> list[dict[str, Any]]:
    """The STATE_CHANGED events of the log after ``after``, as a client that was away reads them."""
    page = backend.ok("GET_EVENTS", {"after": after, "limit": 1000})
    return [event for event in page["events"] if event["type"] == "STATE_CHANGED"]


def shape(event: dict[str, Any]) -> dict[str, Any]:
    assert isinstance(event.pop("seq"), int)
    assert abs(event.pop("timestamp") - time.time() * 1000) < 60_000
    return event


def test_the_studio_says_what_each_command_changed(spawn: Callable[..., BackendProcess]) -> None:
    studio = spawn("studio")
    assert "STATE_CHANGED" in studio.ready["events"]
    start = studio.ready["last_seq"]
    studio.ok("CREATE_ACCOUNT", {"name": "alice"})
    studio.ok("RENAME_ACCOUNT", {"old_name": "alice", "new_name": "Alicia"})
    longer_than_suno_takes = {"title": "Two", "style": "rock " * 300}
    added = studio.ok("ADD_PROMPTS", {"prompts": [{"title": "One", "style": "pop"}, longer_than_suno_takes]})
    queue = studio.ok("CREATE_QUEUE", {"account_name": "Alicia", "total_songs": 1, "songs_per_batch": 1})
    studio.ok("REMOVE_QUEUE", {"queue_id": queue["queue_id"]})
    studio.ok("DELETE_PROMPT", {"prompt_id": added["prompt_ids"][0]})
    studio.ok("GET_ACCOUNTS")  # reads raise nothing
    studio.ok("DELETE_ACCOUNT", {"name": "Alicia"})

    seen = [shape(event) for event in changes(studio, start)]
    base = {"type": "STATE_CHANGED", "app": "studio"}
    assert seen == [
        {**base, "resource": "account", "change": "created", "id": "alice"},
        {**base, "resource": "account", "change": "renamed", "id": "Alicia", "old_id": "alice"},
        {**base, "resource": "prompts", "change": "added", "count": 2, "available": 2, "too_long": 1},
        {**base, "resource": "queue", "change": "created", "id": queue["queue_id"], "account_name": "Alicia"},
        {**base, "resource": "queue", "change": "removed", "id": queue["queue_id"], "released_prompts": 1},
        {**base, "resource": "prompts", "change": "deleted", "id": added["prompt_ids"][0]},
        {**base, "resource": "account", "change": "deleted", "id": "Alicia", "removed_queues": 0},
    ]
    # a command that fails changes nothing and says nothing
    head = studio.ok("GET_EVENTS", {"after": 0, "limit": 1})["head"]
    studio.ok("CREATE_ACCOUNT", {"name": "bob"})
    assert studio.error("RENAME_ACCOUNT", {"old_name": "nobody", "new_name": "x"})["error_code"] == "ACCOUNT_NOT_FOUND"
    assert [event["id"] for event in changes(studio, head)] == ["bob"]


def test_the_guardian_says_what_each_command_changed(spawn: Callable[..., BackendProcess]) -> None:
    guardian = spawn("guardian", "diag")
    start = guardian.ready["last_seq"]
    child = guardian.ok("GET_CONFIG")["active_child"]
    guardian.ok("SET_DAILY_LIMIT", {"minutes": 45})
    guardian.ok("DESKTOP_COMMAND", {"command": "grant_bonus_time", "params": {"minutes": 10}})
    guardian.ok("PAUSE_MONITORING", {"minutes": 5})
    guardian.ok("RESUME_MONITORING", {})
    guardian.ok("SET_ALLOWED_HOURS", {"windows": [{"start": "16:00", "end": "20:00"}], "weekday": "friday"})

    seen = [shape(event) for event in changes(guardian, start)]
    base = {"type": "STATE_CHANGED", "app": "guardian"}
    assert seen == [
        {**base, "resource": "limit", "change": "set", "id": child, "minutes": 45, "weekday": None},
        {**base, "resource": "bonus", "change": "granted", "id": child, "minutes": 10},
        {**base, "resource": "monitoring", "change": "paused", "minutes": 5},
        {**base, "resource": "monitoring", "change": "resumed"},
        {**base, "resource": "hours", "change": "set", "id": child, "weekday": "friday",
         "windows": [{"start": "16:00", "end": "20:00"}]},
    ]  # fmt: skip


def test_every_event_gets_a_timestamp_when_its_app_gives_none(spawn: Callable[..., BackendProcess]) -> None:
    backend = spawn("diag")
    before = time.time() * 1000
    backend.ok("EMIT", {"type": "PLAIN", "count": 2})  # diag's events carry no timestamp of their own
    page = backend.ok("GET_EVENTS", {"after": backend.ready["last_seq"], "limit": 10})
    stamps = [event["timestamp"] for event in page["events"] if event["type"] == "PLAIN"]
    assert len(stamps) == 2
    assert all(isinstance(stamp, int) and before - 1000 <= stamp <= time.time() * 1000 + 1000 for stamp in stamps)
