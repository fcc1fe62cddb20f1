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


def _data_type(route: Route) -> Any:
    return Any if route.data_type is Operation else route.data_type


def backend_schema(
    routes: Mapping[str, Route], event_types: Iterable[str], error_codes: Mapping[str, Any]
) -> dict[str, Any]:
    """``{"protocol", "commands": {TYPE: {"doc", "payload", "data", "operation"}}, "events": [...],
    "error_codes": {CODE: {"meaning", "http_status", "app"}}, "$defs"}``."""
    ordered = sorted(routes.values(), key=lambda r: r.type)
    types: list[Any] = []
    for route in ordered:
        types += [route.payload_type, _data_type(route)]
    schemas, defs = msgspec.json.schema_components(types, ref_template="#/$defs/{name}")
    commands: dict[str, Any] = {}
    for index, route in enumerate(ordered):
        is_operation = route.data_type is Operation
        commands[route.type] = {
            "doc": route.doc,
            "payload": schemas[2 * index],
            "data": _OPERATION_STARTED if is_operation else schemas[2 * index + 1],
            "operation": is_operation,
        }
    return {
        "protocol": protocol.PROTOCOL_VERSION,
        "commands": commands,
        "events": sorted(set(event_types)),
        "error_codes": dict(error_codes),
        "$defs": defs,
    }
