"""A JSON Schema of everything a backend speaks, derived from its typed handlers.

Front-end types (the npm client's ``.d.ts``) and the dashboard's command
console are generated from this, so they cannot drift from the handlers.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import msgspec

from deskbridge import protocol
from deskbridge.operations import Operation
from deskbridge.router import Route

_OPERATION_STARTED: dict[str, Any] = {
    "type": "object",
    "description": "An operation started: progress events follow, then one terminal event.",
    "properties": {"operation_id": {"type": "string"}, "status": {"type": "string", "enum": ["pending"]}},
    "required": ["operation_id", "status"],
}


def backend_schema(
    routes: Mapping[str, Route], event_types: Iterable[str], error_codes: Mapping[str, Any]
) -> dict[str, Any]:
    """``{"protocol", "commands": {TYPE: {"doc", "payload", "data", "operation"}}, "events": [...],
    "error_codes": {CODE: {"meaning", "http_status", "app"}}, "$defs"}``.

    An operation's command also has ``result`` (its terminal event's ``result``) and ``progress`` (the
    fields its progress events carry); ``{}`` when its handler did not name them.
    """
    ordered = sorted(routes.values(), key=lambda r: r.type)
    types: list[Any] = []
    for route in ordered:
        types += [route.payload_type, Any if route.data_type is Operation else route.data_type]
        types += [route.result_type, route.progress_type]
    schemas, defs = msgspec.json.schema_components(types, ref_template="#/$defs/{name}")
    commands: dict[str, Any] = {}
    for index, route in enumerate(ordered):
        payload, data, result, progress = schemas[4 * index : 4 * index + 4]
        is_operation = route.data_type is Operation
        commands[route.type] = {
            "doc": route.doc,
            "payload": payload,
            "data": _OPERATION_STARTED if is_operation else data,
            "operation": is_operation,
            **({"result": result, "progress": progress} if is_operation else {}),
        }
    return {
        "protocol": protocol.PROTOCOL_VERSION,
        "commands": commands,
        "events": sorted(set(event_types)),
        "error_codes": dict(error_codes),
        "$defs": defs,
    }
