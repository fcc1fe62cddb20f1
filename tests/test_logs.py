"""Logs: JSON lines on stderr, held back until the ready line, secrets masked."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from deskbridge.logs import redact
from tests.support import DESKBRIDGE


def test_the_ready_line_precedes_every_log_line_of_the_web_door(tmp_path: Path) -> None:
    """uvicorn logs while it starts; those records wait until the ready line is out."""
    proc = subprocess.Popen(
        [*DESKBRIDGE, "serve", "diag", "--port", "0", "--data-dir", str(tmp_path)],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        assert proc.stderr is not None
        first = json.loads(proc.stderr.readline())
        assert first["type"] == "BACKEND_READY"
        second = json.loads(proc.stderr.readline())
        assert set(second) >= {"ts", "level", "logger", "message"}
    finally:
        proc.kill()
        proc.wait()


def test_secrets_are_masked() -> None:
    assert redact("GET /ws?token=abcdef123456 HTTP/1.1") == "GET /ws?token=*** HTTP/1.1"
    assert redact("Authorization: Bearer eyJhbGciOi.x.y") == "Authorization: Bearer ***"
    assert redact('{"session_token": "eyJhbGciOiJIUzI1NiJ9"}') == '{"session_token": "***"}'
    cookie = redact("Cookie: __session=eyJ.a.b; __client=zzz9")
    assert "eyJ" not in cookie
    assert "zzz9" not in cookie
    assert "eyJ" not in redact("authorization: bearer eyJ.a.b")
    assert redact("nothing secret here, 12 tokens left") == "nothing secret here, 12 tokens left"


def test_a_token_under_a_percent_encoded_name_is_masked_too() -> None:
    """The door decodes a query's names: ``t%6Fken`` is ``token``. Masking looks at the decoded text."""
    for query in ("t%6Fken=abcdef123456", "token%3Dabcdef123456", "t%256Fken=abcdef123456", "%74oken=abcdef123456"):
        line = redact(f"GET /api/events?{query} HTTP/1.1")
        assert "abcdef123456" not in line, line
    assert redact("100% done, 50%-off") == "100% done, 50%-off"
