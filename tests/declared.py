"""What a backend sends, held to what its schema (``GET_SCHEMA``) declares: an operation's progress and result.

The schema leaves objects open; here every declared object is closed, so a
field the backend sends that its type does not declare fails too: the
declared type has drifted from what is sent.
"""

from __future__ import annotations

import copy
from typing import Any

from jsonschema import Draft202012Validator

CORE_FIELDS = frozenset({"operation_id", "status"})
"""The fields the core adds to every progress event: the operation's own progress type does not declare them."""

TERMINAL = frozenset({"completed", "failed", "cancelled"})


class Declared:
    """A backend's schema, asked whether an operation's events and result are what it declares."""

    def __init__(self, schema: dict[str, Any]) -> None:
        self._commands: dict[str, Any] = schema["commands"]
        self._defs = {name: _closed(definition) for name, definition in schema["$defs"].items()}

    def problems(self, command: str, part: str, value: Any) -> list[str]:
        """Why ``value`` is not what ``command`` declares as its ``part`` (``result`` or ``progress``); [] if it
        is."""
        node = self._commands[command][part]
        validator = Draft202012Validator({**node, "$defs": self._defs})
        return [f"{command} {part} at {error.json_path}: {error.message}" for error in validator.iter_errors(value)]

    def check(self, command: str, events: list[dict[str, Any]]) -> int:
        """Assert that the payloads of an operation's events conform: in-progress ones to its progress type, a
        completed one's ``result`` to its result type. How many were checked."""
        problems: list[str] = []
        for payload in events:
            if payload["status"] == "in_progress":
                fields = {name: value for name, value in payload.items() if name not in CORE_FIELDS}
                problems += self.problems(command, "progress", fields)
            elif payload["status"] == "completed":
                problems += self.problems(command, "result", payload["result"])
        assert not problems, "\n".join(problems)
        return len(events)


def _closed(definition: dict[str, Any]) -> dict[str, Any]:
    if "properties" not in definition or "additionalProperties" in definition:
        return definition
    return {**copy.deepcopy(definition), "additionalProperties": False}
