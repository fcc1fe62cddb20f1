"""Who declares which error code, and the HTTP status each one earns."""

from __future__ import annotations

import pytest

from deskbridge.errors import ErrorCode, ErrorCodeInfo, ErrorCodes


def test_a_code_is_declared_once_per_backend() -> None:
    mine = ErrorCodeInfo("NOTE_NOT_FOUND", "no note has this id", 404)
    with pytest.raises(ValueError, match="notes2 declares error code NOTE_NOT_FOUND, already declared by notes"):
        ErrorCodes([("notes", (mine,)), ("notes2", (mine,))])
    with pytest.raises(ValueError, match="already declared by deskbridge"):
        ErrorCodes([("rogue", (ErrorCodeInfo(ErrorCode.INTERNAL_ERROR, "mine now", 200),))])


def test_the_status_comes_from_the_declaration() -> None:
    codes = ErrorCodes([("notes", (ErrorCodeInfo("NOTE_NOT_FOUND", "no note has this id", 404),))])
    assert codes.http_status("NOTE_NOT_FOUND") == 404
    assert codes.http_status(ErrorCode.SHUTTING_DOWN) == 503
    assert codes.http_status("NOBODY_DECLARED_THIS") == 422
    assert codes.http_status(None) == 500
    assert codes.describe()["NOTE_NOT_FOUND"] == {"meaning": "no note has this id", "http_status": 404, "app": "notes"}
