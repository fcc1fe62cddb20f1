"""Hostile values in every string field of every command: a clear answer, never a crash or a stray file."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

from tests.support import BackendProcess

HOSTILE = [
    "",
    " ",
    "x" * 100_000,
    "🎵" * 40 + "\u202e\u200b\u0301",
    "Ünïcödé 名前 اسم",
    "nul\x00byte",
    "line\nbreak",
    "\x1b[2J\x1b[31mred",
    "carriage\rreturn",
    "del\x7f",
    "next\x85line",
    "../../../../etc/passwd",
    "/etc/passwd",
    "..\\..\\Windows\\System32",
    "C:\\Windows\\win.ini",
    "~/.ssh/id_rsa",
    "\\\\server\\share\\x.csv",
    "file:///etc/passwd",
    "%2e%2e%2f%2e%2e%2f",
    "CON",
    "'; DROP TABLE accounts; --",
    '" OR 1=1 --',
]

PROMPT = {"title": "t", "lyrics": "l", "style": "s", "tags": ["a"]}
RECORD = {
    "song_id": "s",
    "title": "t",
    "prompt_index": 0,
    "account_name": "main",
    "status": "completed",
    "lyrics": "l",
    "style": "s",
    "tags": ["a"],
    "queue_id": "q",
    "error": "e",
    "created_at": "2025-01-01 10:00:00",
}

# (command, a payload that would be accepted, the string fields to replace, as key paths)
FIELDS: list[tuple[str, dict[str, Any], list[tuple[Any, ...]]]] = [
    ("CREATE_ACCOUNT", {"name": "fresh", "email": "a@b.co"}, [("name",), ("email",)]),
    (
        "UPDATE_ACCOUNT",
        {"name": "main", "last_used": "2025-01-01 10:00:00", "email": "a@b.co"},
        [("name",), ("last_used",), ("email",)],
    ),
    ("RENAME_ACCOUNT", {"old_name": "main", "new_name": "main"}, [("old_name",), ("new_name",)]),
    ("DELETE_ACCOUNT", {"name": "nobody", "delete_profile": True}, [("name",)]),
    ("GET_ACCOUNT_PROFILE_PATH", {"name": "main"}, [("name",)]),
    ("GET_QUEUES", {"account_name": "main"}, [("account_name",)]),
    (
        "CREATE_QUEUE",
        {"account_name": "main", "total_songs": 1, "songs_per_batch": 1, "prompts": [PROMPT], "workspace": "w"},
        [
            ("account_name",),
            ("workspace",),
            ("prompts", 0, "title"),
            ("prompts", 0, "lyrics"),
            ("prompts", 0, "style"),
            ("prompts", 0, "tags", 0),
        ],
    ),
    ("REMOVE_QUEUE", {"queue_id": "q"}, [("queue_id",)]),
    (
        "UPDATE_QUEUE_PROGRESS",
        {"queue_id": "q", "completed_count": 0, "status": "in_progress", "message": "m"},
        [("queue_id",), ("status",), ("message",)],
    ),
    (
        "ADD_PROMPTS",
        {"prompts": [PROMPT]},
        [("prompts", 0, "title"), ("prompts", 0, "lyrics"), ("prompts", 0, "style"), ("prompts", 0, "tags", 0)],
    ),
    ("IMPORT_PROMPTS", {"path": "/nonexistent/prompts.json", "format": "json"}, [("path",), ("format",)]),
    ("GET_PROMPTS", {"status": "all", "queue_id": "q"}, [("status",), ("queue_id",)]),
    ("VALIDATE_PROMPTS", {"requested_total": 1}, [("requested_total",)]),
    ("DELETE_PROMPT", {"prompt_id": 1}, [("prompt_id",)]),
    ("GET_DOWNLOAD_HISTORY", {"account_name": "main"}, [("account_name",)]),
    (
        "GET_NEW_CLIPS",
        {"account_name": "main", "all_clips": [{"id": "c", "title": "t"}]},
        [("account_name",), ("all_clips", 0, "id"), ("all_clips", 0, "title")],
    ),
    (
        "RECORD_DOWNLOADS",
        {"account_name": "main", "clips": [{"id": "c", "title": "t", "file_path": "/m/x.mp3"}]},
        [("account_name",), ("clips", 0, "id"), ("clips", 0, "title"), ("clips", 0, "file_path")],
    ),
    ("CLEAR_DOWNLOAD_HISTORY", {"account_name": "main"}, [("account_name",)]),
    ("GET_CREATION_HISTORY", {"account_name": "main", "status": "completed"}, [("account_name",), ("status",)]),
    (
        "ADD_CREATION_RECORD",
        {"record": RECORD},
        [
            ("record", key)
            for key in (
                "song_id",
                "title",
                "account_name",
                "status",
                "lyrics",
                "style",
                "queue_id",
                "error",
                "created_at",
            )
        ]
        + [("record", "tags", 0)],
    ),
    (
        "EXPORT_HISTORY_TO_CSV",
        {"output_path": "/nonexistent/export.csv", "account_name": "main"},
        [("output_path",), ("account_name",)],
    ),
    ("SEARCH_HISTORY", {"keyword": "k", "account_name": "main"}, [("keyword",), ("account_name",)]),
]

EXPECTED_CODES = {
    "INVALID_PAYLOAD",
    "ACCOUNT_NOT_FOUND",
    "ACCOUNT_ALREADY_EXISTS",
    "QUEUE_NOT_FOUND",
    "INVALID_QUEUE_PARAMETERS",
    "INSUFFICIENT_PROMPTS",
}


def replaced(payload: dict[str, Any], path: tuple[Any, ...], value: Any) -> dict[str, Any]:
    result = copy.deepcopy(payload)
    target: Any = result
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    return result


def test_every_string_field_of_every_command_withstands_hostile_values(
    studio: BackendProcess, profiles: Path, tmp_path: Path
) -> None:
    studio.ok("CREATE_ACCOUNT", {"name": "main"})
    answered = 0
    for command, payload, paths in FIELDS:
        for path in paths:
            for value in HOSTILE:
                response = studio.call(command, replaced(payload, path, value))
                answered += 1
                context = (command, path, value[:40])
                if not response["success"]:
                    assert response["error_code"] in EXPECTED_CODES, (context, response)
                    assert response["error"], context
                elif command == "CREATE_ACCOUNT":
                    studio.ok("DELETE_ACCOUNT", {"name": response["data"]["name"], "delete_profile": True})
                elif command == "RENAME_ACCOUNT":
                    studio.ok("RENAME_ACCOUNT", {"old_name": response["data"]["name"], "new_name": "main"})
    assert answered > 1000
    assert [a["name"] for a in studio.ok("GET_ACCOUNTS")] == ["main"]
    assert sorted(p.name for p in profiles.iterdir()) == ["main"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data"]
    assert not any(b"Traceback" in line for line in studio.stderr_lines)


def test_names_with_path_tricks_are_refused_before_they_reach_the_disk(studio: BackendProcess) -> None:
    for name in ["../../../../etc/passwd", "/etc/passwd", "..\\..\\Windows", "~/.ssh", "CON", "a/../../b"]:
        for command, payload in [
            ("CREATE_ACCOUNT", {"name": name}),
            ("GET_ACCOUNT_PROFILE_PATH", {"name": name}),
            ("DELETE_ACCOUNT", {"name": name, "delete_profile": True}),
            ("RENAME_ACCOUNT", {"old_name": name, "new_name": "x"}),
        ]:
            response = studio.error(command, payload)
            assert response["error_code"] == "INVALID_PAYLOAD", (command, name)
            assert "not allowed" in response["error"]


def test_text_that_is_not_unicode_is_refused_and_the_backend_goes_on(studio: BackendProcess) -> None:
    studio.send_raw(b'{"id": "surrogate", "type": "CREATE_ACCOUNT", "payload": {"name": "a\\ud800"}}\n')
    studio.send_raw(b'{"id": "latin-1", "type": "CREATE_ACCOUNT", "payload": {"name": "caf\xe9"}}\n')
    for _ in range(2):
        assert studio.next_message()["error_code"] == "PARSE_ERROR"
    assert studio.ok("GET_ACCOUNTS") == []


def test_a_path_the_system_refuses_is_invalid_payload_naming_the_field(studio: BackendProcess, tmp_path: Path) -> None:
    """A name over 255 bytes or a path over the system's limit is refused like a relative path, at its field (it
    was INTERNAL_ERROR 'File name too long' from the first call that touched it)."""
    long_name, deep = "a" * 300, "é/" * 2040  # 4080 characters, 6120 bytes
    cases = [
        ("EXPORT_HISTORY_TO_CSV", {"output_path": f"{tmp_path}/{long_name}.csv"}, "$.output_path"),
        ("EXPORT_HISTORY_TO_CSV", {"output_path": f"{tmp_path}/{long_name}/history.csv"}, "$.output_path"),
        ("EXPORT_HISTORY_TO_CSV", {"output_path": f"/{deep}h.csv"}, "$.output_path"),
        ("IMPORT_PROMPTS", {"path": f"{tmp_path}/{long_name}.json"}, "$.path"),
        ("IMPORT_PROMPTS", {"path": f"/{deep}p.json"}, "$.path"),
        ("DOWNLOAD_CLIP", {"clip": {"id": "c1"}, "output_dir": f"{tmp_path}/{long_name}"}, "$.output_dir"),
        ("BATCH_DOWNLOAD", {"clips": [{"id": "c1"}], "output_dir": f"/{deep}"}, "$.output_dir"),
    ]
    for command, payload, field in cases:
        response = studio.error(command, payload)
        assert response["error_code"] == "INVALID_PAYLOAD", (command, field, response["error"])
        assert response["details"]["fields"] == [field], (command, response)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data"]
