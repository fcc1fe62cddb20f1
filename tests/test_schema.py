"""The schema a front end generates its types from: derived from the handlers, so it cannot drift."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from typing import Any

from tests.declared import TERMINAL, Declared
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


def test_every_operation_names_its_result_and_progress(spawn: Callable[..., BackendProcess]) -> None:
    schema = spawn("studio", "guardian", "diag").ok("GET_SCHEMA")
    operations = {name: command for name, command in schema["commands"].items() if command["operation"]}
    named = {"COUNT", "CREATE_SONGS_BATCH", "START_QUEUE_EXECUTION", "DOWNLOAD_CLIP", "BATCH_DOWNLOAD"}
    assert set(operations) >= named
    for name, command in operations.items():
        for part in ("result", "progress"):
            assert resolve(schema, command[part]).get("type") == "object", f"{name}: its {part} is not declared"
    count_progress = resolve(schema, operations["COUNT"]["progress"])["properties"]
    assert set(count_progress) == {"current", "total", "progress", "message"}
    assert "result" not in schema["commands"]["PING"]


def test_what_an_operation_sends_is_what_its_schema_declares(spawn: Callable[..., BackendProcess]) -> None:
    """Each progress event and the result, held to the declared types with no field left undeclared (the
    download operations' are held so in tests/studio/downloads, against the stand-in Suno)."""
    backend = spawn("diag")
    declared = Declared(backend.ok("GET_SCHEMA"))
    operation = backend.ok("COUNT", {"to": 5, "interval": 0.05})["operation_id"]
    backend.wait_event(lambda e: e["payload"].get("operation_id") == operation and e["payload"]["status"] in TERMINAL)
    events = [e["payload"] for e in backend.events if e["payload"].get("operation_id") == operation]

    assert declared.check("COUNT", events) == len(events) > 2
    assert events[-1]["status"] == "completed"
    assert declared.problems("COUNT", "result", {"counted": 5, "extra": 1}), "a field not declared"
    assert declared.problems("COUNT", "progress", {"current": "1"}), "a field of the wrong type"


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
