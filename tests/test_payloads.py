"""Strict payloads: a typo is an error naming the field and the one it most likely meant, never a silent default."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

import msgspec
import pytest

from deskbridge.payloads import FOREIGN, Payload
from deskbridge.router import Commands
from tests.support import BackendProcess


def test_typos_in_payloads_and_command_names_are_refused_with_a_suggestion(
    spawn: Callable[..., BackendProcess],
) -> None:
    backend = spawn("diag", "guardian")

    count = backend.error("COUNT", {"intervall": 5})
    assert count["error_code"] == "INVALID_PAYLOAD"
    assert "`intervall`" in count["error"]
    assert "did you mean `interval`?" in count["error"]
    assert count["details"]["unknown_field"] == "intervall"
    assert count["details"]["did_you_mean"] == "interval"
    assert count["details"]["fields"] == ["$.intervall"]
    assert "blocking" in count["details"]["known_fields"]

    far = backend.error("SLEEP", {"seconds": 0, "zzzzzz": 1})
    assert "did_you_mean" not in far["details"]
    assert "known fields: seconds" in far["error"]

    builtin = backend.error("GET_EVENTS", {"afterr": 0})
    assert builtin["details"]["did_you_mean"] == "after"

    nested = backend.ok("DESKTOP_COMMAND", {"command": "set_daily_limit", "params": {"minuts": 30}})
    assert nested["success"] is False
    assert nested["error_code"] == "INVALID_PAYLOAD"
    assert nested["details"]["did_you_mean"] == "minutes"
    assert nested["details"]["fields"] == ["$.params.minuts"]

    unknown = backend.error("count", {})
    assert unknown["error_code"] == "UNKNOWN_COMMAND"
    assert unknown["details"] == {"did_you_mean": "COUNT"}
    assert "did you mean COUNT?" in unknown["error"]
    assert "details" not in backend.error("XYZZY_PLUGH", {})

    assert backend.ok("COUNT", {"to": 1, "interval": 0})["operation_id"]


class Inner(msgspec.Struct):
    name: str = ""


class Outer(Payload):
    items: list[Inner] = msgspec.field(default_factory=list)


class Record(Payload):
    item: Annotated[Inner, FOREIGN]


def test_a_lenient_payload_struct_is_refused_when_its_type_is_first_read() -> None:
    commands = Commands()
    commands.add("NESTED", _takes(Outer))
    with pytest.raises(TypeError, match="Inner must forbid unknown fields"):
        _ = commands.routes()["NESTED"].payload_type  # read by the schema, or the command's first arrival
    commands.add("OPEN", lambda payload: payload)  # an untyped (dict) payload stays open on purpose
    commands.add("RECORD", _takes(Record))  # and so does a record an outside service wrote, marked FOREIGN
    assert commands.routes()["RECORD"].payload_type is Record


def _takes(payload_type: type) -> Callable[..., None]:
    def handler(payload: object) -> None:
        del payload

    handler.__annotations__ = {"payload": payload_type, "return": None}
    return handler
