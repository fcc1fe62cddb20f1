"""The studio declares seed 000's codes itself; on the wire they are exactly the seed's sixteen."""

from __future__ import annotations

from deskbridge.errors import ErrorCodes
from deskbridge.studio import app

SEED = {
    "UNKNOWN_COMMAND", "INVALID_PAYLOAD", "INTERNAL_ERROR", "ACCOUNT_NOT_FOUND", "ACCOUNT_ALREADY_EXISTS",
    "ACCOUNT_CREATION_FAILED", "QUEUE_NOT_FOUND", "INSUFFICIENT_PROMPTS", "INVALID_QUEUE_PARAMETERS",
    "SESSION_NOT_FOUND", "BROWSER_LAUNCH_FAILED", "PROFILE_LOCKED", "DOWNLOAD_FAILED", "CLIP_NOT_FOUND",
    "SONG_CREATION_FAILED", "BATCH_CREATION_FAILED",
}  # fmt: skip


def test_every_seed_error_code_is_answered_by_a_studio_backend() -> None:
    codes = ErrorCodes([(app.name, app.error_codes)])
    described = codes.describe()
    assert len(SEED) == 16
    assert set(described) >= SEED
    assert {code for code, info in described.items() if info["app"] == "studio"} == SEED - {
        "UNKNOWN_COMMAND",
        "INVALID_PAYLOAD",
        "INTERNAL_ERROR",
    }
    statuses = {code: codes.http_status(code) for code in ("INSUFFICIENT_PROMPTS", "PROFILE_LOCKED", "CLIP_NOT_FOUND")}
    assert statuses == {"INSUFFICIENT_PROMPTS": 400, "PROFILE_LOCKED": 409, "CLIP_NOT_FOUND": 404}
