"""The studio's error codes: seed 000's, as they are on the wire, with their meaning and HTTP status."""

from __future__ import annotations

import enum
from typing import Final

from deskbridge.errors import ErrorCodeInfo


class StudioError(enum.StrEnum):
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


ERROR_CODES: Final = (
    ErrorCodeInfo(StudioError.ACCOUNT_NOT_FOUND, "the account does not exist", 404),
    ErrorCodeInfo(StudioError.ACCOUNT_ALREADY_EXISTS, "the account name is in use", 409),
    ErrorCodeInfo(StudioError.ACCOUNT_CREATION_FAILED, "the account could not be created", 502),
    ErrorCodeInfo(StudioError.QUEUE_NOT_FOUND, "the queue does not exist", 404),
    ErrorCodeInfo(StudioError.INSUFFICIENT_PROMPTS, "not enough unused prompts", 400),
    ErrorCodeInfo(StudioError.INVALID_QUEUE_PARAMETERS, "impossible queue parameters or status changes", 400),
    ErrorCodeInfo(StudioError.SESSION_NOT_FOUND, "no logged-in session (or the token is rejected)", 404),
    ErrorCodeInfo(StudioError.BROWSER_LAUNCH_FAILED, "the browser could not be started", 502),
    ErrorCodeInfo(StudioError.PROFILE_LOCKED, "the account's browser profile is open in a live browser", 409),
    ErrorCodeInfo(StudioError.DOWNLOAD_FAILED, "a download failed", 502),
    ErrorCodeInfo(StudioError.CLIP_NOT_FOUND, "the clip does not exist", 404),
    ErrorCodeInfo(StudioError.SONG_CREATION_FAILED, "one song could not be created", 502),
    ErrorCodeInfo(StudioError.BATCH_CREATION_FAILED, "none of a batch could be created", 502),
)
"""Statuses as the web door gave them before apps declared their codes (docs/web.md)."""
