"""Queues: created from given and library prompts, moved through their states, every change announced."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.support import BackendProcess


@pytest.fixture
def main(studio: BackendProcess) -> BackendProcess:
    """A studio with an account ``main`` and five library prompts ``p0`` .. ``p4``."""
    studio.ok("CREATE_ACCOUNT", {"name": "main"})
    studio.ok("ADD_PROMPTS", {"prompts": [{"title": f"p{n}", "style": "pop"} for n in range(5)]})
    return studio


def queue_events(backend: BackendProcess, queue_id: str, count: int) -> list[dict[str, Any]]:
    """The first ``count`` QUEUE_PROGRESS payloads of one queue, waiting for them if needed."""
    while len(found := [e for e in backend.events if e.get("payload", {}).get("queue_id") == queue_id]) < count:
        backend.next_message(timeout=10)
    assert all(e["type"] == "QUEUE_PROGRESS" and e["id"] == "progress-event" for e in found)
    return [e["payload"] for e in found[:count]]


def titles(backend: BackendProcess, **query: Any) -> list[str]:
    return [p["title"] for p in backend.ok("GET_PROMPTS", query)["items"]]


def test_a_queue_takes_given_prompts_first_then_the_oldest_of_the_library(main: BackendProcess) -> None:
    queue = main.ok(
        "CREATE_QUEUE",
        {
            "account_name": "MAIN",
            "total_songs": 3,
            "songs_per_batch": 2,
            "prompts": [{"title": "mine", "lyrics": "la"}],
        },
    )
    assert queue["account_name"] == "main"
    assert queue["status"] == "pending"
    assert (queue["total_songs"], queue["songs_per_batch"], queue["completed_count"], queue["progress"]) == (3, 2, 0, 0)
    assert len(queue["prompt_ids"]) == 3
    assert titles(main, queue_id=queue["queue_id"]) == ["mine", "p0", "p1"]
    assert titles(main, status="available") == ["p2", "p3", "p4"]
    assert main.ok("GET_QUEUES") == [queue]
    assert main.ok("GET_QUEUES", {"account_name": "main"}) == [queue]
    (created,) = queue_events(main, queue["queue_id"], 1)
    assert created == {
        "operation_id": queue["queue_id"],
        "queue_id": queue["queue_id"],
        "account_name": "main",
        "change": "created",
        "status": "pending",
        "completed": 0,
        "total": 3,
        "progress": 0,
        "message": "created: 0/3 songs",
    }


def test_too_few_prompts_is_insufficient_prompts_and_changes_nothing(main: BackendProcess) -> None:
    short = main.error(
        "CREATE_QUEUE", {"account_name": "main", "total_songs": 10, "songs_per_batch": 2, "prompts": [{"style": "x"}]}
    )
    assert short["error_code"] == "INSUFFICIENT_PROMPTS"
    assert short["details"] == {
        "requested_total": 10,
        "given": 1,
        "available": 5,
        "missing": 4,
        "too_long": 0,
        "too_long_ids": [],
    }
    assert main.ok("GET_QUEUES") == []
    assert titles(main, status="available") == ["p0", "p1", "p2", "p3", "p4"], "the given prompt was not kept"
    assert main.ok("VALIDATE_PROMPTS", {"requested_total": 6}) == {
        "valid": False,
        "requested_total": 6,
        "available": 5,
        "missing": 1,
        "too_long": 0,
        "too_long_ids": [],
    }


@pytest.mark.parametrize(
    ("field", "too_long", "message"),
    [
        ("lyrics", "la " * 1_700, "the lyrics: 5100 characters, more than the 5000 Suno takes"),
        ("title", "t" * 101, "the title: 101 characters, more than the 100 Suno takes"),
    ],
)
def test_a_given_prompt_over_a_limit_is_refused_as_create_songs_batch_refuses_it(
    main: BackendProcess, field: str, too_long: str, message: str
) -> None:
    prompts = [{"title": "a", "style": "pop"}, {"title": "b", "style": "pop"}, {"style": "pop", field: too_long}]

    refused = main.error(
        "CREATE_QUEUE", {"account_name": "main", "total_songs": 3, "songs_per_batch": 1, "prompts": prompts}
    )

    assert refused["error_code"] == "INVALID_PAYLOAD"
    assert refused["details"] == {"fields": [f"$.prompts[2].{field}"]}
    assert refused["error"] == message
    batch = main.error("CREATE_SONGS_BATCH", {"account_name": "main", "prompts": prompts})
    assert (batch["error_code"], batch["error"], batch["details"]) == ("INVALID_PAYLOAD", message, refused["details"])
    assert main.ok("GET_QUEUES") == []
    assert titles(main) == ["p0", "p1", "p2", "p3", "p4"], "nothing was added or reserved"
    assert titles(main, status="available") == ["p0", "p1", "p2", "p3", "p4"]


def test_library_prompts_over_a_limit_are_left_unused_and_named_when_too_few_fit(main: BackendProcess) -> None:
    """p0..p4 are old enough to be taken first, but two newer ones sit between them and the last fitting one."""
    long_lyrics = {"title": "long lyrics", "lyrics": "x" * 5_001}
    long_title = {"title": "t" * 101, "style": "pop"}
    ids = main.ok("ADD_PROMPTS", {"prompts": [long_lyrics, long_title, {"title": "last", "style": "pop"}]})[
        "prompt_ids"
    ]

    queue = main.ok("CREATE_QUEUE", {"account_name": "main", "total_songs": 6, "songs_per_batch": 2})

    assert titles(main, queue_id=queue["queue_id"]) == ["p0", "p1", "p2", "p3", "p4", "last"]
    assert titles(main, status="available") == ["long lyrics", "t" * 101], "they stay in the library, unused"
    check = main.ok("VALIDATE_PROMPTS", {"requested_total": 1})
    assert check == {
        "valid": False,
        "requested_total": 1,
        "available": 0,
        "missing": 1,
        "too_long": 2,
        "too_long_ids": ids[:2],
    }
    short = main.error(
        "CREATE_QUEUE", {"account_name": "main", "total_songs": 2, "songs_per_batch": 1, "prompts": [{"style": "x"}]}
    )
    assert short["error_code"] == "INSUFFICIENT_PROMPTS"
    assert short["details"] == {
        "requested_total": 2,
        "given": 1,
        "available": 0,
        "missing": 1,
        "too_long": 2,
        "too_long_ids": ids[:2],
    }
    assert f"left out as longer than Suno takes: 2 (prompts {ids[0]}, {ids[1]})" in short["error"]
    assert main.ok("GET_QUEUES") == [queue]


def test_too_long_prompts_named_are_the_oldest_few_and_counted_whole(studio: BackendProcess) -> None:
    studio.ok("CREATE_ACCOUNT", {"name": "main"})
    ids = studio.ok("ADD_PROMPTS", {"prompts": [{"title": f"{n:03}" + "t" * 100, "style": "pop"} for n in range(25)]})[
        "prompt_ids"
    ]

    short = studio.error("CREATE_QUEUE", {"account_name": "main", "total_songs": 1, "songs_per_batch": 1})

    assert (short["details"]["too_long"], short["details"]["too_long_ids"]) == (25, ids[:20])
    assert f"(prompts {', '.join(map(str, ids[:20]))}, ...)" in short["error"]


def test_the_limits_in_the_config_are_what_counts_in_characters(
    spawn: Callable[..., BackendProcess], tmp_path: Path
) -> None:
    data = tmp_path / "data"
    before = spawn("studio", data_dir=data)
    before.ok("CREATE_ACCOUNT", {"name": "main"})
    ids = before.ok(
        "ADD_PROMPTS",
        {"prompts": [{"title": "eleven char", "style": "pop"}, {"title": "🎵" * 10, "style": "é" * 20}]},
    )["prompt_ids"]
    assert before.ok("VALIDATE_PROMPTS", {"requested_total": 2})["valid"] is True
    assert before.close() == 0
    config = tmp_path / "config.json"
    config.write_text(json.dumps({"studio": {"suno": {"create_page": {"limits": {"title": 10, "style": 20}}}}}))
    after = spawn("studio", data_dir=data, extra=("--config", str(config)))

    assert after.ok("VALIDATE_PROMPTS", {"requested_total": 1})["too_long_ids"] == [ids[0]]
    queue = after.ok("CREATE_QUEUE", {"account_name": "main", "total_songs": 1, "songs_per_batch": 1})
    assert queue["prompt_ids"] == [ids[1]], "ten emoji and twenty accented letters fit: characters, not bytes"
    for field, text, message in [
        ("title", "eleven char", "the title: 11 characters, more than the 10 Suno takes"),
        ("style", "é" * 21, "the style: 21 characters, more than the 20 Suno takes"),
    ]:
        refused = after.error(
            "CREATE_QUEUE",
            {"account_name": "main", "total_songs": 1, "songs_per_batch": 1, "prompts": [{"style": "é", field: text}]},
        )
        assert (refused["error"], refused["details"]) == (message, {"fields": [f"$.prompts[0].{field}"]})
    fits = after.ok(
        "CREATE_QUEUE",
        {
            "account_name": "main",
            "total_songs": 1,
            "songs_per_batch": 1,
            "prompts": [{"title": "🎵" * 10, "style": "é" * 20}],
        },
    )
    assert after.ok("GET_QUEUES") == [queue, fits]


def test_queue_parameters_and_account_are_checked(main: BackendProcess) -> None:
    invalid = [
        ({"total_songs": 0, "songs_per_batch": 1}, "$.total_songs"),
        ({"total_songs": -3, "songs_per_batch": 1}, "$.total_songs"),
        ({"total_songs": 1001, "songs_per_batch": 1}, "$.total_songs"),
        ({"total_songs": 3, "songs_per_batch": 0}, "$.songs_per_batch"),
        ({"total_songs": 3, "songs_per_batch": 4}, "$.songs_per_batch"),
        ({"total_songs": 1, "songs_per_batch": 1, "prompts": [{"style": "a"}, {"style": "b"}]}, "$.prompts"),
    ]
    for params, field in invalid:
        response = main.error("CREATE_QUEUE", {"account_name": "main", **params})
        assert response["error_code"] == "INVALID_QUEUE_PARAMETERS", params
        assert response["details"]["fields"] == [field], params
    assert (
        main.error("CREATE_QUEUE", {"account_name": "ghost", "total_songs": 1, "songs_per_batch": 1})["error_code"]
        == "ACCOUNT_NOT_FOUND"
    )
    for payload in [
        {"account_name": "main", "total_songs": "3", "songs_per_batch": 1},
        {"account_name": "main", "total_songs": 1.5, "songs_per_batch": 1},
        {"account_name": "main", "total_songs": True, "songs_per_batch": 1},
        {"account_name": "main", "songs_per_batch": 1},
        {"account_name": "main", "total_songs": 1, "songs_per_batch": 1, "prompts": [{"title": "no body"}]},
        {"account_name": "main", "total_songs": 1, "songs_per_batch": 1, "workspace": "../other"},
        {"account_name": "main", "total_songs": 1, "songs_per_batch": 1, "workspace": ""},
        {"account_name": "main", "total_songs": 1, "songs_per_batch": 1, "workspace": 7},
    ]:
        assert main.error("CREATE_QUEUE", payload)["error_code"] == "INVALID_PAYLOAD", payload
    assert main.error("GET_QUEUES", {"account_name": "ghost"})["error_code"] == "ACCOUNT_NOT_FOUND"
    assert main.ok("GET_QUEUES") == []


def test_progress_moves_forward_marks_prompts_used_and_is_announced(main: BackendProcess) -> None:
    queue = main.ok("CREATE_QUEUE", {"account_name": "main", "total_songs": 4, "songs_per_batch": 2})
    queue_id = queue["queue_id"]

    started = main.ok("UPDATE_QUEUE_PROGRESS", {"queue_id": queue_id, "completed_count": 0, "status": "in_progress"})
    assert started["status"] == "in_progress"
    halfway = main.ok(
        "UPDATE_QUEUE_PROGRESS",
        {"queue_id": queue_id, "completed_count": 2, "status": "in_progress", "message": "batch 1/2 done"},
    )
    assert (halfway["completed_count"], halfway["progress"], halfway["message"]) == (2, 50, "batch 1/2 done")
    assert titles(main, status="used") == ["p0", "p1"]
    done = main.ok("UPDATE_QUEUE_PROGRESS", {"queue_id": queue_id, "completed_count": 4, "status": "completed"})
    assert (done["status"], done["progress"]) == ("completed", 100)
    assert titles(main, status="used") == ["p0", "p1", "p2", "p3"]

    events = queue_events(main, queue_id, 4)
    assert [(e["change"], e["status"], e["completed"], e["progress"]) for e in events] == [
        ("created", "pending", 0, 0),
        ("updated", "in_progress", 0, 0),
        ("updated", "in_progress", 2, 50),
        ("updated", "completed", 4, 100),
    ]
    assert events[2]["message"] == "batch 1/2 done"
    seqs = [e["seq"] for e in main.events]
    assert seqs == sorted(seqs)


def test_impossible_moves_and_counts_are_refused(main: BackendProcess) -> None:
    queue_id = main.ok("CREATE_QUEUE", {"account_name": "main", "total_songs": 3, "songs_per_batch": 1})["queue_id"]

    def refused(count: int, status: str) -> dict[str, Any]:
        response = main.error(
            "UPDATE_QUEUE_PROGRESS", {"queue_id": queue_id, "completed_count": count, "status": status}
        )
        assert response["error_code"] == "INVALID_QUEUE_PARAMETERS", (count, status)
        return response

    refused(0, "completed")  # pending cannot complete without running
    refused(1, "pending")  # a pending queue has made nothing
    refused(4, "in_progress")  # more than total
    refused(-1, "in_progress")
    main.ok("UPDATE_QUEUE_PROGRESS", {"queue_id": queue_id, "completed_count": 2, "status": "in_progress"})
    assert refused(1, "in_progress")["details"]["completed_count"] == 2  # never backwards
    refused(2, "pending")  # no way back to pending
    refused(2, "completed")  # completed means all songs
    main.ok("UPDATE_QUEUE_PROGRESS", {"queue_id": queue_id, "completed_count": 2, "status": "failed"})
    refused(2, "failed")  # finished queues are final
    refused(3, "in_progress")

    assert (
        main.error("UPDATE_QUEUE_PROGRESS", {"queue_id": queue_id, "completed_count": 2, "status": "done"})[
            "error_code"
        ]
        == "INVALID_PAYLOAD"
    )
    missing = main.error(
        "UPDATE_QUEUE_PROGRESS", {"queue_id": "no-such-queue", "completed_count": 0, "status": "in_progress"}
    )
    assert missing["error_code"] == "QUEUE_NOT_FOUND"
    (queue,) = main.ok("GET_QUEUES")
    assert (queue["status"], queue["completed_count"]) == ("failed", 2)


def test_finished_removed_and_cleared_queues_give_unused_prompts_back(main: BackendProcess) -> None:
    cancelled = main.ok("CREATE_QUEUE", {"account_name": "main", "total_songs": 2, "songs_per_batch": 1})
    main.ok("UPDATE_QUEUE_PROGRESS", {"queue_id": cancelled["queue_id"], "completed_count": 1, "status": "cancelled"})
    assert titles(main, status="available") == ["p1", "p2", "p3", "p4"]
    assert titles(main, queue_id=cancelled["queue_id"]) == ["p0"], "the used prompt stays with its queue"

    removed = main.ok("CREATE_QUEUE", {"account_name": "main", "total_songs": 2, "songs_per_batch": 2})
    assert main.ok("REMOVE_QUEUE", {"queue_id": removed["queue_id"]}) == {
        "queue_id": removed["queue_id"],
        "removed": True,
        "released_prompts": 2,
    }
    assert main.error("REMOVE_QUEUE", {"queue_id": removed["queue_id"]})["error_code"] == "QUEUE_NOT_FOUND"
    assert queue_events(main, removed["queue_id"], 2)[1]["change"] == "removed"

    first = main.ok("CREATE_QUEUE", {"account_name": "main", "total_songs": 1, "songs_per_batch": 1})
    second = main.ok("CREATE_QUEUE", {"account_name": "main", "total_songs": 2, "songs_per_batch": 1})
    main.ok("UPDATE_QUEUE_PROGRESS", {"queue_id": second["queue_id"], "completed_count": 1, "status": "in_progress"})
    cleared = main.ok("CLEAR_QUEUES")
    assert cleared == {
        "removed": 3,
        "queue_ids": [cancelled["queue_id"], first["queue_id"], second["queue_id"]],
        "released_prompts": 2,
    }
    assert main.ok("GET_QUEUES") == []
    assert titles(main, status="used") == ["p0", "p2"]
    assert titles(main, status="available") == ["p1", "p3", "p4"]
    assert queue_events(main, second["queue_id"], 3)[2]["change"] == "removed"
