"""The bare SQLite query answered over pipes: the second reference of bench/scale.py's history figures.

A Python process on the same database file (read-only) reads one command line,
``{"id", "type": "QUERY", "payload": {"sql", "params"}}``, runs the query, and
writes its rows as orjson encodes them (each row an array of its values) in a
response of deskbridge's shape. No validation, no keys, no paging: what any
Python backend over stdio pays at least for the same rows, beside what the
bare query costs in the client's own process.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import sys
import time

import orjson

READ_CHUNK = 64 * 1024


def serve(db: sqlite3.Connection, in_fd: int, out_fd: int) -> None:
    buf = b""
    while True:
        while (end := buf.find(b"\n")) < 0:
            chunk = os.read(in_fd, READ_CHUNK)
            if not chunk:
                return
            buf += chunk
        command = orjson.loads(buf[:end])
        buf = buf[end + 1 :]
        query = command["payload"]
        rows = db.execute(query["sql"], query["params"]).fetchall()
        now = time.time_ns() // 1_000_000
        answer = {"id": command["id"], "type": "QUERY_RESPONSE", "success": True, "data": rows, "error": None,
                  "timestamp": now}  # fmt: skip
        view = memoryview(orjson.dumps(answer) + b"\n")
        while view:
            view = view[os.write(out_fd, view) :]


def main() -> int:
    db = sqlite3.connect(f"file:{sys.argv[1]}?mode=ro", uri=True, check_same_thread=False)
    os.write(2, orjson.dumps({"type": "BACKEND_READY", "transport": "stdio", "pid": os.getpid()}) + b"\n")
    with contextlib.suppress(BrokenPipeError):
        serve(db, sys.stdin.fileno(), sys.stdout.fileno())
    return 0


if __name__ == "__main__":
    sys.exit(main())
