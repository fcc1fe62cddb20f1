"""Everything the studio is told survives a restart, a kill -9 between commands, and a rename cut short."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tests.support import BackendProcess

QUERIES: list[tuple[str, dict[str, Any]]] = [
    ("GET_ACCOUNTS", {}),
    ("GET_QUEUES", {}),
    ("GET_PROMPTS", {}),
    ("VALIDATE_PROMPTS", {"requested_total": 2}),
    ("GET_CREATION_HISTORY", {}),
    ("SEARCH_HISTORY", {"keyword": "rain"}),
    ("GET_DOWNLOAD_HISTORY", {"account_name": "Zoë"}),
    ("GET_NEW_CLIPS", {"account_name": "Zoë", "all_clips": [{"id": "c1"}, {"id": "c9"}]}),
]


def fill(backend: BackendProcess) -> None:
    """One of everything: accounts, prompts, a queue part-way through, history, downloads."""
    backend.ok("CREATE_ACCOUNT", {"name": "Zoë", "email": "zoe@example.com"})
    backend.ok("CREATE_ACCOUNT", {"name": "second"})
    backend.ok("UPDATE_ACCOUNT", {"name": "zoë", "last_used": "2025-01-01 10:00:00"})
    backend.ok("ADD_PROMPTS", {"prompts": [{"title": f"p{n}", "lyrics": "rain", "style": "pop"} for n in range(5)]})
    queue = backend.ok("CREATE_QUEUE", {"account_name": "Zoë", "total_songs": 3, "songs_per_batch": 1})
    backend.ok("UPDATE_QUEUE_PROGRESS", {"queue_id": queue["queue_id"], "completed_count": 1, "status": "in_progress"})
    backend.ok(
        "ADD_CREATION_RECORD",
        {"record": {"song_id": "s1", "title": "Rain", "prompt_index": 0, "account_name": "Zoë", "status": "completed"}},
    )
    backend.ok("RECORD_DOWNLOADS", {"account_name": "Zoë", "clips": [{"id": "c1", "title": "Rain"}]})


def snapshot(backend: BackendProcess) -> list[Any]:
    return [backend.ok(command, payload) for command, payload in QUERIES]


def test_state_survives_a_graceful_restart_and_a_kill_9(spawn: Callable[..., BackendProcess]) -> None:
    first = spawn("studio")
    fill(first)
    before = snapshot(first)
    assert first.close() == 0

    second = spawn("studio")
    assert snapshot(second) == before
    second.ok("RENAME_ACCOUNT", {"old_name": "second", "new_name": "third"})
    before = snapshot(second)
    second.proc.kill()
    second.proc.wait()

    third = spawn("studio")
    assert snapshot(third) == before
    assert [a["name"] for a in third.ok("GET_ACCOUNTS")] == ["third", "Zoë"]


def test_a_kill_9_right_after_each_answer_loses_nothing(spawn: Callable[..., BackendProcess]) -> None:
    backend = spawn("studio")
    steps: list[tuple[str, dict[str, Any]]] = [
        ("CREATE_ACCOUNT", {"name": "main"}),
        ("ADD_PROMPTS", {"prompts": [{"style": "rock"}, {"style": "jazz"}]}),
        ("CREATE_QUEUE", {"account_name": "main", "total_songs": 2, "songs_per_batch": 1}),
        (
            "ADD_CREATION_RECORD",
            {
                "record": {
                    "song_id": "s1",
                    "title": "T",
                    "prompt_index": 0,
                    "account_name": "main",
                    "status": "completed",
                }
            },
        ),
        ("RECORD_DOWNLOADS", {"account_name": "main", "clips": [{"id": "c1"}]}),
        ("RENAME_ACCOUNT", {"old_name": "main", "new_name": "renamed"}),
    ]
    for command, payload in steps:
        backend.ok(command, payload)
        backend.proc.kill()
        backend.proc.wait()
        backend = spawn("studio")
    (account,) = backend.ok("GET_ACCOUNTS")
    assert account["name"] == "renamed"
    assert Path(account["profile_path"]).is_dir()
    (queue,) = backend.ok("GET_QUEUES")
    assert (queue["account_name"], len(queue["prompt_ids"])) == ("renamed", 2)
    assert len(backend.ok("GET_CREATION_HISTORY", {"account_name": "renamed"})["items"]) == 1
    assert len(backend.ok("GET_DOWNLOAD_HISTORY", {"account_name": "renamed"})["items"]) == 1


def test_a_rename_cut_short_between_the_move_and_the_commit_is_undone_at_start(
    spawn: Callable[..., BackendProcess], profiles: Path, tmp_path: Path
) -> None:
    """What a kill -9 in the middle of RENAME_ACCOUNT leaves: the directory moved, the names not yet changed."""
    backend = spawn("studio")
    backend.ok("CREATE_ACCOUNT", {"name": "before"})
    (profiles / "before" / "Cookies").write_text("signed in")
    assert backend.close() == 0

    with sqlite3.connect(tmp_path / "data" / "studio" / "studio.db") as db:
        db.execute("INSERT INTO profile_moves (source, target) VALUES ('before', 'after')")
    (profiles / "before").rename(profiles / "after")

    again = spawn("studio")
    (account,) = again.ok("GET_ACCOUNTS")
    assert account["name"] == "before"
    assert (profiles / "before" / "Cookies").read_text() == "signed in"
    assert not (profiles / "after").exists()
    assert again.ok("RENAME_ACCOUNT", {"old_name": "before", "new_name": "after"})["name"] == "after"
