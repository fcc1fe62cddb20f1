"""Seed 000's command examples, sent in the seed's order to a fresh backend, then after a restart."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from tests.support import BackendProcess

CLIP = {"id": "clip_id", "title": "Song Title", "audio_url": "http://example.com/song.mp3"}
PROMPT = {"title": "Song Title", "lyrics": "Song lyrics", "style": "Pop, upbeat"}

# (command, payload, expected error code or None for success), exactly as the seed lists them.
# The seed's "jwt_token" is not a JWT: the commands that take a session_token refuse it before
# reaching for Suno, the disk or the network.
SEED_EXAMPLES: list[tuple[str, dict[str, Any], str | None]] = [
    ("GET_ACCOUNTS", {}, None),
    ("CREATE_ACCOUNT", {"name": "account_name", "email": "user@example.com"}, None),
    ("UPDATE_ACCOUNT", {"name": "account_name", "last_used": "2025-01-01 10:00:00"}, None),
    ("RENAME_ACCOUNT", {"old_name": "old_name", "new_name": "new_name"}, "ACCOUNT_NOT_FOUND"),
    ("DELETE_ACCOUNT", {"name": "account_name", "delete_profile": False}, None),
    ("GET_ACCOUNT_PROFILE_PATH", {"name": "account_name"}, "ACCOUNT_NOT_FOUND"),
    ("GET_QUEUES", {}, None),
    (
        "CREATE_QUEUE",
        {"account_name": "account_name", "total_songs": 10, "songs_per_batch": 2, "prompts": [PROMPT]},
        "ACCOUNT_NOT_FOUND",
    ),
    ("REMOVE_QUEUE", {"queue_id": "queue-uuid"}, "QUEUE_NOT_FOUND"),
    (
        "UPDATE_QUEUE_PROGRESS",
        {"queue_id": "queue-uuid", "completed_count": 5, "status": "in_progress"},
        "QUEUE_NOT_FOUND",
    ),
    ("VALIDATE_PROMPTS", {"requested_total": 10}, None),
    ("CLEAR_QUEUES", {}, None),
    ("LAUNCH_BROWSER", {"account_name": "account_name", "headless": False}, "ACCOUNT_NOT_FOUND"),
    ("GET_SESSION_TOKEN", {"account_name": "account_name"}, "ACCOUNT_NOT_FOUND"),
    ("VERIFY_SESSION", {"account_name": "account_name"}, "ACCOUNT_NOT_FOUND"),
    ("GET_DOWNLOAD_HISTORY", {"account_name": "account_name"}, "ACCOUNT_NOT_FOUND"),
    (
        "FETCH_CLIPS",
        {"session_token": "jwt_token", "profile_name": "@username", "use_my_songs": True, "use_create_page": False},
        "INVALID_PAYLOAD",
    ),
    ("GET_NEW_CLIPS", {"account_name": "account_name", "all_clips": [CLIP]}, "ACCOUNT_NOT_FOUND"),
    (
        "DOWNLOAD_CLIP",
        {
            "session_token": "jwt_token",
            "clip": CLIP,
            "output_dir": "/path/to/output",
            "with_thumbnail": True,
            "append_uuid": True,
        },
        "INVALID_PAYLOAD",
    ),
    (
        "BATCH_DOWNLOAD",
        {
            "account_name": "account_name",
            "session_token": "jwt_token",
            "clips": [CLIP],
            "output_dir": "/path/to/output",
            "with_thumbnail": True,
            "append_uuid": True,
            "delay": 2.0,
        },
        "INVALID_PAYLOAD",
    ),
    ("CLEAR_DOWNLOAD_HISTORY", {"account_name": "account_name"}, "ACCOUNT_NOT_FOUND"),
    (
        "CREATE_SONGS_BATCH",
        {
            "account_name": "account_name",
            "prompts": [{"title": "Song Title", "lyrics": "Song lyrics", "style": "Pop"}],
            "songs_per_session": 1,
            "advanced_options": {"weirdness": 50, "creativity": 75, "model": "v4"},
            "auto_submit": False,
        },
        "INVALID_PAYLOAD",  # Suno retired v4 (every model before v6) on 2026-09-09
    ),
    ("START_QUEUE_EXECUTION", {"queue_ids": ["queue-uuid-1", "queue-uuid-2"]}, "QUEUE_NOT_FOUND"),
    ("GET_CREATION_HISTORY", {"account_name": "account_name"}, None),
    (
        "ADD_CREATION_RECORD",
        {
            "record": {
                "song_id": "song-uuid",
                "title": "Song Title",
                "prompt_index": 0,
                "account_name": "account_name",
                "status": "completed",
            }
        },
        "ACCOUNT_NOT_FOUND",
    ),
    ("EXPORT_HISTORY_TO_CSV", {"output_path": "/path/to/export.csv"}, "INVALID_PAYLOAD"),
    ("SEARCH_HISTORY", {"keyword": "search_term"}, None),
]


def test_every_seed_example_in_order_then_a_restart(spawn: Callable[..., BackendProcess], profiles: Path) -> None:
    """The account is deleted by the fifth example, so what needs it later is ACCOUNT_NOT_FOUND, not a crash."""
    backend = spawn("studio")
    answers = {}
    for number, (command, payload, expected) in enumerate(SEED_EXAMPLES, start=1):
        response = backend.call(command, payload)
        assert response["id"] == f"t-{number}"
        if expected is None:
            assert response["type"] == f"{command}_RESPONSE", response
            assert response["success"] is True
            assert response["error"] is None
            answers[command] = response["data"]
        else:
            assert response["type"] == "ERROR_RESPONSE", response
            assert response["error_code"] == expected, response
            assert response["error"]
    assert answers["GET_ACCOUNTS"] == []
    assert answers["CREATE_ACCOUNT"]["name"] == "account_name"
    assert answers["CREATE_ACCOUNT"]["email"] == "user@example.com"
    assert answers["UPDATE_ACCOUNT"]["last_used"] == "2025-01-01 10:00:00"
    assert answers["DELETE_ACCOUNT"] == {
        "name": "account_name",
        "deleted": True,
        "profile_path": str(profiles / "account_name"),
        "profile_deleted": False,
        "removed_queues": 0,
    }
    assert answers["VALIDATE_PROMPTS"] == {
        "valid": False,
        "requested_total": 10,
        "available": 0,
        "missing": 10,
        "too_long": 0,
        "too_long_ids": [],
    }
    assert answers["GET_CREATION_HISTORY"] == {"items": [], "limit": 1000, "has_more": False, "next_cursor": None}
    assert backend.close() == 0

    again = spawn("studio")
    assert again.ok("GET_ACCOUNTS") == []
    assert (profiles / "account_name").is_dir(), "delete_profile: false keeps the profile"
    assert again.ok("CREATE_ACCOUNT", {"name": "account_name"})["profile_path"] == str(profiles / "account_name")


def test_the_seed_flow_succeeds_when_the_account_and_prompts_exist(studio: BackendProcess, tmp_path: Path) -> None:
    """The same examples with their preconditions met: each one answers with data."""
    studio.ok("CREATE_ACCOUNT", {"name": "account_name", "email": "user@example.com"})
    studio.ok("ADD_PROMPTS", {"prompts": [{"lyrics": f"verse {n}", "style": "Pop"} for n in range(9)]})
    assert studio.ok("VALIDATE_PROMPTS", {"requested_total": 10})["missing"] == 1
    queue = studio.ok(
        "CREATE_QUEUE", {"account_name": "account_name", "total_songs": 10, "songs_per_batch": 2, "prompts": [PROMPT]}
    )
    assert queue["status"] == "pending"
    assert queue["total_songs"] == 10
    assert len(queue["prompt_ids"]) == 10
    progress = studio.ok(
        "UPDATE_QUEUE_PROGRESS", {"queue_id": queue["queue_id"], "completed_count": 5, "status": "in_progress"}
    )
    assert progress["progress"] == 50
    event = studio.wait_event(lambda e: e["type"] == "QUEUE_PROGRESS" and e["payload"]["completed"] == 5)
    assert event["id"] == "progress-event"
    assert event["payload"]["operation_id"] == queue["queue_id"]
    assert event["payload"]["status"] == "in_progress"
    assert event["payload"]["total"] == 10
    assert event["payload"]["progress"] == 50
    studio.ok(
        "ADD_CREATION_RECORD",
        {
            "record": {
                "song_id": "song-uuid",
                "title": "Song Title",
                "prompt_index": 0,
                "account_name": "account_name",
                "status": "completed",
            }
        },
    )
    assert len(studio.ok("GET_CREATION_HISTORY", {"account_name": "account_name"})["items"]) == 1
    assert studio.ok("SEARCH_HISTORY", {"keyword": "song"})["items"][0]["song_id"] == "song-uuid"
    assert studio.ok("GET_NEW_CLIPS", {"account_name": "account_name", "all_clips": [CLIP]}) == [CLIP]
    assert studio.ok("GET_DOWNLOAD_HISTORY", {"account_name": "account_name"})["items"] == []
    assert studio.ok("CLEAR_DOWNLOAD_HISTORY", {"account_name": "account_name"})["cleared"] == 0
    export = studio.ok("EXPORT_HISTORY_TO_CSV", {"output_path": str(tmp_path / "export.csv")})
    assert export == {"output_path": str(tmp_path / "export.csv"), "rows": 1}
    assert studio.ok("REMOVE_QUEUE", {"queue_id": queue["queue_id"]})["released_prompts"] == 5
    assert studio.ok("CLEAR_QUEUES") == {"removed": 0, "queue_ids": [], "released_prompts": 0}
    assert studio.ok("RENAME_ACCOUNT", {"old_name": "account_name", "new_name": "new_name"})["name"] == "new_name"
    assert studio.ok("GET_ACCOUNT_PROFILE_PATH", {"name": "new_name"})["exists"] is True
    assert studio.ok("DELETE_ACCOUNT", {"name": "new_name", "delete_profile": True})["profile_deleted"] is True
