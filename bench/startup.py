"""How long a front end waits for the backend: spawn to the ``BACKEND_READY`` line.

A desktop app spawns its backend at launch and shows nothing useful until the
ready line, so start-up is the latency users see first. Subjects, each spawned
``--runs`` times in turn (ABAB..., so that a change on the machine hits all):

* ``python (floor)``: this venv's interpreter writing one line to stderr, the least any Python backend pays;
* ``MCP SDK server``: bench/_mcp_server.py answering ``initialize`` (the SDK's own client), a Python stdio
  server of the same kind;
* ``deskbridge stdio diag`` / ``studio`` / ``guardian``: ``python -m deskbridge stdio <app>`` on a fresh
  data dir, then on the data dir its first run made (databases opened, checked and migrated).

    .venv/bin/python bench/startup.py [--runs 15]
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

HERE = Path(__file__).resolve().parent
PYTHON = sys.executable


def until_ready_line(argv: list[str], marker: bytes) -> float:
    """Seconds from spawn to the first stderr line holding ``marker``; the child is then closed."""
    began = time.perf_counter()
    child = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    assert child.stderr is not None
    assert child.stdin is not None
    line = child.stderr.readline()
    elapsed = time.perf_counter() - began
    child.stdin.close()
    child.wait(10)
    child.stderr.close()
    if marker not in line:
        raise RuntimeError(f"{argv[-3:]}: no ready line, got {line[:200]!r}")
    return elapsed


def mcp_initialized() -> float:
    from mcp import ClientSession, StdioServerParameters, stdio_client

    async def run() -> float:
        params = StdioServerParameters(command=PYTHON, args=[str(HERE / "_mcp_server.py")], cwd=HERE.parent)
        began = time.perf_counter()
        async with stdio_client(params) as (read, write), ClientSession(read, write) as session:
            await session.initialize()
            return time.perf_counter() - began

    return asyncio.run(run())


def deskbridge(app: str, data_dir: Path, fresh: bool) -> Callable[[], float]:
    def once() -> float:
        if fresh:
            shutil.rmtree(data_dir, ignore_errors=True)
        argv = [PYTHON, "-m", "deskbridge", "stdio", app, "--data-dir", str(data_dir)]
        return until_ready_line(argv, b"BACKEND_READY")

    return once


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=15, help="spawns per subject (default 15)")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="deskbridge-startup-") as tmp:
        root = Path(tmp)
        subjects: dict[str, Callable[[], float]] = {
            "python (floor)": lambda: until_ready_line([PYTHON, "-c", "import sys; sys.stderr.write('ready\\n')"],
                                                      b"ready"),
            "MCP SDK server, initialize": mcp_initialized,
        }  # fmt: skip
        for app in ("diag", "studio", "guardian"):
            subjects[f"deskbridge stdio {app}, fresh data dir"] = deskbridge(app, root / f"{app}-fresh", True)
            subjects[f"deskbridge stdio {app}, its data dir"] = deskbridge(app, root / f"{app}-kept", False)
        times: dict[str, list[float]] = {name: [] for name in subjects}
        for warm_up in subjects.values():  # one each: the page cache, .pyc files, the first databases
            warm_up()
        for _ in range(args.runs):
            for name, once in subjects.items():
                times[name].append(once())
    print(f"start-up to ready, {args.runs} spawns each, Python {sys.version.split()[0]}")
    print(f"{'subject':<42} {'median ms':>10} {'min ms':>8} {'max ms':>8}")
    for name, values in times.items():
        print(f"{name:<42} {statistics.median(values) * 1000:>10.0f} {min(values) * 1000:>8.0f} "
              f"{max(values) * 1000:>8.0f}")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
