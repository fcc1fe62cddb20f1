"""``/openapi.json``: the web door's HTTP surface, described from the routes themselves.

The payload schemas come from the handlers' types (msgspec), so the document
cannot drift from what the router validates.
"""

from __future__ import annotations

from typing import Any

import msgspec

from deskbridge import __version__
from deskbridge.backend import Backend
from deskbridge.transports.web.http import DOOR_CODES

_REF = "#/components/schemas/{name}"
_ERROR = {"$ref": "#/components/schemas/ErrorResponse"}
_ENVELOPE: dict[str, Any] = {
    "type": "object",
    "required": ["id", "type", "success", "timestamp"],
    "properties": {
        "id": {
            "type": ["string", "number", "null"],
            "description": "the command's id; an error answer to an id that was not a string echoes a number"
            " as sent, anything else as null",
        },
        "type": {"type": "string"},
        "success": {"type": "boolean"},
        "data": {},
        "error": {"type": ["string", "null"]},
        "error_code": {"type": "string"},
        "details": {},
        "timestamp": {"type": "integer"},
    },
}
_COMMAND = {
    "type": "object",
    "required": ["id", "type"],
    "properties": {
        "id": {"type": "string"},
        "type": {"type": "string"},
        "payload": {"type": "object"},
        "timestamp": {"type": "number"},
    },
}
_EVENTS = {
    "type": "object",
    "required": ["events", "last_seq", "head", "after", "epoch", "recovered", "more"],
    "properties": {
        "events": {"type": "array", "items": {"type": "object", "required": ["seq"]}},
        "last_seq": {"type": "integer", "description": "the cursor to send as `after` next time"},
        "head": {"type": "integer", "description": "the newest `seq` on disk"},
        "after": {"type": "integer", "description": "where this answer starts: your cursor, or 0 in a new epoch"},
        "epoch": {"type": "string"},
        "recovered": {"type": "boolean", "description": "false: history after your cursor is gone; reload state"},
        "more": {"type": "boolean", "description": "the page limit cut the answer short: poll again at once"},
    },
}


def _query(name: str, kind: str, description: str) -> dict[str, Any]:
    return {"name": name, "in": "query", "required": False, "schema": {"type": kind}, "description": description}


_POLL_PARAMS = [
    _query("after", "integer", "the last seq you saw (also acknowledges it); none: the server keeps your cursor"),
    _query("epoch", "string", "the epoch that seq belongs to"),
    _query("limit", "integer", "at most this many events (1-10000, default 1000)"),
    _query("wait", "number", "long-poll: wait up to this many seconds (max 60) for an event"),
    _query("client_id", "string", "who you are, so your acknowledgements hold back retention"),
]


def _responses(ok: dict[str, Any], *errors: int) -> dict[str, Any]:
    out: dict[str, Any] = {"200": {"description": "OK", "content": {"application/json": {"schema": ok}}}}
    for status in (400, 401, 421, *errors):
        out[str(status)] = {"description": "refused", "content": {"application/json": {"schema": _ERROR}}}
    return out


def describe(backend: Backend) -> dict[str, Any]:
    """An OpenAPI 3.1 document for the door's own routes and every app's HTTP endpoints."""
    poll = {"summary": "Events after a cursor (polling, long-polling)", "parameters": _POLL_PARAMS,
            "responses": _responses({"$ref": "#/components/schemas/Events"})}  # fmt: skip
    paths: dict[str, Any] = {
        "/api/command": {
            "post": {
                "summary": "Run one command; the body is its response envelope",
                "requestBody": {"required": True, "content": {"application/json": {"schema": _COMMAND}}},
                "responses": _responses({"$ref": "#/components/schemas/Response"}, 404, 413, 415, 500),
            }
        },
        "/api/events": {"get": poll},
        "/desktop/events/poll": {"get": {**poll, "summary": "Seed 004's name for /api/events"}},
    }
    routes = backend.router.routes
    types = [routes[e.command].payload_type for app in backend.apps for e in app.http_endpoints]
    schemas, components = msgspec.json.schema_components(types, ref_template=_REF)
    found = iter(schemas)
    for app in backend.apps:
        for endpoint in app.http_endpoints:
            schema = next(found)
            operation: dict[str, Any] = {
                "summary": routes[endpoint.command].doc.split("\n")[0] or endpoint.command,
                "description": f"Runs the {endpoint.command} command of {app.name}.",
                "responses": _responses({} if endpoint.raw else {"$ref": "#/components/schemas/Response"}, 500),
            }
            if endpoint.method.upper() == "GET":
                operation["parameters"] = [
                    _query(name, "string", "converted to the payload field's type")
                    for name in schema.get("properties", components.get(_name(schema), {}).get("properties", {}))
                ]
            else:
                content = {"application/json": {"schema": schema}}
                operation["requestBody"] = {"required": False, "content": content}
            paths.setdefault(endpoint.path, {})[endpoint.method.lower()] = operation
    codes = {**backend.error_codes.meanings(), **{info.code: info.meaning for info in DOOR_CODES}}
    error_code = {"oneOf": [{"const": code, "description": meaning} for code, meaning in codes.items()]}
    properties = {**_ENVELOPE["properties"], "error_code": {"$ref": _REF.format(name="ErrorCode")}}
    error = {**_ENVELOPE, "properties": properties}
    components.update({"Response": _ENVELOPE, "ErrorResponse": error, "Events": _EVENTS, "ErrorCode": error_code})
    return {
        "openapi": "3.1.0",
        "info": {"title": f"deskbridge {backend.name}", "version": __version__},
        "components": {
            "schemas": components,
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer"},
                "query": {"type": "apiKey", "in": "query", "name": "token"},
            },
        },
        "security": [{"bearer": []}, {"query": []}],
        "paths": paths,
    }


def _name(schema: dict[str, Any]) -> str:
    return str(schema.get("$ref", "")).rsplit("/", 1)[-1]
