"""The physical limit for a Python NDJSON server over pipes: the reference subject of bench/stdio.py.

Reads stdin in 256 KiB chunks, splits lines, parses each with orjson, encodes a
response of the same shape as deskbridge's (``id``, ``type`` + ``_RESPONSE``,
``success``, ``data``, ``error``, ``timestamp``) and writes one batch per chunk.
Like deskbridge it announces itself with one JSON line on stderr before reading.
"""

from __future__ import annotations

import contextlib
import os
import sys
import time

import orjson

READ_CHUNK = 256 * 1024


def serve(in_fd: int, out_fd: int) -> None:
    loads, dumps, time_ns = orjson.loads, orjson.dumps, time.time_ns
    tail = b""
    while True:
        chunk = os.read(in_fd, READ_CHUNK)
        if not chunk:
            return
        lines = (tail + chunk).split(b"\n") if tail else chunk.split(b"\n")
        tail = lines.pop()
        out: list[bytes] = []
        for line in lines:
            if not line:
                continue
            command = loads(line)
            now = time_ns() // 1_000_000
            out.append(
                dumps(
                    {
                        "id": command["id"],
                        "type": command["type"] + "_RESPONSE",
                        "success": True,
                        "data": {"pong": True, "time": now},
                        "error": None,
                        "timestamp": now,
                    }
                )
            )
        if out:
            out.append(b"")
            view = memoryview(b"\n".join(out))
            while view:
                view = view[os.write(out_fd, view) :]


def main() -> int:
    os.write(2, orjson.dumps({"type": "BACKEND_READY", "transport": "stdio", "pid": os.getpid()}) + b"\n")
    with contextlib.suppress(BrokenPipeError):
        serve(sys.stdin.fileno(), sys.stdout.fileno())
    return 0


if __name__ == "__main__":
    sys.exit(main())
