"""The guardian's error codes (docs/guardian.md), with their meaning and HTTP status."""

from __future__ import annotations

import enum
from typing import Final

from deskbridge.errors import ErrorCodeInfo


class GuardianError(enum.StrEnum):
    CHILD_NOT_FOUND = "CHILD_NOT_FOUND"
    PROCESS_CLOSE_FAILED = "PROCESS_CLOSE_FAILED"
    TIME_REQUEST_NOT_FOUND = "TIME_REQUEST_NOT_FOUND"
    TIME_REQUEST_ANSWERED = "TIME_REQUEST_ANSWERED"


ERROR_CODES: Final = (
    ErrorCodeInfo(GuardianError.CHILD_NOT_FOUND, "no child profile of that name", 404),
    ErrorCodeInfo(GuardianError.PROCESS_CLOSE_FAILED, "the game could not be closed", 502),
    ErrorCodeInfo(GuardianError.TIME_REQUEST_NOT_FOUND, "no request for more time with that id", 404),
    ErrorCodeInfo(GuardianError.TIME_REQUEST_ANSWERED, "that request for more time was answered already", 409),
)
