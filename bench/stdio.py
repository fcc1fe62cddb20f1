"""Benchmark of the stdio door against the physical limit and against the MCP Python SDK.

Three subjects, each in a child process over pipes:

(a) ``deskbridge``: ``python -m deskbridge stdio studio``, command ``PING``;
(b) ``raw``: bench/_raw_echo.py, an orjson NDJSON echo with chunked reads and one
    write per chunk, the limit for a Python server (see shared/reference/performance.md);
(c) ``mcp``: bench/_mcp_server.py on the official MCP Python SDK, one tool ``ping``,
    driven by the SDK's own client (``stdio_client`` + ``ClientSession.call_tool``).

(a) and (b) are driven by the same blocking client (:class:`PipeClient`): ping-pong
writes one line and reads one line; pipelined writes N commands from a writer
thread while a reader thread reads the N responses. MCP has no raw pipelining, so
its "pipelined" figure is N concurrent ``call_tool`` calls under ``asyncio.gather``.

    .venv/bin/python bench/stdio.py [--quick] [--n 100000] [--repeat 3] [--json FILE]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import AsyncExitStack, ExitStack, contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
PYTHON = sys.executable
READY_TIMEOUT = 30.0
READ_CHUNK = 256 * 1024
WRITE_BATCH = 1000  # lines per os.write in the pipelined writer
PINGPONG_BLOCK = 500  # round trips per block; the blocks of (a) and (b) alternate

SUBJECTS = ("deskbridge", "raw", "mcp")
LABELS = {
    "deskbridge": "(a) deskbridge stdio, PING",
    "raw": "(b) raw orjson NDJSON echo",
    "mcp": "(c) MCP Python SDK stdio, tools/call",
}


class Pinning:
    """Client on one CPU, every child on another: each subject gets the same cross-core wake-ups.

    Left to the scheduler, a client and a child that happen to share a core answer a
    ping in half or a quarter of the usual time (a direct switch instead of a cross-core
    wake-up), and which child gets that luck varies from run to run, so ping-pong
    latency swings 2-4x and says more about placement than about code. Cross-core is
    also the realistic case: a desktop front end and its backend are both busy
    processes. Pinning the child to one CPU flatters the MCP server a little (its
    per-message thread hops become same-core), which makes the 10x target harder, not
    easier. Linux only; ``--no-pin`` turns it off. ``os.sched_setaffinity(0, ...)``
    sets the calling thread's mask, which threads and children created afterwards inherit.
    """

    def __init__(self, enabled: bool) -> None:
        allowed = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else []
        self.enabled = enabled and len(allowed) >= 2
        self.client_cpu, self.child_cpu = (allowed[0], allowed[1]) if self.enabled else (-1, -1)
        if self.enabled:
            os.sched_setaffinity(0, {self.client_cpu})

    @contextmanager
    def spawning(self) -> Iterator[None]:
        """Children started inside this block run on the child's CPU."""
        if not self.enabled:
            yield
            return
        os.sched_setaffinity(0, {self.child_cpu})
        try:
            yield
        finally:
            os.sched_setaffinity(0, {self.client_cpu})

    def describe(self) -> str:
        return f"client on CPU {self.client_cpu}, child on CPU {self.child_cpu}" if self.enabled else "not pinned"


PIN = Pinning(False)


@dataclass
class Figures:
    """One measurement of one subject."""

    subject: str
    round_trips_per_s: float
    p50_us: float
    p99_us: float
    pingpong_count: int
    pipelined_msgs_per_s: float
    pipelined_count: int
    pipelined_mode: str
    extra: dict[str, Any] = field(default_factory=dict)


def percentile(sorted_values: list[int], q: float) -> float:
    """Nearest-rank percentile of already sorted values."""
    if not sorted_values:
        return math.nan
    rank = max(1, math.ceil(q * len(sorted_values)))
    return float(sorted_values[rank - 1])


# -- (a) and (b): one blocking client over pipes ----------------------------------------


class PipeClient:
    """A child process speaking NDJSON on stdin/stdout that announces BACKEND_READY on stderr."""

    def __init__(self, argv: list[str], *, cwd: Path | None = None) -> None:
        self.argv = argv
        with PIN.spawning():
            self.proc = subprocess.Popen(
                argv,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                bufsize=0,
                cwd=cwd,
            )
        assert self.proc.stdin is not None
        assert self.proc.stdout is not None
        self.in_fd = self.proc.stdin.fileno()
        self.out_fd = self.proc.stdout.fileno()
        self._buf = b""
        self._ready = threading.Event()
        self.stderr_tail: list[str] = []
        threading.Thread(target=self._drain_stderr, name="child-stderr", daemon=True).start()
        if not self._ready.wait(READY_TIMEOUT):
            self.close()
            raise RuntimeError(f"{argv} did not announce BACKEND_READY: {self.stderr_tail[-5:]}")

    def _drain_stderr(self) -> None:
        """Wait for the ready line, then keep the pipe empty so the child never blocks on logging."""
        assert self.proc.stderr is not None
        for raw in iter(self.proc.stderr.readline, b""):
            line = raw.decode("utf-8", "replace").rstrip()
            self.stderr_tail = [*self.stderr_tail[-19:], line]
            if not self._ready.is_set() and line.startswith("{"):
                try:
                    message = json.loads(line)
                except ValueError:
                    continue
                if isinstance(message, dict) and message.get("type") == "BACKEND_READY":
                    self._ready.set()
        self._ready.set()  # EOF: let a waiter see the failure at once

    def write_all(self, data: bytes) -> None:
        view = memoryview(data)
        while view:
            view = view[os.write(self.in_fd, view) :]

    def read_line(self) -> bytes:
        buf = self._buf
        while True:
            end = buf.find(b"\n")
            if end >= 0:
                self._buf = buf[end + 1 :]
                return buf[:end]
            chunk = os.read(self.out_fd, READ_CHUNK)
            if not chunk:
                raise EOFError(f"child closed stdout; stderr: {self.stderr_tail[-5:]}")
            buf += chunk

    def _check(self, response: bytes) -> None:
        message = json.loads(response)
        if message.get("success") is not True:
            raise RuntimeError(f"unexpected response: {response[:200]!r}")

    def warm_up(self, command_type: str, count: int) -> None:
        for i in range(count):
            self.write_all(json.dumps({"id": f"w{i}", "type": command_type, "payload": {}}).encode() + b"\n")
            self._check(self.read_line())

    def ping_pong(self, lines: list[bytes]) -> tuple[int, list[int]]:
        """One request in flight; returns (elapsed ns, latencies in ns)."""
        write, read, clock = self.write_all, self.read_line, time.perf_counter_ns
        latencies: list[int] = []
        bad = 0
        start = clock()
        for line in lines:
            t0 = clock()
            write(line)
            response = read()
            latencies.append(clock() - t0)
            if b'"success":true' not in response:
                bad += 1
        elapsed = clock() - start
        if bad:
            raise RuntimeError(f"{bad} of {len(lines)} ping-pong responses were not successes")
        return elapsed, latencies

    def pipelined(self, command_type: str, n: int) -> float:
        """Write n commands from one thread while another reads the n responses; messages per second."""
        prefix = b'{"id":"p'
        suffix = b'","type":"' + command_type.encode() + b'","payload":{}}\n'
        batches = [
            b"".join(prefix + str(i).encode() + suffix for i in range(lo, min(lo + WRITE_BATCH, n)))
            for lo in range(0, n, WRITE_BATCH)
        ]
        received: list[bytes] = []
        started = threading.Event()
        times: dict[str, int] = {}
        errors: list[BaseException] = []
        leftover = self._buf
        self._buf = b""

        def writer() -> None:
            try:
                times["start"] = time.perf_counter_ns()
                started.set()
                for batch in batches:
                    self.write_all(batch)
            except BaseException as exc:  # surfaced by the main thread
                errors.append(exc)
                started.set()

        def reader() -> None:
            try:
                seen = leftover.count(b"\n")
                received.append(leftover)
                while seen < n:
                    chunk = os.read(self.out_fd, READ_CHUNK)
                    if not chunk:
                        raise EOFError(f"child closed stdout after {seen} of {n}; stderr: {self.stderr_tail[-5:]}")
                    received.append(chunk)
                    seen += chunk.count(b"\n")
                times["end"] = time.perf_counter_ns()
            except BaseException as exc:  # surfaced by the main thread
                errors.append(exc)

        read_thread = threading.Thread(target=reader, name="bench-reader")
        write_thread = threading.Thread(target=writer, name="bench-writer")
        read_thread.start()
        write_thread.start()
        write_thread.join()
        read_thread.join()
        if errors:
            raise errors[0]
        data = b"".join(received)
        responses = data.split(b"\n")
        self._buf = responses.pop()
        ok = sum(1 for r in responses if b'"success":true' in r)
        if len(responses) != n or ok != n:
            raise RuntimeError(f"pipelined: {len(responses)} responses, {ok} successes, expected {n}")
        if not responses[-1].startswith(b'{"id":"p' + str(n - 1).encode() + b'"'):
            raise RuntimeError(f"pipelined: last response out of order: {responses[-1][:80]!r}")
        return n / ((times["end"] - times["start"]) / 1e9)

    def close(self) -> None:
        """End of input; the child should exit on its own (deskbridge within 2 s)."""
        try:
            assert self.proc.stdin is not None
            self.proc.stdin.close()
        except OSError:
            pass
        try:
            self.proc.wait(5)
        except subprocess.TimeoutExpired:
            self.proc.terminate()
            try:
                self.proc.wait(3)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        assert self.proc.stdout is not None
        self.proc.stdout.close()


def pipe_argv(subject: str, data_dir: str) -> list[str]:
    if subject == "deskbridge":
        return [PYTHON, "-m", "deskbridge", "stdio", "studio", "--data-dir", data_dir]
    if subject == "raw":
        return [PYTHON, str(HERE / "_raw_echo.py")]
    raise ValueError(subject)


def measure_pipes(subjects: list[str], cfg: Config) -> list[Figures]:
    """(a) and (b), side by side: ping-pong in alternating blocks, then pipelined one after the other.

    Both children live for the whole measurement and their ping-pong blocks alternate,
    so a change of regime on a shared machine (another process taking a core, the
    scheduler putting client and child on one core) hits both alike.
    """
    command_type = "PING"
    with ExitStack() as stack:
        data_dir = stack.enter_context(tempfile.TemporaryDirectory(prefix="deskbridge-bench-"))
        clients: dict[str, PipeClient] = {}
        for subject in subjects:
            client = PipeClient(pipe_argv(subject, data_dir), cwd=HERE.parent)
            stack.callback(client.close)
            clients[subject] = client
        for client in clients.values():
            client.warm_up(command_type, cfg.warmup)
        lines = [
            json.dumps({"id": f"c{i}", "type": command_type, "payload": {}}).encode() + b"\n"
            for i in range(cfg.pingpong)
        ]
        elapsed = dict.fromkeys(clients, 0)
        latencies: dict[str, list[int]] = {s: [] for s in clients}
        order = list(clients)
        for block, lo in enumerate(range(0, cfg.pingpong, PINGPONG_BLOCK)):
            for subject in order if block % 2 == 0 else reversed(order):
                took, lat = clients[subject].ping_pong(lines[lo : lo + PINGPONG_BLOCK])
                elapsed[subject] += took
                latencies[subject].extend(lat)
        pipelined: dict[str, float] = {}
        for subject, client in clients.items():
            client.pipelined(command_type, min(cfg.n, 10_000))  # warm the pipelined path too
            pipelined[subject] = client.pipelined(command_type, cfg.n)
    out: list[Figures] = []
    for subject in clients:
        lat = sorted(latencies[subject])
        out.append(
            Figures(
                subject=subject,
                round_trips_per_s=len(lat) / (elapsed[subject] / 1e9),
                p50_us=percentile(lat, 0.50) / 1000,
                p99_us=percentile(lat, 0.99) / 1000,
                pingpong_count=len(lat),
                pipelined_msgs_per_s=pipelined[subject],
                pipelined_count=cfg.n,
                pipelined_mode=f"pipelined, {WRITE_BATCH} lines per write",
            )
        )
    return out


# -- (c): the MCP SDK, driven by its own client ------------------------------------------


async def _mcp_run(cfg: Config) -> Figures:
    from mcp import ClientSession, StdioServerParameters, stdio_client

    params = StdioServerParameters(command=PYTHON, args=[str(HERE / "_mcp_server.py")], cwd=HERE.parent)
    clock = time.perf_counter_ns
    async with AsyncExitStack() as stack:
        with PIN.spawning():  # the SDK spawns the server while entering its transport
            read, write = await stack.enter_async_context(stdio_client(params))
        session = await stack.enter_async_context(ClientSession(read, write))
        await session.initialize()

        async def call() -> None:
            result = await session.call_tool("ping", {})
            if result.is_error:
                raise RuntimeError(f"MCP ping failed: {result.content}")

        for _ in range(cfg.mcp_warmup):
            await call()
        latencies: list[int] = []
        start = clock()
        for _ in range(cfg.mcp_pingpong):
            t0 = clock()
            await call()
            latencies.append(clock() - t0)
        elapsed = clock() - start
        start = clock()
        await asyncio.gather(*(call() for _ in range(cfg.mcp_concurrent)))
        concurrent_elapsed = clock() - start
    latencies.sort()
    return Figures(
        subject="mcp",
        round_trips_per_s=cfg.mcp_pingpong / (elapsed / 1e9),
        p50_us=percentile(latencies, 0.50) / 1000,
        p99_us=percentile(latencies, 0.99) / 1000,
        pingpong_count=cfg.mcp_pingpong,
        pipelined_msgs_per_s=cfg.mcp_concurrent / (concurrent_elapsed / 1e9),
        pipelined_count=cfg.mcp_concurrent,
        pipelined_mode=f"{cfg.mcp_concurrent} concurrent call_tool (asyncio.gather)",
    )


def measure_mcp(cfg: Config) -> Figures:
    return asyncio.run(_mcp_run(cfg))


# -- the run ------------------------------------------------------------------------------


@dataclass
class Config:
    n: int
    warmup: int
    pingpong: int
    mcp_warmup: int
    mcp_pingpong: int
    mcp_concurrent: int
    repeat: int
    subjects: list[str]


@dataclass
class Target:
    name: str
    met: bool | None
    detail: str


def median_figures(runs: list[Figures]) -> Figures:
    first = runs[0]
    return Figures(
        subject=first.subject,
        round_trips_per_s=statistics.median(r.round_trips_per_s for r in runs),
        p50_us=statistics.median(r.p50_us for r in runs),
        p99_us=statistics.median(r.p99_us for r in runs),
        pingpong_count=first.pingpong_count,
        pipelined_msgs_per_s=statistics.median(r.pipelined_msgs_per_s for r in runs),
        pipelined_count=first.pipelined_count,
        pipelined_mode=first.pipelined_mode,
        extra={"runs": len(runs)},
    )


def targets(med: dict[str, Figures]) -> list[Target]:
    out: list[Target] = []
    db, raw, mcp = med.get("deskbridge"), med.get("raw"), med.get("mcp")

    name = "deskbridge pipelined >= 50% of the raw echo's"
    if db and raw:
        ratio = db.pipelined_msgs_per_s / raw.pipelined_msgs_per_s
        detail = f"{db.pipelined_msgs_per_s:,.0f} vs {raw.pipelined_msgs_per_s:,.0f} msg/s = {ratio:.0%}"
        out.append(Target(name, ratio >= 0.5, detail))
    else:
        out.append(Target(name, None, "needs deskbridge and raw"))

    name = "deskbridge ping-pong p50 <= 1.5x the raw echo's"
    if db and raw:
        ratio = db.p50_us / raw.p50_us
        out.append(Target(name, ratio <= 1.5, f"{db.p50_us:,.1f} vs {raw.p50_us:,.1f} us = {ratio:.2f}x"))
    else:
        out.append(Target(name, None, "needs deskbridge and raw"))

    name = "deskbridge round trips/s >= 10x the MCP SDK's"
    if db and mcp:
        ratio = db.round_trips_per_s / mcp.round_trips_per_s
        detail = f"{db.round_trips_per_s:,.0f} vs {mcp.round_trips_per_s:,.0f} /s = {ratio:.1f}x"
        out.append(Target(name, ratio >= 10, detail))
    else:
        out.append(Target(name, None, "needs deskbridge and mcp"))
    return out


def render(med: dict[str, Figures], results: list[Target], cfg: Config) -> str:
    header = f"{'subject':<40} {'round trips/s':>13} {'p50 us':>9} {'p99 us':>9} {'pipelined msg/s':>16}  mode"
    lines = [header, "-" * len(header)]
    for subject in cfg.subjects:
        f = med[subject]
        lines.append(
            f"{LABELS[subject]:<40} {f.round_trips_per_s:>13,.0f} {f.p50_us:>9,.1f} {f.p99_us:>9,.1f}"
            f" {f.pipelined_msgs_per_s:>16,.0f}  {f.pipelined_mode}"
        )
    lines.append("")
    lines.append("targets:")
    for t in results:
        verdict = "n/a" if t.met is None else ("MET" if t.met else "MISSED")
        lines.append(f"  [{verdict:>6}] {t.name}: {t.detail}")
    return "\n".join(lines)


def machine() -> dict[str, Any]:
    from importlib.metadata import version

    return {
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "mcp": version("mcp"),
        "orjson": version("orjson"),
        "deskbridge": version("deskbridge"),
    }


def parse_args(argv: list[str] | None) -> tuple[Config, argparse.Namespace]:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="fewer iterations and one repetition (~10 s)")
    parser.add_argument("--n", type=int, help="pipelined commands per measurement (default 100000, quick 20000)")
    parser.add_argument("--pingpong", type=int, help="timed round trips for (a) and (b) (default 5000)")
    parser.add_argument("--mcp-n", type=int, help="MCP round trips and concurrent calls (default 2000)")
    parser.add_argument("--repeat", type=int, help="repetitions, figures are medians (default 3, quick 1)")
    parser.add_argument("--only", default=",".join(SUBJECTS), help="comma-separated subset of: " + ", ".join(SUBJECTS))
    parser.add_argument(
        "--no-pin",
        action="store_true",
        help="leave CPU placement to the scheduler (by default, on Linux with 2+ CPUs, the client runs on one "
        "CPU and each child on another)",
    )
    parser.add_argument("--json", type=Path, metavar="FILE", help="also write the figures as JSON")
    parser.add_argument("--strict", action="store_true", help="exit 1 when a target is missed")
    args = parser.parse_args(argv)
    subjects = [s.strip() for s in args.only.split(",") if s.strip()]
    unknown = set(subjects) - set(SUBJECTS)
    if unknown or not subjects:
        parser.error(f"--only takes a subset of {', '.join(SUBJECTS)}")
    mcp_n = args.mcp_n or (500 if args.quick else 2000)
    cfg = Config(
        n=args.n or (20_000 if args.quick else 100_000),
        warmup=500 if args.quick else 1000,
        pingpong=args.pingpong or (2000 if args.quick else 5000),
        mcp_warmup=100 if args.quick else 200,
        mcp_pingpong=mcp_n,
        mcp_concurrent=mcp_n,
        repeat=args.repeat or (1 if args.quick else 3),
        subjects=[s for s in SUBJECTS if s in subjects],
    )
    return cfg, args


def main(argv: list[str] | None = None) -> int:
    global PIN
    cfg, args = parse_args(argv)
    PIN = Pinning(not args.no_pin)
    info = machine()
    info["pinning"] = PIN.describe()
    print(
        f"stdio bench: {info['cpus']} cpus, Python {info['python']}, mcp {info['mcp']}; "
        f"pipelined N={cfg.n:,}, ping-pong {cfg.pingpong:,} (MCP {cfg.mcp_pingpong:,}), repeat {cfg.repeat}; "
        f"{PIN.describe()}",
        flush=True,
    )
    began = time.perf_counter()
    runs: dict[str, list[Figures]] = {s: [] for s in cfg.subjects}
    pipes = [s for s in cfg.subjects if s != "mcp"]
    for rep in range(cfg.repeat):
        measured = measure_pipes(pipes, cfg) if pipes else []
        if "mcp" in cfg.subjects:
            measured.append(measure_mcp(cfg))
        for f in measured:
            runs[f.subject].append(f)
            print(
                f"  run {rep + 1}/{cfg.repeat} {f.subject:<10} {f.round_trips_per_s:>9,.0f} rt/s"
                f"  p50 {f.p50_us:>8,.1f} us  p99 {f.p99_us:>8,.1f} us  {f.pipelined_msgs_per_s:>11,.0f} msg/s",
                flush=True,
            )
    med = {s: median_figures(r) for s, r in runs.items()}
    results = targets(med)
    print()
    print(render(med, results, cfg))
    print(f"\n({time.perf_counter() - began:.1f} s; medians of {cfg.repeat} run(s))")
    if args.json:
        document = {
            "machine": info,
            "config": asdict(cfg),
            "median": {s: asdict(f) for s, f in med.items()},
            "runs": {s: [asdict(f) for f in r] for s, r in runs.items()},
            "targets": [asdict(t) for t in results],
        }
        args.json.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
    if args.strict and any(t.met is False for t in results):
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
