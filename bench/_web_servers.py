"""Reference servers for bench/web.py, each in its own process: ``python bench/_web_servers.py KIND``.

Every server parses each ~45-byte JSON message and encodes its answer (orjson),
answers ``{"push": N}`` by sending N small JSON messages, and prints
``{"port": P}`` on stdout once it listens on 127.0.0.1.

* ``websockets``: a raw ``websockets`` server, compression off;
* ``starlette``: a bare Starlette WebSocket endpoint under uvicorn (websockets-sansio, no deflate, uvloop);
* ``socketio``: python-socketio's ASGI app under the same uvicorn, serving both of its transports.
"""

from __future__ import annotations

import asyncio
import json
import socket
import sys
from typing import Any

import orjson

EVENT = orjson.dumps({"type": "DIAG_EVENT", "data": {"index": 0}, "seq": 1})


def listening_socket() -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen(1024)
    sock.setblocking(False)
    return sock


def announce(sock: socket.socket) -> None:
    print(json.dumps({"port": sock.getsockname()[1]}), flush=True)


async def raw_websockets() -> None:
    import websockets
    from websockets.asyncio.server import ServerConnection, broadcast

    clients: set[ServerConnection] = set()

    async def handler(ws: ServerConnection) -> None:
        clients.add(ws)
        try:
            async for raw in ws:
                message = orjson.loads(raw)
                if "broadcast" in message:
                    text = EVENT.decode()
                    for i in range(message["broadcast"]):
                        broadcast(clients, text)
                        if i % 100 == 0:
                            await asyncio.sleep(0)
                elif "push" in message:
                    text = EVENT.decode()
                    for _ in range(message["push"]):
                        await ws.send(text)
                else:
                    await ws.send(orjson.dumps(message).decode())
        finally:
            clients.discard(ws)

    sock = listening_socket()
    async with websockets.serve(handler, sock=sock, compression=None, max_size=None):
        announce(sock)
        await asyncio.Future()


def starlette_app() -> Any:
    from starlette.applications import Starlette
    from starlette.routing import WebSocketRoute
    from starlette.websockets import WebSocket

    async def echo(ws: WebSocket) -> None:
        await ws.accept()
        try:
            while True:
                message = orjson.loads(await ws.receive_text())
                if "push" in message:
                    text = EVENT.decode()
                    for _ in range(message["push"]):
                        await ws.send_text(text)
                else:
                    await ws.send_text(orjson.dumps(message).decode())
        except Exception:
            return

    return Starlette(routes=[WebSocketRoute("/", echo)])


def socketio_app() -> Any:
    import socketio

    sio = socketio.AsyncServer(async_mode="asgi", max_decode_packets=100000, ping_timeout=60)

    @sio.on("ping")  # type: ignore[untyped-decorator]
    async def ping(sid: str, data: Any) -> Any:
        return orjson.loads(orjson.dumps(data))

    @sio.on("push")  # type: ignore[untyped-decorator]
    async def push(sid: str, count: int) -> int:
        event = {"type": "DIAG_EVENT", "data": {"index": 0}, "seq": 1}
        for _ in range(count):
            await sio.emit("event", event, to=sid)
        return count

    return socketio.ASGIApp(sio)


async def under_uvicorn(app: Any) -> None:
    import uvicorn

    sock = listening_socket()
    config = uvicorn.Config(
        app,
        lifespan="off",
        http="httptools",
        ws="websockets-sansio",
        ws_per_message_deflate=False,
        access_log=False,
        log_level="warning",
    )
    server = uvicorn.Server(config)
    task = asyncio.ensure_future(server.serve(sockets=[sock]))
    while not server.started:  # noqa: ASYNC110 - uvicorn offers no "started" event
        await asyncio.sleep(0.01)
    announce(sock)
    await task


def main() -> None:
    import uvloop

    kind = sys.argv[1]
    if kind == "websockets":
        uvloop.run(raw_websockets())
    elif kind == "starlette":
        uvloop.run(under_uvicorn(starlette_app()))
    elif kind == "socketio":
        uvloop.run(under_uvicorn(socketio_app()))
    else:
        raise SystemExit(f"unknown server {kind}")


if __name__ == "__main__":
    main()
