"""A blocking face over the async client, for scripts and REPLs."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from types import TracebackType
from typing import Any, Protocol, TypeVar

from deskbridge.client.session import OperationHandle
from deskbridge.client.stdio import StdioClient

T = TypeVar("T")


class AsyncClient(Protocol):
    async def call(self, command_type: str, payload: Any = None, *, timeout: float | None = None) -> Any: ...

    async def start(
        self, command_type: str, payload: Any = None, *, timeout: float | None = None
    ) -> OperationHandle: ...

    async def aclose(self) -> int: ...


class SyncOperation:
    def __init__(self, client: SyncClient, handle: OperationHandle) -> None:
        self._client = client
        self._handle = handle
        self.id = handle.id
        self.data = handle.data

    def progress(self) -> Iterator[dict[str, Any]]:
        """Progress payloads as they come, ending with the terminal one."""
        stream: AsyncIterator[dict[str, Any]] = self._handle.__aiter__()
        while True:
            try:
                yield self._client._run(stream.__anext__())
            except StopAsyncIteration:
                return

    def result(self, timeout: float | None = None) -> Any:
        return self._client._run(self._handle.result(timeout))

    def cancel(self) -> bool:
        return self._client._run(self._handle.cancel())


class SyncClient:
    """Runs an event loop in a background thread and blocks on it."""

    def __init__(self, connect: Callable[[], Awaitable[AsyncClient]]) -> None:
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="deskbridge-client", daemon=True)
        self._thread.start()
        try:
            self._client = self._run(connect())
        except BaseException:
            self._stop()
            raise

    @classmethod
    def spawn(cls, apps: str | list[str] = "studio", **options: Any) -> SyncClient:
        """Start a backend over stdio (same options as :meth:`StdioClient.spawn`)."""
        return cls(lambda: StdioClient.spawn(apps, **options))

    def _run(self, awaitable: Awaitable[T]) -> T:
        async def wrap() -> T:
            return await awaitable

        return asyncio.run_coroutine_threadsafe(wrap(), self._loop).result()

    def call(self, command_type: str, payload: Any = None, *, timeout: float | None = None) -> Any:
        return self._run(self._client.call(command_type, payload, timeout=timeout))

    def start(self, command_type: str, payload: Any = None, *, timeout: float | None = None) -> SyncOperation:
        return SyncOperation(self, self._run(self._client.start(command_type, payload, timeout=timeout)))

    def close(self) -> int:
        try:
            return self._run(self._client.aclose())
        finally:
            self._stop()

    def _stop(self) -> None:
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)
        self._loop.close()

    def __enter__(self) -> SyncClient:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()
