"""Logs on stderr: JSON lines for programs, readable lines on a terminal; secrets masked either way."""

from __future__ import annotations

import json
import logging
import os
import re
import sys
import time
import urllib.parse
from typing import IO, Any, Final

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


class HumanFormatter(logging.Formatter):
    """``12:04:31.250 WARNING deskbridge.router: message``, and a traceback as Python prints it."""

    def format(self, record: logging.LogRecord) -> str:
        stamp = time.strftime("%H:%M:%S", time.localtime(record.created)) + f".{int(record.msecs):03d}"
        line = f"{stamp} {record.levelname:<7} {record.name}: {redact(record.getMessage())}"
        if record.exc_info:
            line += "\n" + redact(self.formatException(record.exc_info))
        return line


FORMAT_ENV: Final = "DESKBRIDGE_LOG_FORMAT"
"""``human`` or ``json``: forces the format (a parent that relays the logs to a terminal asks ``human``)."""


def for_people(stream: IO[str] | int) -> bool:
    """Whether a person reads ``stream`` (a terminal) rather than a program (a pipe, a file)."""
    forced = os.environ.get(FORMAT_ENV, "").strip().lower()
    if forced in ("human", "json"):
        return forced == "human"
    try:
        return os.isatty(stream) if isinstance(stream, int) else stream.isatty()
    except (AttributeError, ValueError, OSError):
        return False


def formatter_for(stream: IO[str]) -> logging.Formatter:
    """Readable lines when a person watches the stream (a terminal), JSON lines when a program reads it."""
    return HumanFormatter() if for_people(stream) else JsonFormatter()


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
    """Logs to ``stream`` (stderr), held back until the returned gate is released."""
    stream = stream or sys.stderr
    handler = logging.StreamHandler(stream)
    handler.setFormatter(formatter_for(stream))
    held = HeldLogs(handler)
    root = logging.getLogger()
    root.handlers[:] = [held]
    root.setLevel(level.upper())
    return held
