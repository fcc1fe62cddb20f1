"""How long a front end waits for the backend, and how much memory the backend then holds.

A desktop app spawns its backend at launch and shows nothing useful until the
ready line, so start-up is the latency users see first. Subjects, each spawned
``--runs`` times in turn (ABAB..., so that a change on the machine hits all):

* ``python (floor)``: this venv's interpreter writing one line to stderr, the least any Python backend pays;
* ``python importing the stack``: the same after importing asyncio, msgspec and sqlite3, the least a
  backend built on them pays before its first line (the diag target's second reference);
* ``MCP SDK server``: bench/_mcp_server.py answering ``initialize`` (the SDK's own client), a Python stdio
  server of the same kind;
* ``deskbridge stdio diag`` / ``studio`` / ``guardian``: ``python -m deskbridge stdio <app>`` on a fresh
  data dir, then on the data dir its first run made (databases opened, checked and migrated);
* ``frozen stdio <app>``: the same from the PyInstaller bundle (``python3 dev.py freeze``), on its data dir.

Then the footprint: each backend's resident memory (RSS) when idle after its start, and after a standard
workload over its pipes (1,000 commands, an operation, 10,000 events: diag's ``COUNT`` and ``EMIT``, so
the studio and the guardian are served with diag for it); the MCP SDK server's, idle and after 1,000
tool calls; the bundle's size on disk, next to the MCP SDK server frozen by PyInstaller with its defaults
(one folder, stripped on Linux as ours is; built once into build/bench-mcp/).

The children run without ``PYTHONDONTWRITEBYTECODE``: an installed package has its bytecode compiled
(pip does it), so the venv subjects may write theirs, as a user's machine would have them.

    .venv/bin/python bench/startup.py [--runs 15] [--bundle dist/deskbridge/deskbridge] [--strict]
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import psutil

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
PYTHON = sys.executable
APPS = ("diag", "studio", "guardian")
ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
STACK_MODULES = "asyncio, msgspec, sqlite3"
STACK = "python importing the stack"
"""What any backend built on asyncio, msgspec and SQLite imports before its first line (the floor's
interpreter, then these): a second reference, so that the diag target shows how much of it is ours."""
WORKLOAD = (1000, 10_000)
"""Commands, then events; an operation in between."""


def until_ready_line(argv: list[str], marker: bytes) -> float:
    """Seconds from spawn to the first stderr line holding ``marker``; the child is then closed."""
    began = time.perf_counter()
    child = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=ENV)
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
        params = StdioServerParameters(command=PYTHON, args=[str(HERE / "_mcp_server.py")], cwd=HERE.parent, env=ENV)
        began = time.perf_counter()
        async with stdio_client(params) as (read, write), ClientSession(read, write) as session:
            await session.initialize()
            return time.perf_counter() - began

    return asyncio.run(run())


def deskbridge(command: list[str], app: str, data_dir: Path, fresh: bool) -> Callable[[], float]:
    def once() -> float:
        if fresh:
            shutil.rmtree(data_dir, ignore_errors=True)
        return until_ready_line([*command, "stdio", app, "--data-dir", str(data_dir)], b"BACKEND_READY")

    return once


class Pipes:
    """A child spoken to in NDJSON: lines out on stdin, every stdout line into a queue of parsed messages."""

    def __init__(self, argv: list[str], ready: bytes | None) -> None:
        pipe = subprocess.PIPE
        self.proc = subprocess.Popen(argv, stdin=pipe, stdout=pipe, stderr=pipe, env=ENV)
        assert self.proc.stderr is not None
        if ready is not None and ready not in self.proc.stderr.readline():
            raise RuntimeError(f"{argv[-3:]}: no ready line")
        threading.Thread(target=self._drain_stderr, daemon=True).start()
        self._lines = self._read()

    def _drain_stderr(self) -> None:
        assert self.proc.stderr is not None
        for _ in self.proc.stderr:
            pass

    def _read(self) -> Iterator[dict[str, Any]]:
        assert self.proc.stdout is not None
        for raw in self.proc.stdout:
            yield json.loads(raw)

    def send(self, messages: list[dict[str, Any]]) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(b"".join(json.dumps(m).encode() + b"\n" for m in messages))
        self.proc.stdin.flush()

    def until(self, done: Callable[[dict[str, Any]], bool]) -> None:
        for message in self._lines:
            if done(message):
                return
        raise RuntimeError("the child closed its stdout")

    def rss_mb(self) -> float:
        return float(psutil.Process(self.proc.pid).memory_info().rss) / 1e6

    def close(self) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.close()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def settle() -> None:
    """Let the child finish what it does after answering (commits, timers) before its memory is read."""
    time.sleep(0.5)


def deskbridge_footprint(command: list[str], apps: list[str], data_dir: Path) -> tuple[float, float]:
    """RSS idle after start, and after the standard workload (diag must be among ``apps``)."""
    commands, events = WORKLOAD
    child = Pipes([*command, "stdio", *apps, "--data-dir", str(data_dir)], b"BACKEND_READY")
    try:
        settle()
        idle = child.rss_mb()
        child.send([{"id": f"p{n}", "type": "PING", "payload": {}} for n in range(commands)])
        child.until(lambda m: m.get("id") == f"p{commands - 1}")
        child.send([{"id": "count", "type": "COUNT", "payload": {"to": 20, "interval": 0.005}}])
        child.until(lambda m: m.get("type") == "COUNT_PROGRESS" and m["payload"]["status"] == "completed")
        child.send([{"id": "emit", "type": "EMIT", "payload": {"count": events}}])
        child.until(lambda m: m.get("type") == "DIAG_EVENT" and m["data"]["index"] == events - 1)
        settle()
        return idle, child.rss_mb()
    finally:
        child.close()


def mcp_footprint() -> tuple[float, float]:
    """The MCP SDK server's RSS after ``initialize``, and after 1,000 ``tools/call`` of its ``ping``."""
    from mcp.types import LATEST_PROTOCOL_VERSION

    child = Pipes([PYTHON, str(HERE / "_mcp_server.py")], None)
    try:
        hello = {
            "protocolVersion": LATEST_PROTOCOL_VERSION,
            "capabilities": {},
            "clientInfo": {"name": "bench", "version": "1"},
        }
        child.send([{"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": hello}])
        child.until(lambda m: m.get("id") == 0)
        child.send([{"jsonrpc": "2.0", "method": "notifications/initialized"}])
        settle()
        idle = child.rss_mb()
        calls = WORKLOAD[0]
        child.send([
            {"jsonrpc": "2.0", "id": n, "method": "tools/call", "params": {"name": "ping", "arguments": {}}}
            for n in range(1, calls + 1)
        ])  # fmt: skip
        child.until(lambda m: m.get("id") == calls)
        settle()
        return idle, child.rss_mb()
    finally:
        child.close()


def frozen_mcp_server() -> Path:
    """bench/_mcp_server.py frozen the ordinary way (PyInstaller's defaults, one folder); built on first use."""
    work = ROOT / "build" / "bench-mcp"
    folder = work / "dist" / "mcp_server"
    if not folder.is_dir():
        print("freezing the MCP SDK server for its size (once, into build/bench-mcp/)", file=sys.stderr)
        strip = ["--strip"] if sys.platform == "linux" else []
        subprocess.run(
            [PYTHON, "-m", "PyInstaller", "--noconfirm", "--onedir", "--log-level", "WARN", *strip, "--name",
             "mcp_server", "--distpath", str(work / "dist"), "--workpath", str(work / "work"), "--specpath",
             str(work), str(HERE / "_mcp_server.py")],
            check=True,
        )  # fmt: skip
    return folder


def folder_mb(folder: Path) -> float:
    return sum(f.stat().st_size for f in folder.rglob("*") if f.is_file() and not f.is_symlink()) / 1e6


def verdict(met: bool) -> str:
    return "met" if met else "MISSED"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=15, help="spawns per subject (default 15)")
    parser.add_argument(
        "--bundle", type=Path, default=ROOT / "dist" / "deskbridge" / "deskbridge",
        help="the frozen executable (default dist/deskbridge/deskbridge; built with dev.py freeze when missing)",
    )  # fmt: skip
    parser.add_argument("--no-bundle", action="store_true", help="leave the frozen bundle out")
    parser.add_argument("--strict", action="store_true", help="exit 1 when a target is missed")
    args = parser.parse_args(argv)
    bundle: Path | None = None if args.no_bundle else args.bundle.resolve()
    if bundle is not None and not bundle.is_file():
        print(f"no bundle at {bundle}: building it (python3 dev.py freeze)", file=sys.stderr)
        subprocess.run([PYTHON, str(ROOT / "dev.py"), "freeze"], check=True)
        bundle = (ROOT / "dist" / "deskbridge" / "deskbridge").resolve()
    venv = [PYTHON, "-m", "deskbridge"]
    with tempfile.TemporaryDirectory(prefix="deskbridge-startup-") as tmp:
        root = Path(tmp)
        subjects: dict[str, Callable[[], float]] = {
            "python (floor)": lambda: until_ready_line([PYTHON, "-c", "import sys; sys.stderr.write('ready\\n')"],
                                                      b"ready"),
            STACK: lambda: until_ready_line(
                [PYTHON, "-c", f"import {STACK_MODULES}, sys; sys.stderr.write('ready\\n')"], b"ready"),
            "MCP SDK server, initialize": mcp_initialized,
        }  # fmt: skip
        for app in APPS:
            subjects[f"deskbridge stdio {app}, fresh data dir"] = deskbridge(venv, app, root / f"{app}-fresh", True)
            subjects[f"deskbridge stdio {app}, its data dir"] = deskbridge(venv, app, root / f"{app}-kept", False)
        if bundle is not None:
            for app in APPS:
                frozen = deskbridge([str(bundle)], app, root / f"{app}-frozen", False)
                subjects[f"frozen stdio {app}, its data dir"] = frozen
        times: dict[str, list[float]] = {name: [] for name in subjects}
        for warm_up in subjects.values():  # one each: the page cache, .pyc files, the first databases
            warm_up()
        for _ in range(args.runs):
            for name, once in subjects.items():
                times[name].append(once())

        footprint: dict[str, tuple[float, float]] = {"MCP SDK server (1,000 tool calls)": mcp_footprint()}
        places = [("deskbridge", venv)] + ([("frozen", [str(bundle)])] if bundle is not None else [])
        for (where, command), app in itertools.product(places, APPS):
            apps = [app] if app == "diag" else [app, "diag"]
            data_dir = root / f"{where}-{app}-rss"
            footprint[f"{where} stdio {' '.join(apps)}"] = deskbridge_footprint(command, apps, data_dir)

    median = {name: statistics.median(values) * 1000 for name, values in times.items()}
    least = {name: min(values) * 1000 for name, values in times.items()}
    print(f"start-up to ready, {args.runs} spawns each, Python {sys.version.split()[0]}")
    print(f"{'subject':<42} {'median ms':>10} {'min ms':>8} {'max ms':>8}")
    for name, values in times.items():
        print(f"{name:<42} {median[name]:>10.0f} {min(values) * 1000:>8.0f} {max(values) * 1000:>8.0f}")

    pairs = [("stdio diag <= 6x the floor", "deskbridge stdio diag", "python (floor)", 6.0)]
    pairs += [(f"stdio {app} <= 1.3x diag", f"deskbridge stdio {app}", "deskbridge stdio diag", 1.3)
              for app in ("studio", "guardian")]  # fmt: skip
    if bundle is not None:
        pairs += [(f"frozen {app} <= 1.5x the venv's", f"frozen stdio {app}", f"deskbridge stdio {app}", 1.5)
                  for app in APPS]  # fmt: skip

    def at(table: dict[str, float], subject: str) -> float:
        """A deskbridge subject on the data dir its first run made; the floor as it is."""
        return table.get(f"{subject}, its data dir", table.get(subject, 0.0))

    targets = []
    print(f"\n{'target (medians; data dir of a first run)':<42} {'ms / ms':>16} {'ratio':>6} {'wanted':>7}"
          f" {'':<7} {'ratio of the minimums':>21}")  # fmt: skip
    for label, subject, reference, wanted in pairs:
        a, b = at(median, subject), at(median, reference)
        targets.append((label, a / b, wanted))
        print(f"{label:<42} {a:>7.0f} / {b:>6.0f} {a / b:>5.2f}x {wanted:>6.1f}x {verdict(a / b <= wanted):<7} "
              f"{at(least, subject) / at(least, reference):>20.2f}x")  # fmt: skip

    stack, floor, diag = at(median, STACK), at(median, "python (floor)"), at(median, "deskbridge stdio diag")
    print(f"{'(reference) the stack / the floor':<42} {stack:>7.0f} / {floor:>6.0f} {stack / floor:>5.2f}x"
          f"   ({STACK_MODULES})")  # fmt: skip
    print(f"{'(reference) stdio diag / the stack':<42} {diag:>7.0f} / {stack:>6.0f} {diag / stack:>5.2f}x"
          f"   (deskbridge's own share: {diag - stack:.0f} ms)")  # fmt: skip

    commands, events = WORKLOAD
    print(f"\nresident memory (RSS, MB): idle after start; after {commands:,} commands, an operation, "
          f"{events:,} events")  # fmt: skip
    print(f"{'backend':<42} {'idle':>8} {'after':>8}")
    for name, (idle, after) in footprint.items():
        print(f"{name:<42} {idle:>8.1f} {after:>8.1f}")
    if bundle is not None:
        whole, driver = folder_mb(bundle.parent), folder_mb(bundle.parent / "_internal" / "playwright")
        print(f"\non disk (MB): the bundle {whole:.0f} ({bundle.parent}), of which Playwright (its Node.js "
              f"driver) {driver:.0f}, the rest {whole - driver:.0f}; the MCP SDK server frozen "
              f"{folder_mb(frozen_mcp_server()):.0f}")  # fmt: skip
    missed = [label for label, ratio, wanted in targets if ratio > wanted]
    return 1 if args.strict and missed else 0


if __name__ == "__main__":
    sys.exit(main())
