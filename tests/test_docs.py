"""The documentation names every command, error code and event type the apps have: a new one without docs fails here."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

from deskbridge.app import available_apps
from tests.support import DESKBRIDGE

ROOT = Path(__file__).resolve().parent.parent
WEB_ONLY_CODES = ("METHOD_NOT_ALLOWED", "UNSUPPORTED_MEDIA_TYPE")
"""The web door's own refusals (HTTP 405, 415): no command answers them."""


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
        "error code": sorted([*schema["error_codes"], *WEB_ONLY_CODES]),
        "event type": sorted(schema["events"]),
    }
    assert all(names.values()), names
    known = documented()
    missing = {kind: [name for name in items if name not in known] for kind, items in names.items()}
    assert missing == {kind: [] for kind in names}, "write these up in docs/*.md (as `NAME`)"
