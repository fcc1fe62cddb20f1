"""Logs are JSON lines on stderr, with secrets masked before they are written."""

from __future__ import annotations

import json
import logging
import re
import sys
import time
import urllib.parse
from typing import IO, Any

_VALUE = r"[^\s\"',;&]+"
_SECRETS = (
    # Authorization: Bearer <jwt>  /  bearer <token>
    re.compile(r"(?i)(\bbearer\s+)" + _VALUE),
    # Authorization: <any scheme> <credentials>  /  authorization=<credentials>
    re.compile(r"(?i)(\bauthorization[\"']?\s*[:=]\s*[\"']?(?!bearer\b)(?:[a-z][\w.-]*\s+)?)" + _VALUE),
    # ?token=...  &token=...  and cookie pairs such as __session=... or __client=...
    re.compile(r"(?i)([?&;\s]?(?:token|__session|__client)=)" + _VALUE),
    # "token": "...", session_token=..., cookie: ..., password: ... (but not the word Bearer)
    re.compile(
        r"(?i)([\"']?\b(?:token|session_token|access_token|jwt|cookie|password|secret|client_cookie)[\"']?\s*[:=]\s*[\"']?)"
        r"(?!bearer\b)" + _VALUE
    ),
)


_KNOWN: set[str] = set()
"""Secrets this process holds (the server's token): masked wherever they appear, whatever surrounds them."""
_ESCAPE = re.compile(r"%[0-9A-Fa-f]{2}")


def mask_everywhere(secret: str) -> None:
    """From now on, ``secret`` never reaches the log, under any name or in any shape of URL."""
    if secret:
        _KNOWN.add(secret)


def redact(text: str) -> str:
    """Mask tokens, JWTs and cookies wherever a log line might carry them.

    Percent-escapes are decoded first (as often as a URL may have been
    encoded), so that ``?t%6Fken=...`` or ``?token%3D...`` is masked like
    ``?token=...``: the line shows the decoded text.
    """
    for _ in range(3):
        if not _ESCAPE.search(text):
            break
        text = urllib.parse.unquote(text, errors="replace")
    for pattern in _SECRETS:
        text = pattern.sub(lambda m: m.group(1) + "***", text)
    for secret in _KNOWN:
        text = text.replace(secret, "***")
    return text


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created)) + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": redact(record.getMessage()),
        }
        if record.exc_info:
            entry["exception"] = redact(self.formatException(record.exc_info))
        return json.dumps(entry, ensure_ascii=False)


class HeldLogs(logging.Handler):
    """Keeps records until :meth:`let_through`, so a door's ready line is the first thing on stderr.

    (Not ``release``: that name is ``logging.Handler``'s lock release, called
    after every record.)
    """

    def __init__(self, target: logging.Handler) -> None:
        super().__init__()
        self._target = target
        self._records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self._records.append(record)

    def let_through(self) -> None:
        """Write what was held and send every later record straight to the stream."""
        root = logging.getLogger()
        root.handlers[:] = [self._target]
        for record in self._records:
            self._target.handle(record)
        self._records.clear()


def setup(level: str = "INFO", stream: IO[str] | None = None) -> HeldLogs:
    """JSON logs to ``stream`` (stderr), held back until the returned gate is released."""
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JsonFormatter())
    held = HeldLogs(handler)
    root = logging.getLogger()
    root.handlers[:] = [held]
    root.setLevel(level.upper())
    return held
