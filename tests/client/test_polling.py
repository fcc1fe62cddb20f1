"""The Python client over HTTP polling against a real ``deskbridge serve``: same API, same guarantees."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest

from deskbridge.client import ConnectionLost, PollingClient, Refused, connect
from tests.webserver import WebServer

Serve = Callable[..., WebServer]


def test_calls_operations_and_events_over_polling(serve: Serve) -> None:
    server = serve("diag")

    async def main() -> None:
        async with await connect(server.url, token=server.token, transport="polling", wait=2) as client:
            assert isinstance(client, PollingClient)
            seen: list[int] = []
            client.on_event(lambda event: seen.append(event["seq"]), types=["DIAG_EVENT"])
            assert await client.call("PING")
            op = await client.start("COUNT", {"to": 3, "interval": 0.0})  # progress may beat the response
            assert await op.result(timeout=10) == {"counted": 3}
            await client.call("EMIT", {"count": 1500})  # more than one page
            for _ in range(200):
                if len(seen) == 1500:
                    break
                await asyncio.sleep(0.02)
            assert seen == sorted(set(seen))
            assert len(seen) == 1500

    asyncio.run(main())


def test_polling_survives_kill_9_and_resumes_from_its_cursor(serve: Serve) -> None:
    server = serve("diag")
    port = server.port

    async def main() -> None:
        client = await PollingClient.connect(server.url, token=server.token, after=0, wait=1, client_id="poller")
        seqs: list[int] = []
        client.on_event(lambda event: seqs.append(event["seq"]))
        await client.call("EMIT", {"count": 5})
        slow = asyncio.ensure_future(client.call("SLEEP", {"seconds": 30}))
        await asyncio.sleep(0.2)
        server.kill()
        with pytest.raises(ConnectionLost):
            await asyncio.wait_for(slow, 10)
        await asyncio.to_thread(server.start, 30, port)
        await asyncio.to_thread(server.call, "EMIT", {"count": 5})
        for _ in range(300):
            if client.last_seq >= 10:
                break
            await asyncio.sleep(0.05)
        assert seqs == list(range(1, 11))
        await client.aclose()

    asyncio.run(main())


def test_a_cursor_ahead_of_the_log_is_not_recovered_and_every_event_the_log_holds_comes(serve: Serve) -> None:
    """The server starts such a cursor over at 0; taken for duplicates, its events were dropped."""
    server = serve("diag")
    server.call("EMIT", {"count": 3})

    async def main() -> None:
        epoch = server.ready["epoch"]
        client = await PollingClient.connect(server.url, token=server.token, after=1000, epoch=epoch, wait=1)
        seqs: list[int] = []
        client.on_event(lambda event: seqs.append(event["seq"]))
        assert client.recovered is False
        assert client.last_seq == 3
        await client.call("EMIT", {"count": 1})
        for _ in range(200):
            if len(seqs) == 4:
                break
            await asyncio.sleep(0.02)
        assert seqs == [1, 2, 3, 4]
        await client.aclose()

    asyncio.run(main())


def test_polling_with_a_wrong_token_is_refused(serve: Serve) -> None:
    server = serve("diag")

    async def main() -> None:
        with pytest.raises(Refused) as refused:
            await connect(server.url, token="wrong", transport="polling")
        assert refused.value.code == 401

    asyncio.run(main())
