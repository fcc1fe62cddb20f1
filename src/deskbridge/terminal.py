"""The start-up lines on stderr: one JSON line for programs (the contract), one sentence more for people.

``BACKEND_READY`` (or ``BACKEND_ERROR``) stays a single JSON line written in
one call, whatever reads it; when stderr is a terminal a readable sentence
follows it, since 2.5 KB of JSON tells a person nothing at a glance.
"""

from __future__ import annotations

import os
from typing import Any

from deskbridge import logs, protocol


def announce(message: dict[str, Any], fd: int = 2) -> None:
    """Write ``message`` as one JSON line on ``fd``, then a readable line if a person reads ``fd``."""
    os.write(fd, protocol.encode(message) + b"\n")
    if logs.for_people(fd):
        os.write(fd, (describe(message) + "\n").encode("utf-8", "replace"))


def describe(message: dict[str, Any]) -> str:
    """The sentence a person reads for a ready or error line."""
    if message.get("type") != "BACKEND_READY":
        return f"deskbridge could not start: {message.get('error')}"
    apps = ", ".join(message.get("apps", []))
    demo = " DEMO (offline, made-up data):" if message.get("demo") else ""
    where = f" on {message['url']}" if message.get("url") else f" over {message.get('transport')}"
    line = (
        f"deskbridge {message.get('version')} ready:{demo} {apps}{where} "
        f"(pid {message.get('pid')}, {len(message.get('commands', []))} commands, "
        f"events up to seq {message.get('last_seq')})"
    )
    if message.get("transport") == "stdio":
        line += '; type one JSON command a line, e.g. {"id": 1, "type": "PING"}; Ctrl+D stops'
    return line
