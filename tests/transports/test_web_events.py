"""Events through the web door are never lost: resume, kill -9, slow and vanishing clients, many clients."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, Final

import httpx
import websockets

from deskbridge.client import WebSocketClient
from tests.webserver import WebServer

Serve = Callable[..., WebServer]


def ws_url(server: WebServer, **params: Any) -> str:
    query = "&".join(f"{k}={v}" for k, v in {"token": server.token, **params}.items())
    return f"{server.ws_url}?{query}"


async def collect(url: str, count: int, timeout: float = 30) -> tuple[dict[str, Any], list[int]]:
    """Connect, and read the SUBSCRIBED notice then ``count`` events' seqs."""
    seqs: list[int] = []
    async with websockets.connect(url, max_size=None) as ws:
        notice = json.loads(await asyncio.wait_for(ws.recv(), timeout))
        while len(seqs) < count:
            message = json.loads(await asyncio.wait_for(ws.recv(), timeout))
            if "seq" in message:
                seqs.append(message["seq"])
    return notice, seqs


def test_resume_after_being_away_has_no_gap_and_no_duplicate(serve: Serve) -> None:
    server = serve("diag")
    server.call("EMIT", {"count": 50})
    notice, first = asyncio.run(collect(ws_url(server, after=0), 50))
    assert notice["recovered"] is True
    assert notice["epoch"] == server.ready["epoch"]
    assert first == list(range(1, 51))
    # away: events keep coming, a poller sees them meanwhile (seed 004's fallback)
    server.call("EMIT", {"count": 30})
    with server.http() as client:
        polled = client.get("/desktop/events/poll", params={"after": 50}).json()
    assert [e["seq"] for e in polled["events"]] == list(range(51, 81))

    async def come_back() -> list[int]:
        seqs: list[int] = []
        async with websockets.connect(ws_url(server, after=50, epoch=notice["epoch"])) as ws:
            assert json.loads(await ws.recv())["recovered"] is True
            await ws.send('{"id": "e", "type": "EMIT", "payload": {"count": 20}}')
            while len(seqs) < 50:
                message = json.loads(await asyncio.wait_for(ws.recv(), 30))
                if "seq" in message:
                    seqs.append(message["seq"])
        return seqs

    assert asyncio.run(come_back()) == list(range(51, 101))  # history, then live, merged by seq
    # a cursor from a log that is gone is answered recovered: false, from the start of this log
    notice, again = asyncio.run(collect(ws_url(server, after=7, epoch="gone"), 100))
    assert notice["recovered"] is False
    assert again == list(range(1, 101))


def test_events_a_command_raised_are_on_disk_before_its_response(serve: Serve) -> None:
    server = serve("diag")
    port = server.port
    assert server.call("EMIT", {"count": 3000})["success"] is True
    server.kill()  # at once: the response was read, so its events must survive

    async def over_websocket() -> None:
        async with websockets.connect(ws_url(server, after=0), close_timeout=0.1) as ws:
            await ws.recv()
            await ws.send('{"id": "e", "type": "EMIT", "payload": {"count": 3000}}')
            while '"EMIT_RESPONSE"' not in await asyncio.wait_for(ws.recv(), 10):
                pass
            server.kill()

    server.start(port=port)
    asyncio.run(over_websocket())
    server.start(port=port)
    with server.http() as http:
        assert http.get("/api/events", params={"after": 0, "limit": 1}).json()["head"] == 6000


def test_first_message_subscribe_and_live_only_clients(serve: Serve) -> None:
    server = serve("diag")
    server.call("EMIT", {"count": 5})

    async def main() -> None:
        async with websockets.connect(ws_url(server)) as ws:
            await ws.send('{"id": "s", "type": "SUBSCRIBE", "payload": {"after": 2}}')
            answer = json.loads(await ws.recv())
            assert answer["type"] == "SUBSCRIBE_RESPONSE"
            assert answer["data"]["recovered"] is True
            assert [json.loads(await ws.recv())["seq"] for _ in range(3)] == [3, 4, 5]
        # a client that says nothing (seed 004's listener) gets live events from when it connected
        async with websockets.connect(ws_url(server)) as ws:
            notice = json.loads(await asyncio.wait_for(ws.recv(), 10))
            assert notice["type"] == "SUBSCRIBED"
            assert notice["last_seq"] == 5
            await asyncio.to_thread(server.call, "EMIT", {"count": 1})
            assert json.loads(await asyncio.wait_for(ws.recv(), 10))["seq"] == 6

    asyncio.run(main())


def test_clients_are_registered_with_their_acknowledgements(serve: Serve) -> None:
    server = serve("diag")
    server.call("EMIT", {"count": 4})

    async def main() -> dict[str, Any]:
        async with websockets.connect(ws_url(server, after=2, client_id="desk")) as ws:
            await ws.recv()
            await ws.send('{"id": "a", "type": "ACK_EVENTS", "payload": {"client_id": "desk", "last_seq": 4}}')
            while "ACK_EVENTS_RESPONSE" not in await asyncio.wait_for(ws.recv(), 10):
                pass
            with server.http() as http:
                http.get("/api/events", params={"after": 3, "client_id": "poller"})
                info: dict[str, Any] = http.get("/").json()
                return info

    info = asyncio.run(main())
    assert info["doors"] == {"http": server.url, "ws": server.ws_url}
    clients = {c["client_id"]: c for c in info["clients"]}
    assert (clients["desk"]["door"], clients["desk"]["last_seq"]) == ("ws", 4)
    assert (clients["poller"]["door"], clients["poller"]["last_seq"]) == ("poll", 3)
    with server.http() as http:
        for _ in range(100):  # gone once the server has seen it leave
            if "desk" not in {c["client_id"] for c in http.get("/").json()["clients"]}:
                break
            time.sleep(0.02)
        else:
            raise AssertionError("the WebSocket client stayed registered after it left")


def test_a_client_back_before_its_old_connection_closed_stays_listed_when_the_old_one_goes(serve: Serve) -> None:
    """A reconnection can overtake the old connection's end (a half-open socket lingers): the old one's end
    must not unlist the client that is connected again."""
    server = serve("diag")

    def listed() -> set[str]:
        with server.http() as http:
            return {c["client_id"] for c in http.get("/api/status").json()["clients"]}

    async def main() -> tuple[set[str], set[str]]:
        async with websockets.connect(ws_url(server, after=0, client_id="desk")) as new:
            async with websockets.connect(ws_url(server, after=0, client_id="desk")) as old:
                await old.recv()
                await new.recv()
            await new.send('{"id": "p", "type": "PING"}')
            while "PING_RESPONSE" not in await asyncio.wait_for(new.recv(), 10):
                pass
            while_new_is_open = await asyncio.to_thread(listed)
        for _ in range(100):
            if "desk" not in (after_both := await asyncio.to_thread(listed)):
                break
            await asyncio.sleep(0.02)
        return while_new_is_open, after_both

    while_new_is_open, after_both = asyncio.run(main())
    assert "desk" in while_new_is_open
    assert "desk" not in after_both


def test_long_poll_waits_for_the_next_event(serve: Serve) -> None:
    server = serve("diag")
    emitting: list[float] = []

    def emit() -> None:
        emitting.append(time.monotonic())
        server.call("EMIT", {"count": 2})

    timer = threading.Timer(0.3, emit)
    timer.start()
    with server.http() as client:
        answer = client.get("/api/events", params={"after": 0, "wait": 10}).json()
        answered = time.monotonic()
        assert emitting, "the poll answered before there was an event"
        assert answered - emitting[0] < 5
        assert next(e["seq"] for e in answer["events"]) == 1
        began = time.monotonic()
        empty = client.get("/api/events", params={"after": answer["last_seq"], "wait": 0.3}).json()
        assert empty["events"] == []
        assert 0.25 < time.monotonic() - began < 5
    timer.join()


def test_kill_9_during_bursts_then_resume_gets_every_event_exactly_once(serve: Serve) -> None:
    server = serve("diag")
    port = server.port

    async def main() -> tuple[list[int], int]:
        received: list[int] = []
        client = await WebSocketClient.connect(server.url, token=server.token, after=0)
        client.on_event(lambda event: received.append(event["seq"]))

        def bursts(rounds: int) -> None:
            with httpx.Client(base_url=server.url, headers=server.headers, timeout=10) as http:
                for _ in range(rounds):
                    try:
                        http.post("/api/command", json={"id": "b", "type": "EMIT", "payload": {"count": 500}})
                    except httpx.HTTPError:
                        return  # killed under us

        await asyncio.to_thread(bursts, 4)  # between bursts
        burster = threading.Thread(target=bursts, args=(200,))
        burster.start()
        await asyncio.sleep(0.3)
        server.kill()  # during a burst
        burster.join(30)
        server.start(port=port)
        await asyncio.to_thread(bursts, 3)
        head = await asyncio.to_thread(lambda: server.call("GET_EVENTS", {"after": 0, "limit": 1})["data"]["head"])
        for _ in range(600):
            if client.last_seq >= head:
                break
            await asyncio.sleep(0.05)
        await client.aclose()
        return received, head

    received, head = asyncio.run(main())
    assert head > 2000 + 1500
    assert received == list(range(1, head + 1))  # every event on disk, once, in order


SMALL_OUTBOX: Final = 256 * 1024


def small_outbox(serve: Serve, tmp_path: Path) -> WebServer:
    """A diag server whose connections queue at most 256 KiB: easy to fill."""
    config = tmp_path / "config.json"
    config.write_text(json.dumps({"web": {"outbox_bytes": SMALL_OUTBOX}}))
    return serve("diag", extra=("--config", str(config)))


def test_a_client_that_stops_reading_costs_a_bounded_outbox_and_later_gets_everything_on_the_same_connection(
    serve: Serve, tmp_path: Path
) -> None:
    """What it is behind stays in the log: the server pages it out as the client reads again, no reconnection."""
    server = small_outbox(serve, tmp_path)

    async def main() -> tuple[list[int], int, int | None]:
        async with websockets.connect(ws_url(server, after=0), max_queue=1, max_size=None) as ws:
            await ws.send('{"id": "1", "type": "PING"}')
            await asyncio.sleep(0.2)
            rss_before = server.rss_kib()
            for _ in range(10):  # ~5 MB of events the client does not read yet, against a 256 KiB outbox
                await asyncio.to_thread(server.call, "EMIT", {"count": 10000})
            grown = server.rss_kib() - rss_before
            seen: list[int] = []
            while len(seen) < 100000:
                message = json.loads(await asyncio.wait_for(ws.recv(), 30))
                if "seq" in message:
                    seen.append(message["seq"])
            await ws.send('{"id": "2", "type": "PING"}')
            while json.loads(await asyncio.wait_for(ws.recv(), 10)).get("id") != "2":
                pass
            return seen, grown, ws.close_code

    seen, grown_kib, close_code = asyncio.run(main())
    assert grown_kib < 64 * 1024, f"server grew by {grown_kib} KiB"
    assert seen == list(range(1, 100001))
    assert close_code is None


def test_one_commit_bigger_than_the_outbox_reaches_a_reading_client_without_a_reconnection(
    serve: Serve, tmp_path: Path
) -> None:
    """A burst of ~1.5 MB in one loop turn against a 256 KiB outbox: paged out of the log, every event once."""
    server = small_outbox(serve, tmp_path)

    async def main() -> list[int]:
        seen: list[int] = []
        async with websockets.connect(ws_url(server, after=0), max_size=None) as ws:
            await ws.recv()  # SUBSCRIBED
            await ws.send('{"id": "burst", "type": "EMIT", "payload": {"count": 10000}}')
            while len(seen) < 10000:
                message = json.loads(await asyncio.wait_for(ws.recv(), 30))
                if "seq" in message:
                    seen.append(message["seq"])
            assert ws.close_code is None
        return seen

    assert asyncio.run(main()) == list(range(1, 10001))


def test_an_answer_bigger_than_the_outbox_reaches_a_reading_client_on_the_same_connection(
    serve: Serve, tmp_path: Path
) -> None:
    """An answer is not a backlog: GET_EVENTS of 5000 events (about 4 times the outbox) and LIST_OPERATIONS
    arrive whole, and the connection goes on (it was closed 4008 'too slow', and the client retried into the
    same wall)."""
    server = small_outbox(serve, tmp_path)
    server.call("EMIT", {"count": 5000})

    async def main() -> tuple[int, int | None]:
        async with websockets.connect(ws_url(server), max_size=None) as ws:
            await ws.send('{"id": "big", "type": "GET_EVENTS", "payload": {"after": 0, "limit": 5000}}')
            await ws.send('{"id": "again", "type": "GET_EVENTS", "payload": {"after": 0, "limit": 5000}}')
            answers: dict[str, Any] = {}
            while len(answers) < 2:
                message = json.loads(await asyncio.wait_for(ws.recv(), 30))
                if "seq" not in message and message.get("id") in ("big", "again"):
                    answers[message["id"]] = message
            await ws.send('{"id": "ping", "type": "PING"}')
            while json.loads(await asyncio.wait_for(ws.recv(), 10)).get("id") != "ping":
                pass
            return len(answers["big"]["data"]["events"]) + len(answers["again"]["data"]["events"]), ws.close_code

    assert asyncio.run(main()) == (10000, None)


def test_a_client_disconnecting_mid_stream_loses_nothing(serve: Serve) -> None:
    server = serve("diag")
    server.call("EMIT", {"count": 5000})

    async def partial() -> list[int]:
        seqs: list[int] = []
        async with websockets.connect(ws_url(server, after=0), close_timeout=0.1) as ws:
            await ws.recv()
            while len(seqs) < 1234:
                seqs.append(json.loads(await ws.recv())["seq"])
        return seqs

    first = asyncio.run(partial())
    _, rest = asyncio.run(collect(ws_url(server, after=first[-1], epoch=server.ready["epoch"]), 5000 - 1234))
    assert first + rest == list(range(1, 5001))


def test_fifty_clients_each_receive_every_event_in_order(serve: Serve) -> None:
    server = serve("diag")

    async def main() -> list[list[int]]:
        sockets = [await websockets.connect(ws_url(server, after=0), max_size=None) for _ in range(50)]
        for ws in sockets:
            assert json.loads(await ws.recv())["type"] == "SUBSCRIBED"

        async def read(ws: Any) -> list[int]:
            seqs = [json.loads(await asyncio.wait_for(ws.recv(), 30))["seq"] for _ in range(2000)]
            await ws.close()
            return seqs

        readers = [asyncio.ensure_future(read(ws)) for ws in sockets]
        for _ in range(4):
            await asyncio.to_thread(server.call, "EMIT", {"count": 500})
        return await asyncio.gather(*readers)

    for seqs in asyncio.run(main()):
        assert seqs == list(range(1, 2001))


def test_seed_004_flow(serve: Serve) -> None:
    """Seed 004's desktop client: WebSocket on ws://localhost:PORT, polling while away, SIGKILL, a foreign page."""
    server = serve("diag")
    port = server.port
    base = f"ws://localhost:{port}"

    async def live(url: str, emit: int, expect: int) -> tuple[dict[str, Any], list[int]]:
        async with websockets.connect(url) as ws:
            notice = json.loads(await asyncio.wait_for(ws.recv(), 10))
            if emit:
                await ws.send(json.dumps({"id": "e", "type": "EMIT", "payload": {"count": emit}}))
            seqs: list[int] = []
            while len(seqs) < expect:
                message = json.loads(await asyncio.wait_for(ws.recv(), 10))
                if "seq" in message:
                    seqs.append(message["seq"])
            return notice, seqs

    notice, seen = asyncio.run(live(f"{base}?token={server.token}&after=0", 3, 3))
    assert seen == [1, 2, 3]
    server.call("EMIT", {"count": 3})  # the desktop client is away...
    with httpx.Client(base_url=f"http://localhost:{port}", headers=server.headers, timeout=10) as http:
        polled = http.get("/desktop/events/poll", params={"after": 3}).json()  # ...and polls meanwhile
    assert [e["seq"] for e in polled["events"]] == [4, 5, 6]
    server.kill()  # SIGKILL
    server.start(port=port)
    server.call("EMIT", {"count": 2})
    resumed = f"{base}/?token={server.token}&epoch={notice['epoch']}&after=3"
    notice, back = asyncio.run(live(resumed, 0, 5))
    assert notice["recovered"] is True
    assert back == [4, 5, 6, 7, 8]  # everything it missed, once, across the crash
    evil_origin = websockets.connect(f"{base}?token={server.token}", origin="http://evil.example")  # type: ignore[arg-type]

    async def refused() -> int | None:
        async with evil_origin as ws:
            await asyncio.wait_for(ws.wait_closed(), 10)
            return ws.close_code

    assert asyncio.run(refused()) == 4403
    with httpx.Client(base_url=server.url, headers=server.headers, timeout=10) as http:
        assert http.get("/desktop/events/poll", headers={"Host": f"evil.example:{port}"}).status_code == 421
        assert http.get("/desktop/events/poll", headers={"Origin": "http://evil.example"}).status_code == 403
