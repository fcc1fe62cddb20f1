"""Benchmark of the web door against python-socketio, raw websockets and a bare Starlette WebSocket.

Every server runs in its own process on 127.0.0.1; this process is the client.
WebSocket subjects are driven by the same ``websockets`` client (socket.io by
its own ``AsyncClient``), polling subjects by ``aiohttp`` (the HTTP client
socket.io's own client runs on). Figures are medians of ``--repeat`` runs, measured in the same run as
their references (these machines are noisy: compare ratios, not absolutes).

* round trips/s: one ~45-byte JSON message in flight, answered after the server
  parsed it and encoded its answer (deskbridge: ``ECHO``); p50/p99 in µs. The
  three WebSocket servers run side by side and are measured in alternating
  blocks (ABC CBA ...), as bench/stdio.py does, so drift on the machine hits
  them alike;
* push: the server sends N small JSON messages as fast as it can (deskbridge:
  ``EMIT`` -- every event committed to SQLite before it is sent), to one client
  and to 10;
* polling: ``POST /api/command`` round trips, and events fetched by
  ``GET /api/events`` pages (socket.io: its polling transport);
* durable appends: the event log alone, every event on disk before delivery.

    .venv/bin/python bench/web.py [--quick] [--repeat 3] [--json FILE]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import orjson
import websockets

HERE = Path(__file__).resolve().parent
PYTHON = sys.executable
MESSAGE = {"id": "1", "type": "ECHO", "payload": {"k": "v"}}  # 45 bytes of JSON
ECHO_TEXT = orjson.dumps(MESSAGE).decode()
WARMUP = 500  # round trips before measuring: a server just started is still warming up


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def timing(elapsed: float, latencies: list[float]) -> dict[str, float]:
    """Round trips/s and p50/p99 in µs of one sequential run."""
    return {
        "rt_per_s": len(latencies) / elapsed,
        "p50_us": percentile(latencies, 0.5) * 1e6,
        "p99_us": percentile(latencies, 0.99) * 1e6,
    }


# -- servers ----------------------------------------------------------------------------


class Pinning:
    """The client on one CPU, every server on the other (Linux), as bench/stdio.py does.

    Unpinned, a server that the scheduler happens to put on the client's CPU answers a
    ping-pong by a direct switch instead of a cross-CPU wake-up, and which server gets that
    luck varies from run to run: a lottery, not a property of the code. ``--no-pin``
    leaves placement to the scheduler.
    """

    def __init__(self) -> None:
        allowed = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else []
        self.enabled = len(allowed) >= 2
        if self.enabled:
            self.client_cpu, self.server_cpu = allowed[0], allowed[1]

    def pin_client(self) -> None:
        if self.enabled:
            os.sched_setaffinity(0, {self.client_cpu})

    def server_preexec(self) -> Callable[[], None] | None:
        if not self.enabled:
            return None
        cpu = self.server_cpu
        return lambda: os.sched_setaffinity(0, {cpu})

    def __str__(self) -> str:
        return f"client on CPU {self.client_cpu}, servers on CPU {self.server_cpu}" if self.enabled else "not pinned"


PIN = Pinning()


@contextmanager
def reference_server(kind: str) -> Iterator[int]:
    proc = subprocess.Popen(
        [PYTHON, str(HERE / "_web_servers.py"), kind], stdout=subprocess.PIPE, preexec_fn=PIN.server_preexec()
    )
    try:
        assert proc.stdout is not None
        yield int(json.loads(proc.stdout.readline())["port"])
    finally:
        proc.kill()
        proc.wait()


@contextmanager
def deskbridge_server() -> Iterator[tuple[int, str]]:
    with tempfile.TemporaryDirectory() as data_dir:
        proc = subprocess.Popen(
            [PYTHON, "-m", "deskbridge", "serve", "diag", "--port", "0", "--data-dir", data_dir,
             "--log-level", "WARNING"],
            stderr=subprocess.PIPE,
            preexec_fn=PIN.server_preexec(),
        )  # fmt: skip
        try:
            assert proc.stderr is not None
            while True:
                line = proc.stderr.readline()
                if not line:
                    raise RuntimeError("deskbridge serve did not start")
                if b'"BACKEND_READY"' in line:
                    ready = json.loads(line)
                    break
            token = (Path(data_dir) / "token").read_text().strip()
            yield int(ready["port"]), token
        finally:
            proc.kill()
            proc.wait()


# -- WebSocket --------------------------------------------------------------------------


async def ws_round_trips(urls: dict[str, str], n: int, block: int = 250) -> dict[str, dict[str, float]]:
    """Round trips to several servers in alternating blocks (ABC CBA ...), so drift hits all alike."""
    sockets = {name: await websockets.connect(url, compression=None, max_size=None) for name, url in urls.items()}
    for name, ws in sockets.items():
        if name.startswith("deskbridge"):
            await ws.send('{"id":"s","type":"SUBSCRIBE","payload":{}}')
            await ws.recv()
        for _ in range(WARMUP):
            await ws.send(ECHO_TEXT)
            await ws.recv()
    latencies: dict[str, list[float]] = {name: [] for name in sockets}
    order = list(sockets)
    for round_ in range(max(1, n // block)):
        for name in order if round_ % 2 == 0 else reversed(order):
            ws, spent = sockets[name], latencies[name]
            for _ in range(block):
                sent = time.perf_counter()
                await ws.send(ECHO_TEXT)
                orjson.loads(await ws.recv())
                spent.append(time.perf_counter() - sent)
    for ws in sockets.values():
        await ws.close()
    return {name: timing(sum(spent), spent) for name, spent in latencies.items()}


async def ws_push(urls: list[str], n: int, trigger: str, *, deskbridge: bool) -> float:
    """Messages received per second over all clients, from the trigger to the last one."""
    sockets = [await websockets.connect(url, compression=None, max_size=None) for url in urls]
    if deskbridge:
        for ws in sockets:
            await ws.send('{"id":"s","type":"SUBSCRIBE","payload":{}}')
            await ws.recv()

    async def count(ws: Any) -> None:
        got = 0
        while got < n:
            raw = await ws.recv()
            if not deskbridge or raw.startswith('{"type"'):
                got += 1

    readers = [asyncio.ensure_future(count(ws)) for ws in sockets]
    began = time.perf_counter()
    await sockets[0].send(trigger)
    if not deskbridge and len(sockets) > 1 and "push" in trigger:
        for ws in sockets[1:]:
            await ws.send(trigger)
    await asyncio.gather(*readers)
    elapsed = time.perf_counter() - began
    for ws in sockets:
        await ws.close()
    return n * len(sockets) / elapsed


# -- socket.io ------------------------------------------------------------------------


async def socketio_figures(port: int, transport: str, n: int, push: int) -> dict[str, float]:
    import aiohttp
    import engineio.payload
    import socketio

    # engine.io drops a polling connection whose payload holds more than 16 packets (see
    # shared/reference/performance.md); a push burst holds thousands.
    engineio.payload.Payload.max_decode_packets = 1_000_000
    # Our own HTTP session, closed below: the client's, left open by the hanging disconnect, is reported unclosed.
    http_session = aiohttp.ClientSession()
    client = socketio.AsyncClient(http_session=http_session)
    received = 0
    done = asyncio.Event()

    @client.on("event")  # type: ignore[untyped-decorator]
    async def on_event(data: Any) -> None:
        nonlocal received
        received += 1
        if received >= push:
            done.set()

    await client.connect(f"http://127.0.0.1:{port}", transports=[transport])
    for _ in range(WARMUP):
        await client.call("ping", MESSAGE)
    latencies: list[float] = []
    began = time.perf_counter()
    for _ in range(n):
        sent = time.perf_counter()
        await client.call("ping", MESSAGE)
        latencies.append(time.perf_counter() - sent)
    elapsed = time.perf_counter() - began
    push_began = time.perf_counter()
    await client.emit("push", push)
    await asyncio.wait_for(done.wait(), 120)
    push_elapsed = time.perf_counter() - push_began
    with contextlib.suppress(TimeoutError):  # its polling disconnect hangs ~30 s (performance.md)
        await asyncio.wait_for(client.disconnect(), 1)
    await http_session.close()
    return {**timing(elapsed, latencies), "push_per_s": push / push_elapsed}


# -- polling --------------------------------------------------------------------------


async def deskbridge_polling(port: int, token: str, n: int, push: int) -> dict[str, float]:
    """With aiohttp, the HTTP client python-socketio's own client uses: the same client stack for both."""
    import aiohttp

    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    base = f"http://127.0.0.1:{port}"
    async with aiohttp.ClientSession(base, headers=headers) as http:

        async def get_events(**params: int) -> dict[str, Any]:
            async with http.get("/api/events", params=params) as response:
                answer: dict[str, Any] = orjson.loads(await response.read())
                return answer

        async def post(body: bytes) -> Any:
            async with http.post("/api/command", data=body) as response:
                return orjson.loads(await response.read())

        head = (await get_events(after=0, limit=1))["head"]
        body = ECHO_TEXT.encode()
        for _ in range(WARMUP):
            await post(body)
        latencies: list[float] = []
        began = time.perf_counter()
        for _ in range(n):
            sent = time.perf_counter()
            await post(body)
            latencies.append(time.perf_counter() - sent)
        elapsed = time.perf_counter() - began
        push_began = time.perf_counter()
        await post(orjson.dumps({"id": "e", "type": "EMIT", "payload": {"count": push}}))
        cursor, got = head, 0
        while got < push:
            answer = await get_events(after=cursor, wait=5)
            got += len(answer["events"])
            cursor = answer["last_seq"]
        push_elapsed = time.perf_counter() - push_began
    return {**timing(elapsed, latencies), "push_per_s": push / push_elapsed}


# -- the event log alone --------------------------------------------------------------


async def durable_appends(n: int, per_turn: int) -> float:
    """Events/s appended, committed and delivered, ``per_turn`` appends per loop turn."""
    from deskbridge.events import EventLog, Retention

    with tempfile.TemporaryDirectory() as tmp:
        loop = asyncio.get_running_loop()
        log = EventLog(Path(tmp) / "events.db", schedule=loop.call_soon, retention=Retention(max_count=None))
        delivered = 0

        def deliver(bodies: list[bytes]) -> None:
            nonlocal delivered
            delivered += len(bodies)

        log.subscribe(deliver)
        began = time.perf_counter()
        sent = 0
        while sent < n:
            for _ in range(per_turn):
                log.append({"type": "DIAG_EVENT", "data": {"index": sent}})
                sent += 1
            await asyncio.sleep(0)
        await log.wait_committed()
        elapsed = time.perf_counter() - began
        assert delivered == n
        log.close()
    return n / elapsed


# -- driver ---------------------------------------------------------------------------


def median_of(repeat: int, run: Callable[[], Awaitable[dict[str, float]]]) -> dict[str, float]:
    runs = [asyncio.run(run()) for _ in range(repeat)]  # type: ignore[arg-type]
    return {key: statistics.median(r[key] for r in runs) for key in runs[0]}


def measure(quick: bool, repeat: int) -> dict[str, dict[str, float]]:
    n = 1000 if quick else 4000
    push = 20000 if quick else 100000
    results: dict[str, dict[str, float]] = {}
    with contextlib.ExitStack() as servers:
        port, token = servers.enter_context(deskbridge_server())
        urls = {
            "deskbridge WebSocket": f"ws://127.0.0.1:{port}/ws?token={token}",
            "Starlette WS echo (uvicorn)": f"ws://127.0.0.1:{servers.enter_context(reference_server('starlette'))}/",
            "raw websockets echo": f"ws://127.0.0.1:{servers.enter_context(reference_server('websockets'))}/",
        }
        runs = [asyncio.run(ws_round_trips(urls, n)) for _ in range(repeat)]
        for name in urls:
            results[name] = {key: statistics.median(run[name][key] for run in runs) for key in runs[0][name]}

        emit = '{"id":"e","type":"EMIT","payload":{"count":%d}}'
        pushes: list[tuple[str, int, str, bool]] = [
            ("deskbridge WebSocket", 1, emit % push, True),
            ("deskbridge WebSocket", 10, emit % (push // 10), True),
            ("Starlette WS echo (uvicorn)", 1, json.dumps({"push": push}), False),
            ("raw websockets echo", 1, json.dumps({"push": push}), False),
            ("raw websockets echo", 10, json.dumps({"broadcast": push // 10}), False),
        ]
        for name, clients, trigger, deskbridge in pushes:
            count = push // clients
            rates = [
                asyncio.run(ws_push([urls[name]] * clients, count, trigger, deskbridge=deskbridge))
                for _ in range(repeat)
            ]
            results[name]["push_per_s" if clients == 1 else "push10_per_s"] = statistics.median(rates)
        results["deskbridge polling"] = median_of(repeat, lambda: deskbridge_polling(port, token, n, push))

    with reference_server("socketio") as port:
        sio_push = push // 5  # socket.io is slow enough that a smaller burst measures the same rate
        results["python-socketio WebSocket"] = median_of(
            repeat, lambda: socketio_figures(port, "websocket", n, sio_push)
        )
        results["python-socketio polling"] = median_of(
            repeat, lambda: socketio_figures(port, "polling", n // 2, sio_push)
        )

    appends = 200_000 if not quick else 50_000

    async def appends_figures() -> dict[str, float]:
        return {
            "burst_per_s": await durable_appends(appends, appends),
            "per_turn_100_per_s": await durable_appends(appends, 100),
            "per_turn_1_per_s": await durable_appends(appends // 4, 1),
        }

    results["durable appends (event log)"] = median_of(repeat, appends_figures)
    return results


def targets(r: dict[str, dict[str, float]]) -> list[tuple[str, float, float]]:
    """(what, measured ratio or rate, target)."""
    ws, poll = r["deskbridge WebSocket"], r["deskbridge polling"]
    return [
        ("WS round trips / Starlette WS echo", ws["rt_per_s"] / r["Starlette WS echo (uvicorn)"]["rt_per_s"], 0.9),
        ("WS round trips / python-socketio WS", ws["rt_per_s"] / r["python-socketio WebSocket"]["rt_per_s"], 1.8),
        ("push to one client / raw websockets", ws["push_per_s"] / r["raw websockets echo"]["push_per_s"], 0.6),
        ("polling round trips / python-socketio polling",
         poll["rt_per_s"] / r["python-socketio polling"]["rt_per_s"], 2.0),
        ("durable appends, burst (events/s)", r["durable appends (event log)"]["burst_per_s"], 100_000),
    ]  # fmt: skip


def report(results: dict[str, dict[str, float]]) -> str:
    lines = [
        "| subject | round trips/s | p50 µs | p99 µs | push msg/s (1 client) | push msg/s (10 clients) |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for name, f in results.items():
        if "rt_per_s" not in f:
            continue
        cells = [f"{f['rt_per_s']:,.0f}", f"{f['p50_us']:,.0f}", f"{f['p99_us']:,.0f}",
                 f"{f['push_per_s']:,.0f}", f"{f['push10_per_s']:,.0f}" if "push10_per_s" in f else "-"]  # fmt: skip
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    appends = results["durable appends (event log)"]
    lines += [
        "",
        f"Durable appends (committed to SQLite WAL before delivery): one burst {appends['burst_per_s']:,.0f}/s, "
        f"100 per loop turn {appends['per_turn_100_per_s']:,.0f}/s, "
        f"1 per loop turn {appends['per_turn_1_per_s']:,.0f}/s.",
        "",
        "| target | measured | wanted | |",
        "|---|---:|---:|---|",
    ]
    for what, value, wanted in targets(results):
        shown = f"{value:,.0f}" if wanted > 100 else f"{value:.2f}x"
        want = f"{wanted:,.0f}" if wanted > 100 else f"{wanted:.2f}x"
        lines.append(f"| {what} | {shown} | {want} | {'met' if value >= wanted else 'MISSED'} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="smaller counts, one run")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--json", type=Path, help="also write the figures here")
    parser.add_argument("--no-pin", action="store_true", help="leave CPU placement to the scheduler")
    args = parser.parse_args()
    if args.no_pin:
        PIN.enabled = False
    PIN.pin_client()
    repeat = 1 if args.quick else args.repeat
    results = measure(args.quick, repeat)
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} cpus, {PIN}, median of {repeat}")
    print(report(results))
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
