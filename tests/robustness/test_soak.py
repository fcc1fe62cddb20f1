"""A bounded soak of one web backend: mixed commands, operations, clients that come and go, games that start and stop.

``deskbridge serve diag guardian`` runs for ``DESKBRIDGE_SOAK_SECONDS`` (60 in
CI; set it to 600 or more for a real soak) while, from one event loop:

* two commanders send a mix of commands (PING, ECHO, EMIT bursts, COUNT
  operations, some cancelled, lookups, sleeps, malformed bodies), one over a
  WebSocket and one over HTTP, and time every answer;
* four WebSocket clients read the event stream and leave every few seconds,
  half of them cleanly and half by cutting the connection, then resume from
  their last ``seq``;
* two polling clients long-poll ``/api/events`` with their cursor;
* a game (a copy of ``sleep`` named like the guardian's target) starts and
  stops over and over, so the guardian's watcher raises events from its
  thread.

At the end every client must hold every event of the log exactly once and in
order, every operation must have ended exactly once, every game start must
have been seen, and the server's memory (RSS) and open file descriptors must
be flat. The figures (events, reconnections, p50/p99 latency, RSS and fd
growth) go to docs/reliability.md.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import os
import random
import shutil
import statistics
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

import httpx
import pytest
import websockets

from tests.robustness.support import gaps_and_duplicates, open_fds, percentile, record, rss_kib
from tests.webserver import WebServer

Serve = Callable[..., WebServer]
SOAK_SECONDS: Final = float(os.environ.get("DESKBRIDGE_SOAK_SECONDS", "60"))
WEBSOCKET_CLIENTS: Final = 4
POLLING_CLIENTS: Final = 2
GAME: Final = "SoakGame"
TERMINAL: Final = frozenset({"completed", "failed", "cancelled"})
RSS_GROWTH_LIMIT_KIB: Final = 16 * 1024
"""Allowed growth between the end of the warm-up and the end of the run; a leak of a few bytes per event
or per connection would pass it within minutes only for the shortest soaks, so longer runs are stricter."""


@dataclass
class Stream:
    """One client's view of the event stream, across all its connections."""

    name: str
    seqs: list[int] = field(default_factory=list)
    epoch: str | None = None
    connections: int = 0
    ends: Counter[str] = field(default_factory=Counter)
    """Terminal events received, by operation."""
    games: Counter[str] = field(default_factory=Counter)
    """``roblox_event`` kinds received."""

    @property
    def last(self) -> int:
        return self.seqs[-1] if self.seqs else 0

    def take(self, event: dict[str, Any]) -> None:
        self.seqs.append(event["seq"])
        payload = event.get("payload")
        if isinstance(payload, dict) and payload.get("status") in TERMINAL:
            self.ends[payload["operation_id"]] += 1
        elif event["type"] == "roblox_event":
            self.games[event["event_type"]] += 1

    def cursor(self) -> dict[str, Any]:
        return {"after": self.last, **({"epoch": self.epoch} if self.epoch else {})}


@dataclass
class Soak:
    server: WebServer
    until: float
    rng: random.Random = field(default_factory=lambda: random.Random(4))
    latencies: list[float] = field(default_factory=list)
    commands: Counter[str] = field(default_factory=Counter)
    failures: list[str] = field(default_factory=list)
    operations: set[str] = field(default_factory=set)
    pending_cancels: list[str] = field(default_factory=list)
    game_starts: int = 0
    samples: list[tuple[float, int, int]] = field(default_factory=list)

    def running(self) -> bool:
        return time.monotonic() < self.until

    # -- the server's health ------------------------------------------------------------

    async def sample(self) -> None:
        assert self.server.proc is not None
        pid, start = self.server.proc.pid, time.monotonic()
        while self.running():
            self.samples.append((time.monotonic() - start, rss_kib(pid), open_fds(pid)))
            await asyncio.sleep(0.5)

    # -- commands -------------------------------------------------------------------------

    def next_command(self, serial: int) -> dict[str, Any]:
        kind = self.rng.choices(
            ["PING", "ECHO", "EMIT", "COUNT", "GET_OPERATION", "GET_EVENTS", "SLEEP", "LIST_OPERATIONS"],
            weights=[25, 20, 20, 10, 5, 5, 5, 5],
        )[0]
        payload: dict[str, Any] = {
            "ECHO": {"n": serial, "text": "é" * self.rng.randrange(200)},
            "EMIT": {"count": self.rng.randint(1, 30), "type": "SOAK_EVENT"},
            "COUNT": {"to": 5, "interval": 0.02},
            "GET_OPERATION": {"operation_id": next(iter(self.operations), "none")},
            "GET_EVENTS": {"after": self.rng.randrange(100), "limit": 5},
            "SLEEP": {"seconds": 0.01},
            "LIST_OPERATIONS": {"active_only": True},
        }.get(kind, {})
        return {"id": f"soak-{serial}", "type": kind, "payload": payload}

    def check_answer(self, command: dict[str, Any], answer: dict[str, Any], began: float) -> None:
        self.latencies.append(time.monotonic() - began)
        self.commands[command["type"]] += 1
        if answer.get("id") != command["id"]:
            self.failures.append(f"{command['type']}: answered with id {answer.get('id')!r}")
        elif not answer["success"] and answer["error_code"] != "OPERATION_NOT_FOUND":
            self.failures.append(f"{command['type']}: {answer['error_code']} {answer['error']}")
        elif command["type"] == "COUNT":
            operation = answer["data"]["operation_id"]
            self.operations.add(operation)
            if self.rng.random() < 0.3:
                self.pending_cancels.append(operation)

    def command_or_cancel(self, serial: int) -> dict[str, Any]:
        if self.pending_cancels:
            operation = self.pending_cancels.pop()
            return {"id": f"soak-{serial}", "type": "CANCEL_OPERATION", "payload": {"operation_id": operation}}
        return self.next_command(serial)

    async def http_commander(self, serials: itertools.count[int]) -> None:
        async with httpx.AsyncClient(base_url=self.server.url, headers=self.server.headers, timeout=30) as http:
            while self.running():
                serial = next(serials)
                if serial % 20 == 0:  # a body that is not JSON: refused, the server goes on
                    began = time.monotonic()
                    refused = await http.post("/api/command", content=b"{not json", headers=_JSON)
                    self.latencies.append(time.monotonic() - began)
                    self.commands["(malformed)"] += 1
                    if refused.status_code != 400:
                        self.failures.append(f"malformed body answered {refused.status_code}")
                    continue
                command = self.command_or_cancel(serial)
                began = time.monotonic()
                answer = (await http.post("/api/command", json=command)).json()
                self.check_answer(command, answer, began)
                await asyncio.sleep(0.002)

    async def websocket_commander(self, serials: itertools.count[int]) -> None:
        url = f"{self.server.ws_url}?token={self.server.token}"
        async with websockets.connect(url, max_size=None) as ws:
            while self.running():
                command = self.command_or_cancel(next(serials))
                began = time.monotonic()
                await ws.send(json.dumps(command))
                while True:  # live events come on this connection too: skip them
                    message = json.loads(await asyncio.wait_for(ws.recv(), 30))
                    if "seq" not in message and message.get("type") != "SUBSCRIBED":
                        break
                self.check_answer(command, message, began)
                await asyncio.sleep(0.002)

    # -- clients ---------------------------------------------------------------------------

    def websocket_url(self, stream: Stream) -> str:
        query = "&".join(f"{k}={v}" for k, v in {"token": self.server.token, **stream.cursor()}.items())
        return f"{self.server.ws_url}?{query}"

    async def websocket_client(self, stream: Stream, head: int | None = None) -> None:
        """Connect, read, leave after a few seconds (cleanly or not), resume; with ``head``: read up to it once."""
        while self.running() or (head is not None and stream.last < head):
            stream.connections += 1
            stay = self.rng.uniform(0.5, 4.0) if head is None else 60.0
            with contextlib.suppress(websockets.ConnectionClosed):
                async with websockets.connect(self.websocket_url(stream), max_size=None, close_timeout=1) as ws:
                    notice = json.loads(await ws.recv())
                    if not notice["recovered"]:
                        self.failures.append(f"{stream.name}: resume not recovered: {notice}")
                    stream.epoch = notice["epoch"]
                    leave = time.monotonic() + stay
                    while (head is None and time.monotonic() < leave) or (head is not None and stream.last < head):
                        try:
                            raw = await asyncio.wait_for(ws.recv(), max(0.01, leave - time.monotonic()))
                        except TimeoutError:
                            break
                        message = json.loads(raw)
                        if "seq" in message:
                            stream.take(message)
                    if head is None and self.rng.random() < 0.5:
                        ws.transport.abort()  # vanish without a close frame
            if head is not None:
                return

    async def polling_client(self, stream: Stream, head: int | None = None) -> None:
        async with httpx.AsyncClient(base_url=self.server.url, headers=self.server.headers, timeout=30) as http:
            while self.running() or (head is not None and stream.last < head):
                stream.connections += 1
                params = {**stream.cursor(), "wait": 1, "limit": 500, "client_id": stream.name}
                answer = (await http.get("/api/events", params=params)).json()
                if not answer["recovered"]:
                    self.failures.append(f"{stream.name}: poll not recovered")
                stream.epoch = answer["epoch"]
                for event in answer["events"]:
                    stream.take(event)

    # -- games ------------------------------------------------------------------------------

    async def games(self, program: Path) -> None:
        while self.running():
            game = await asyncio.create_subprocess_exec(str(program), "600", start_new_session=True)
            self.game_starts += 1
            try:
                await asyncio.sleep(self.rng.uniform(0.6, 2.0))
            finally:
                game.kill()
                await game.wait()
            await asyncio.sleep(self.rng.uniform(0.4, 1.0))


_JSON: Final = {"content-type": "application/json"}


def head_of(server: WebServer) -> int:
    """The newest ``seq`` on disk."""
    with server.http() as http:
        return int(http.get("/api/events", params={"after": 0, "limit": 1}).json()["head"])


def flatness(samples: list[tuple[float, int, int]], duration: float) -> tuple[int, int]:
    """RSS (KiB) after the warm-up (20-35 % of the run) and at the end (last 15 %), as medians."""
    warm = [rss for at, rss, _ in samples if 0.2 * duration <= at <= 0.35 * duration]
    end = [rss for at, rss, _ in samples if at >= 0.85 * duration]
    return int(statistics.median(warm)), int(statistics.median(end))


@pytest.mark.slow
@pytest.mark.timeout(SOAK_SECONDS + 180)
def test_a_soak_of_mixed_traffic_keeps_memory_and_descriptors_flat_and_every_event_exactly_once(
    serve: Serve, tmp_path: Path
) -> None:
    program = tmp_path / "bin" / GAME
    program.parent.mkdir()
    shutil.copy(shutil.which("sleep") or "/bin/sleep", program)
    config = tmp_path / "config.json"
    config.write_text(json.dumps({
        "monitor": {"process_names": [GAME], "close_also": [], "poll_interval": 0.2},
        "children": {"default_child": {"daily_limit_minutes": 1440}},
    }))  # fmt: skip
    server = serve("diag", "guardian", extra=("--config", str(config)))
    assert server.proc is not None
    pid = server.proc.pid
    time.sleep(0.5)
    fds_before, rss_before = open_fds(pid), rss_kib(pid)
    soak = Soak(server, time.monotonic() + SOAK_SECONDS)
    sockets = [Stream(f"ws-{i}") for i in range(WEBSOCKET_CLIENTS)]
    pollers = [Stream(f"poll-{i}") for i in range(POLLING_CLIENTS)]

    async def run() -> None:
        serials = itertools.count()
        await asyncio.gather(
            soak.sample(),
            soak.http_commander(serials),
            soak.websocket_commander(serials),
            soak.games(program),
            *(soak.websocket_client(stream) for stream in sockets),
            *(soak.polling_client(stream) for stream in pollers),
        )
        await asyncio.sleep(1.0)  # the last operations end, the last game is seen gone
        head.append(await asyncio.to_thread(head_of, server))
        await asyncio.gather(
            *(soak.websocket_client(stream, head[0]) for stream in sockets),
            *(soak.polling_client(stream, head[0]) for stream in pollers),
        )

    head: list[int] = []
    asyncio.run(run())
    time.sleep(1.0)
    fds_after = open_fds(pid)
    rss_warm, rss_end = flatness(soak.samples, SOAK_SECONDS)
    everyone = [*sockets, *pollers]
    per_client = {stream.name: gaps_and_duplicates(stream.seqs, head[0]) for stream in everyone}
    out_of_order = [stream.name for stream in everyone if stream.seqs != sorted(stream.seqs)]
    unfinished = {stream.name: [op for op in soak.operations if stream.ends[op] != 1] for stream in everyone}
    latencies_ms = [1000 * latency for latency in soak.latencies]
    figures = {
        "seconds": SOAK_SECONDS,
        "events": head[0],
        "commands": sum(soak.commands.values()),
        "operations": len(soak.operations),
        "reconnections": sum(s.connections for s in sockets) - len(sockets),
        "polls": sum(s.connections for s in pollers),
        "game_starts": soak.game_starts,
        "events_lost": sum(missing for missing, _ in per_client.values()),
        "duplicates": sum(duplicates for _, duplicates in per_client.values()),
        "p50_ms": round(percentile(latencies_ms, 50), 2),
        "p99_ms": round(percentile(latencies_ms, 99), 2),
        "max_ms": round(max(latencies_ms), 2),
        "rss_start_kib": rss_before,
        "rss_after_warmup_kib": rss_warm,
        "rss_end_kib": rss_end,
        "rss_growth_kib": rss_end - rss_warm,
        "fds_start": fds_before,
        "fds_end": fds_after,
        "fd_growth": fds_after - fds_before,
        "fds_max": max(fds for _, _, fds in soak.samples),
        "rss_by_tenth_kib": [rss for _, rss, _ in soak.samples[:: max(1, len(soak.samples) // 10)]],
    }
    record("soak", **figures)
    print(json.dumps(figures, indent=1))
    assert soak.failures == []
    assert all(counts == (0, 0) for counts in per_client.values()), per_client
    assert out_of_order == []
    assert all(ops == [] for ops in unfinished.values()), "an operation did not end exactly once for a client"
    for stream in everyone:
        assert stream.games["roblox_started"] == stream.games["roblox_stopped"] == soak.game_starts, stream.name
    assert fds_after - fds_before <= 0, f"{fds_after - fds_before} descriptors more than at the start"
    assert rss_end - rss_warm < RSS_GROWTH_LIMIT_KIB, f"RSS grew by {rss_end - rss_warm} KiB"
