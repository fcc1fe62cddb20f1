"""Error codes of the wire protocol, who declares them, and the exception that carries one.

A handler raises :class:`CommandError` with a code; the router turns it into an
``ERROR_RESPONSE``. Any other exception becomes ``INTERNAL_ERROR``: the message
a client sees never leaks a traceback.

The framework's own codes are :class:`ErrorCode`; an app declares its own as
:class:`ErrorCodeInfo` in its :class:`~deskbridge.app.AppSpec` (a name, what it
means, and the HTTP status that fits it, like h11's ``error_status_hint``), so
``BACKEND_READY``, the schema and ``/openapi.json`` can list every code a
backend may answer, and the web door never needs a table of app codes.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from typing import Any, Final

import msgspec


class ErrorCode(enum.StrEnum):
    """The framework's codes; the first three are seed 000's (docs/protocol.md)."""

    UNKNOWN_COMMAND = "UNKNOWN_COMMAND"
    INVALID_PAYLOAD = "INVALID_PAYLOAD"
    INTERNAL_ERROR = "INTERNAL_ERROR"
    PARSE_ERROR = "PARSE_ERROR"
    INVALID_MESSAGE = "INVALID_MESSAGE"
    MESSAGE_TOO_LARGE = "MESSAGE_TOO_LARGE"
    OPERATION_NOT_FOUND = "OPERATION_NOT_FOUND"
    OPERATION_CANCELLED = "OPERATION_CANCELLED"
    OPERATION_INTERRUPTED = "OPERATION_INTERRUPTED"
    SHUTTING_DOWN = "SHUTTING_DOWN"
    EVENTS_NOT_STORED = "EVENTS_NOT_STORED"
    PERMISSION_DENIED = "PERMISSION_DENIED"
    DATABASE_DAMAGED = "DATABASE_DAMAGED"


class ErrorCodeInfo(msgspec.Struct, frozen=True):
    """One code a backend may answer: its name on the wire, what it means, the HTTP status that fits it."""

    code: str
    meaning: str
    http_status: int = 422
    """What the web door answers with: 4xx when the caller can fix it, 5xx when the backend or a service failed."""


FRAMEWORK_CODES: Final = (
    ErrorCodeInfo(ErrorCode.UNKNOWN_COMMAND, "the command type is not one this backend answers", 404),
    ErrorCodeInfo(ErrorCode.INVALID_PAYLOAD, "missing or invalid payload fields (`details.fields` names them)", 400),
    ErrorCodeInfo(ErrorCode.INTERNAL_ERROR, "an unexpected failure in a handler; the backend lives on", 500),
    ErrorCodeInfo(ErrorCode.PARSE_ERROR, "the line (or its payload) is not valid JSON or not valid UTF-8", 400),
    ErrorCodeInfo(ErrorCode.INVALID_MESSAGE, "valid JSON, but not a command (`id` and `type` are strings)", 400),
    ErrorCodeInfo(ErrorCode.MESSAGE_TOO_LARGE, "the line is longer than the limit", 413),
    ErrorCodeInfo(ErrorCode.OPERATION_NOT_FOUND, "no operation with that id in this run", 404),
    ErrorCodeInfo(ErrorCode.OPERATION_CANCELLED, "in a terminal event: the operation was cancelled", 409),
    ErrorCodeInfo(
        ErrorCode.OPERATION_INTERRUPTED, "in a terminal event sent at start-up: the backend was killed meanwhile", 500
    ),
    ErrorCodeInfo(ErrorCode.SHUTTING_DOWN, "the backend is stopping and takes no new commands", 503),
    ErrorCodeInfo(
        ErrorCode.EVENTS_NOT_STORED, "the command ran, but the events it raised wait in memory for room on disk", 507
    ),
    ErrorCodeInfo(ErrorCode.PERMISSION_DENIED, "the command is the owner's; this caller holds a client's token", 403),
    ErrorCodeInfo(
        ErrorCode.DATABASE_DAMAGED,
        "a database file is damaged (`details.path` names it); what the command was writing there is rolled back",
        500,
    ),
)


class ErrorCodes:
    """Every code a backend may answer: the framework's, then each app's; a name is declared once."""

    def __init__(self, declared: Iterable[tuple[str, Iterable[ErrorCodeInfo]]]) -> None:
        self._codes = {info.code: ("deskbridge", info) for info in FRAMEWORK_CODES}
        for owner, infos in declared:
            for info in infos:
                if info.code in self._codes:
                    raise ValueError(f"{owner} declares error code {info.code}, already declared by "
                                     f"{self._codes[info.code][0]}")  # fmt: skip
                self._codes[info.code] = (owner, info)

    def __contains__(self, code: object) -> bool:
        return code in self._codes

    def http_status(self, code: str | None) -> int:
        """The status of an ``ERROR_RESPONSE`` with ``code``; 500 without a code, 422 for one nobody declared."""
        if code is None:
            return 500
        found = self._codes.get(code)
        return found[1].http_status if found else 422

    def describe(self) -> dict[str, dict[str, Any]]:
        """``{CODE: {"meaning", "http_status", "app"}}``, for ``BACKEND_READY``, the schema and ``/openapi.json``."""
        return {
            code: {"meaning": info.meaning, "http_status": info.http_status, "app": owner}
            for code, (owner, info) in self._codes.items()
        }

    def meanings(self) -> Mapping[str, str]:
        return {code: info.meaning for code, (_, info) in self._codes.items()}


class CommandError(Exception):
    """A failure a client should see, with its code (the framework's or a declared app code) and details."""

    def __init__(self, code: str, message: str, details: Any = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.details = details

    def __repr__(self) -> str:
        return f"CommandError({self.code}, {self.message!r})"
