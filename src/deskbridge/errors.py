"""Error codes of the wire protocol and the exception that carries one.

A handler raises :class:`CommandError` with a code; the router turns it into an
``ERROR_RESPONSE``. Any other exception becomes ``INTERNAL_ERROR``: the message
a client sees never leaks a traceback.
"""

from __future__ import annotations

import enum
from typing import Any


class ErrorCode(enum.StrEnum):
    """Every code of seed 000, then the few the framework adds (docs/protocol.md)."""

    # seed 000
    UNKNOWN_COMMAND = "UNKNOWN_COMMAND"
    INVALID_PAYLOAD = "INVALID_PAYLOAD"
    INTERNAL_ERROR = "INTERNAL_ERROR"
    ACCOUNT_NOT_FOUND = "ACCOUNT_NOT_FOUND"
    ACCOUNT_ALREADY_EXISTS = "ACCOUNT_ALREADY_EXISTS"
    ACCOUNT_CREATION_FAILED = "ACCOUNT_CREATION_FAILED"
    QUEUE_NOT_FOUND = "QUEUE_NOT_FOUND"
    INSUFFICIENT_PROMPTS = "INSUFFICIENT_PROMPTS"
    INVALID_QUEUE_PARAMETERS = "INVALID_QUEUE_PARAMETERS"
    SESSION_NOT_FOUND = "SESSION_NOT_FOUND"
    BROWSER_LAUNCH_FAILED = "BROWSER_LAUNCH_FAILED"
    PROFILE_LOCKED = "PROFILE_LOCKED"
    DOWNLOAD_FAILED = "DOWNLOAD_FAILED"
    CLIP_NOT_FOUND = "CLIP_NOT_FOUND"
    SONG_CREATION_FAILED = "SONG_CREATION_FAILED"
    BATCH_CREATION_FAILED = "BATCH_CREATION_FAILED"

    # framework
    PARSE_ERROR = "PARSE_ERROR"
    INVALID_MESSAGE = "INVALID_MESSAGE"
    MESSAGE_TOO_LARGE = "MESSAGE_TOO_LARGE"
    NOT_IMPLEMENTED = "NOT_IMPLEMENTED"
    OPERATION_NOT_FOUND = "OPERATION_NOT_FOUND"
    OPERATION_CANCELLED = "OPERATION_CANCELLED"
    OPERATION_INTERRUPTED = "OPERATION_INTERRUPTED"
    SHUTTING_DOWN = "SHUTTING_DOWN"
    EVENTS_NOT_STORED = "EVENTS_NOT_STORED"

    # guardian
    CHILD_NOT_FOUND = "CHILD_NOT_FOUND"
    PROCESS_CLOSE_FAILED = "PROCESS_CLOSE_FAILED"


class CommandError(Exception):
    """A failure a client should see, with its code and optional structured details."""

    def __init__(self, code: ErrorCode, message: str, details: Any = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.details = details

    def __repr__(self) -> str:
        return f"CommandError({self.code.value}, {self.message!r})"
