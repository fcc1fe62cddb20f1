"""The Python client over WebSocket against a real ``deskbridge serve``: calls, operations, reconnection."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest

from deskbridge.client import ConnectionLost, OperationFailed, Refused, RemoteError, WebSocketClient, connect
from tests.webserver import WebServer

Serve = Callable[..., WebServer]


def test_calls_operations_and_events(serve: Serve) -> None:
    server = serve("diag")

    async def main() -> None:
        async with await connect(server.url, token=server.token) as client:
            assert isinstance(client, WebSocketClient)
            assert client.epoch == server.ready["epoch"]
            seen: list[int] = []
            client.on_event(lambda event: seen.append(event["seq"]), types=["DIAG_EVENT"])
            assert (await client.call("ECHO", {"a": 1})) == {"a": 1}
            with pytest.raises(RemoteError) as failed:
                await client.call("CRASH")
            assert failed.value.error_code == "INTERNAL_ERROR"
            op = await client.start("COUNT", {"to": 3, "interval": 0.01})
            assert [p["status"] async for p in op][-1] == "completed"
            assert await op.result() == {"counted": 3}
            bad = await client.start("COUNT", {"to": 3, "interval": 0.01, "fail_at": 2})
            with pytest.raises(OperationFailed):
                await bad.result(timeout=10)
            await client.call("EMIT", {"count": 5})
            for _ in range(100):
                if len(seen) == 5:
                    break
                await asyncio.sleep(0.02)
            assert seen == sorted(seen)
            assert len(seen) == 5

    asyncio.run(main())


def test_reconnects_after_kill_9_and_resumes_without_gap(serve: Serve) -> None:
    server = serve("diag")
    port = server.port

    async def main() -> None:
        client = await WebSocketClient.connect(server.url, token=server.token, client_id="desk", after=0)
        seqs: list[int] = []
        client.on_event(lambda event: seqs.append(event["seq"]))
        await client.call("EMIT", {"count": 10})
        slow = asyncio.ensure_future(client.call("SLEEP", {"seconds": 30}))
        await asyncio.sleep(0.2)
        server.kill()
        with pytest.raises(ConnectionLost):  # the call in flight fails at once, it does not hang
            await asyncio.wait_for(slow, 10)
        await asyncio.to_thread(server.start, 30, port)
        await asyncio.to_thread(server.call, "EMIT", {"count": 10})
        await asyncio.wait_for(client.connected.wait(), 15)
        for _ in range(200):
            if client.last_seq >= 20:
                break
            await asyncio.sleep(0.05)
        assert seqs == list(range(1, 21))
        assert client.recovered is True
        assert await client.call("PING")
        await client.ack()
        await client.aclose()

    asyncio.run(main())


def test_a_wrong_token_is_refused_not_retried(serve: Serve) -> None:
    server = serve("diag")

    async def main() -> None:
        with pytest.raises(Refused) as refused:
            await asyncio.wait_for(connect(server.url, token="wrong"), 10)
        assert refused.value.code == 4401

    asyncio.run(main())


def test_falls_back_to_polling_when_the_upgrade_fails(serve: Serve) -> None:
    """Something that answers HTTP but not the WebSocket upgrade: the raw HTTP server of a dead proxy."""
    server = serve("diag")

    async def main() -> None:
        async def no_upgrade(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            head = await reader.readuntil(b"\r\n\r\n")
            if b"upgrade: websocket" in head.lower():
                writer.write(b"HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\nconnection: close\r\n\r\n")
                await writer.drain()
                writer.close()
                return
            upstream_reader, upstream_writer = await asyncio.open_connection("127.0.0.1", server.port)
            upstream_writer.write(head.replace(f":{port}".encode(), f":{server.port}".encode()))  # rewrites Host

            async def pump(src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
                while data := await src.read(65536):
                    dst.write(data)
                    await dst.drain()
                dst.close()

            await asyncio.gather(pump(reader, upstream_writer), pump(upstream_reader, writer), return_exceptions=True)

        proxy = await asyncio.start_server(no_upgrade, "127.0.0.1", 0)
        port = proxy.sockets[0].getsockname()[1]
        async with await connect(f"http://127.0.0.1:{port}", token=server.token) as client:
            assert client.transport == "polling"
        proxy.close()

    asyncio.run(main())


def test_a_live_only_client_resumes_from_where_it_started_not_from_zero(serve: Serve) -> None:
    server = serve("diag")
    server.call("EMIT", {"count": 50})
    port = server.port

    async def main() -> None:
        async with await WebSocketClient.connect(server.url, token=server.token) as client:
            seqs: list[int] = []
            client.on_event(lambda event: seqs.append(event["seq"]))
            assert client.last_seq == 50  # live from now: the history before it is not replayed
            server.kill()
            await asyncio.to_thread(server.start, 30, port)
            await asyncio.to_thread(server.call, "EMIT", {"count": 2})
            for _ in range(200):
                if client.last_seq >= 52:
                    break
                await asyncio.sleep(0.05)
            assert seqs == [51, 52]

    asyncio.run(main())


@pytest.mark.parametrize("transport", ["websocket", "polling"])
def test_listeners_added_as_connect_returns_get_every_resumed_event(transport: str, serve: Serve) -> None:
    """The resumed events may all be in before connect() returns: they wait for the caller's first await."""
    server = serve("diag")
    server.call("EMIT", {"count": 2000})

    async def main() -> list[int]:
        client = await connect(server.url, token=server.token, transport=transport, after=0,
                               epoch=server.ready["epoch"])  # fmt: skip
        seqs: list[int] = []
        client.on_event(lambda event: seqs.append(event["seq"]))
        for _ in range(300):
            if len(seqs) >= 2000:
                break
            await asyncio.sleep(0.02)
        await client.aclose()
        return seqs

    assert asyncio.run(main()) == list(range(1, 2001))
