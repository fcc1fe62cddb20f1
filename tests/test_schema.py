"""The schema a front end generates its types from: derived from the handlers, so it cannot drift."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from typing import Any

from tests.support import DESKBRIDGE, BackendProcess


def resolve(schema: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    ref = node.get("$ref")
    return schema["$defs"][ref.rsplit("/", 1)[1]] if ref else node


def test_the_cli_and_the_command_give_the_same_schema(spawn: Callable[..., BackendProcess]) -> None:
    printed = json.loads(
        subprocess.run([*DESKBRIDGE, "schema", "diag"], capture_output=True, check=True, timeout=60).stdout
    )
    served = spawn("diag").ok("GET_SCHEMA")
    assert printed == served


def test_every_command_has_a_payload_and_data_schema(spawn: Callable[..., BackendProcess]) -> None:
    backend = spawn("studio", "guardian", "diag")
    schema = backend.ok("GET_SCHEMA")
    assert set(schema["commands"]) == set(backend.ready["commands"])
    for command in schema["commands"].values():
        assert {"doc", "payload", "data", "operation"} <= set(command)
        assert resolve(schema, command["payload"])["type"] == "object"


UNTYPED_OPERATIONS = {"DOWNLOAD_CLIP", "BATCH_DOWNLOAD"}
"""Operations whose result and progress are not declared yet (their shapes changed with the download allowance)."""


def test_every_operation_names_its_result_and_progress(spawn: Callable[..., BackendProcess]) -> None:
    schema = spawn("studio", "guardian", "diag").ok("GET_SCHEMA")
    operations = {name: command for name, command in schema["commands"].items() if command["operation"]}
    assert set(operations) >= {"COUNT", "CREATE_SONGS_BATCH", "START_QUEUE_EXECUTION", *UNTYPED_OPERATIONS}
    for name, command in operations.items():
        for part in ("result", "progress"):
            typed = resolve(schema, command[part]).get("type") == "object"
            assert typed != (name in UNTYPED_OPERATIONS), f"{name}: its {part} is typed: {typed}"
    count_progress = resolve(schema, operations["COUNT"]["progress"])["properties"]
    assert set(count_progress) == {"current", "total", "progress", "message"}
    assert "result" not in schema["commands"]["PING"]


def test_operations_are_flagged_and_payload_fields_are_typed(spawn: Callable[..., BackendProcess]) -> None:
    schema = spawn("diag").ok("GET_SCHEMA")
    count = schema["commands"]["COUNT"]
    assert count["operation"] is True
    assert count["data"]["required"] == ["operation_id", "status"]
    fields = resolve(schema, count["payload"])["properties"]
    assert fields["to"]["type"] == "integer"
    assert fields["to"]["maximum"] == 1_000_000
    assert schema["commands"]["PING"]["operation"] is False
    assert "COUNT_PROGRESS" in schema["events"]
