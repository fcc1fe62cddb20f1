"""Benchmark of the backend under hostile local load, each figure beside its reference from the same run.

Over the stdio door of ``python -m deskbridge stdio diag`` (a fresh data dir each):

* **stop**: stdin closed with N operations running (``COUNT``, default 10,000), against none running.
  Target: within the documented 2 s.
* **finish together**: the worst ``PING`` while N operations end in the same instant, against an idle PING.
* **emit**: the worst ``PING`` while ``EMIT`` publishes a million events, and the backend's peak memory growth.

    .venv/bin/python bench/load.py [--n 10000] [--emit 1000000] [--strict]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

STOP_TARGET = 2.0


class Backend:
    """A stdio backend whose answers are timed as they arrive (events are read and dropped)."""

    def __init__(self, data_dir: Path) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "deskbridge", "stdio", "diag", "--data-dir", str(data_dir)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        self.answered: dict[str, float] = {}
        self._ids = 0
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            if line.startswith(b'{"id":"b-'):  # an answer (an event's id is "progress-event" or absent)
                self.answered[json.loads(line)["id"]] = time.perf_counter()

    def send(self, command: str, payload: dict[str, object] | None = None, count: int = 1) -> list[str]:
        assert self.proc.stdin is not None
        ids = [f"b-{self._ids + n}" for n in range(count)]
        self._ids += count
        lines = (json.dumps({"id": i, "type": command, "payload": payload or {}}) + "\n" for i in ids)
        self.proc.stdin.write("".join(lines).encode())
        self.proc.stdin.flush()
        return ids

    def wait(self, ids: list[str], timeout: float = 300) -> None:
        deadline = time.monotonic() + timeout
        while not all(i in self.answered for i in ids):
            if time.monotonic() > deadline:
                raise TimeoutError(f"{len(ids)} answers")
            time.sleep(0.005)

    def ping(self) -> float:
        started = time.perf_counter()
        (command,) = self.send("PING")
        self.wait([command])
        return self.answered[command] - started

    def peak_rss_mib(self) -> float:
        for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
        return float("nan")

    def stop(self) -> float:
        assert self.proc.stdin is not None
        started = time.perf_counter()
        self.proc.stdin.close()
        self.proc.wait(120)
        return time.perf_counter() - started


def worst_ping_until(backend: Backend, done: list[str]) -> float:
    worst = 0.0
    while not all(i in backend.answered for i in done):
        worst = max(worst, backend.ping())
        time.sleep(0.02)
    return worst


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=10_000, help="operations running or finishing together")
    parser.add_argument("--emit", type=int, default=1_000_000, help="events of the EMIT burst")
    parser.add_argument("--strict", action="store_true", help="exit 1 when the stop target is missed")
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="deskbridge-load-"))

    idle = Backend(root / "idle")
    idle_ping = min(idle.ping() for _ in range(20))
    idle_stop = idle.stop()

    running = Backend(root / "running")
    running.wait(running.send("COUNT", {"to": 1, "interval": 30}, args.n))
    loaded_stop = running.stop()

    together = Backend(root / "together")
    together.wait(together.send("COUNT", {"to": 1, "interval": 5}, args.n))
    worst_finishing = worst_ping_until(together, [together.send("SLEEP", {"seconds": 6})[0]])
    together.stop()

    burst = Backend(root / "burst")
    burst.ping()
    before = burst.peak_rss_mib()
    worst_emit = worst_ping_until(burst, burst.send("EMIT", {"count": args.emit}))
    grown = burst.peak_rss_mib() - before
    burst.stop()

    idle_ms = f"idle: {idle_ping * 1000:.2f} ms"
    rows = [
        ("stop at end of input", f"{args.n} operations running", f"{loaded_stop:.2f} s", f"none: {idle_stop:.2f} s"),
        ("worst PING", f"{args.n} operations ending together", f"{worst_finishing * 1000:.0f} ms", idle_ms),
        ("worst PING", f"EMIT of {args.emit} events", f"{worst_emit * 1000:.0f} ms", idle_ms),
        ("peak RSS growth", f"EMIT of {args.emit} events", f"{grown:.1f} MiB", "—"),
    ]
    print("| figure | under | value | reference (same run) |\n|---|---|---|---|")
    for row in rows:
        print("| " + " | ".join(row) + " |")
    met = loaded_stop <= STOP_TARGET
    print(f"\ntarget: stop within {STOP_TARGET:g} s with {args.n} running: {'met' if met else 'MISSED'}")
    return 0 if met or not args.strict else 1


if __name__ == "__main__":
    sys.exit(main())
