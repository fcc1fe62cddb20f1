"""The documentation names every command, error code and event type the apps have: a new one without docs fails here."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

from deskbridge.app import available_apps
from deskbridge.errors import ErrorCode
from tests.support import DESKBRIDGE

ROOT = Path(__file__).resolve().parent.parent
WEB_ONLY_CODES = ("UNSUPPORTED_MEDIA_TYPE",)
"""Codes only the web door answers (HTTP 415), not members of ErrorCode."""


def documented() -> set[str]:
    """Every `NAME` written as code in docs/*.md."""
    text = "\n".join(path.read_text(encoding="utf-8") for path in sorted((ROOT / "docs").glob("*.md")))
    return set(re.findall(r"`([A-Za-z_][A-Za-z0-9_]*)`", text))


def test_every_command_error_code_and_event_type_of_every_app_is_documented() -> None:
    schema = json.loads(
        subprocess.run(
            [*DESKBRIDGE, "schema", *available_apps()], capture_output=True, text=True, check=True, timeout=60
        ).stdout
    )
    names = {
        "command": sorted(schema["commands"]),
        "error code": sorted([code.value for code in ErrorCode] + list(WEB_ONLY_CODES)),
        "event type": sorted(schema["events"]),
    }
    assert all(names.values()), names
    known = documented()
    missing = {kind: [name for name in items if name not in known] for kind, items in names.items()}
    assert missing == {kind: [] for kind in names}, "write these up in docs/*.md (as `NAME`)"
