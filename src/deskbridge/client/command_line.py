"""``deskbridge call`` and ``deskbridge events``: the Python client from a shell.

Both talk to a running backend (``--url``, the token from ``--token``,
``$DESKBRIDGE_TOKEN`` or the data dir's token file) or spawn one over stdio
(``--stdio APP``). Results go to stdout as JSON; progress goes to stderr, as a
live bar on a terminal (rich) and as plain lines otherwise.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import signal
import sys
from collections.abc import AsyncIterator
from typing import Any, Protocol

from deskbridge.client import advice
from deskbridge.client.connect import connect
from deskbridge.client.session import ClientError, OperationFailed, OperationHandle, RemoteError, Session
from deskbridge.client.stdio import StdioClient


class _Client(Protocol):
    session: Session

    async def start(
        self, command_type: str, payload: Any = None, *, timeout: float | None = None
    ) -> OperationHandle: ...

    async def call(self, command_type: str, payload: Any = None, *, timeout: float | None = None) -> Any: ...

    async def aclose(self) -> int: ...


@contextlib.asynccontextmanager
async def open_client(args: argparse.Namespace, **options: Any) -> AsyncIterator[_Client]:
    client: _Client
    if args.stdio:
        client = await StdioClient.spawn(args.stdio, data_dir=args.data_dir)
    else:
        token = advice.Token.find(args.token, args.data_dir)
        try:
            client = await connect(args.url, token=token.value, transport=args.transport, **options)
        except Exception as exc:
            explained = advice.explain(exc, args.url, token)
            if explained is None:
                raise
            raise Unreachable(explained) from exc
    try:
        yield client
    finally:
        await client.aclose()


class Unreachable(ClientError):
    """No backend could be talked to; the message says what to do."""


def _print(value: Any) -> None:
    sys.stdout.write(json.dumps(value, ensure_ascii=False) + "\n")
    sys.stdout.flush()


async def _follow(handle: OperationHandle) -> None:
    """Show an operation's progress until its terminal event."""
    if sys.stderr.isatty():
        from rich.progress import Progress

        with Progress(transient=True) as bar:
            task = bar.add_task(handle.id[:8], total=100)
            async for payload in handle:
                bar.update(task, completed=float(payload.get("progress") or 0),
                           description=str(payload.get("message") or payload.get("status")))  # fmt: skip
    else:
        async for payload in handle:
            sys.stderr.write(json.dumps(payload, ensure_ascii=False) + "\n")


async def call(args: argparse.Namespace) -> int:
    """One command; its data (or an operation's result) on stdout; 1 when it failed, 130 when interrupted."""
    try:
        payload = json.loads(args.payload) if args.payload else {}
    except ValueError as exc:
        raise SystemExit(f"deskbridge call: the payload is not JSON: {exc}") from None
    try:
        async with open_client(args) as client:
            with _CtrlC() as ctrl_c:
                started = asyncio.ensure_future(client.start(args.type, payload, timeout=args.timeout))
                while not await ctrl_c.settle(started):
                    if ctrl_c.presses >= 2:
                        started.cancel()
                        _say(f"stopped waiting for the answer to {args.type}")
                        return 130
                    _say("waiting for the answer, to cancel what it starts; press Ctrl+C again to stop waiting")
                answer = started.result()
                if not isinstance(answer, OperationHandle):
                    _print(answer)
                    return 0
                return await _watch(answer, ctrl_c, args.timeout)
    except RemoteError as exc:
        _print({"error_code": exc.error_code, "error": exc.message, "details": exc.details})
        return 1
    except (ClientError, OSError) as exc:
        sys.stderr.write(f"deskbridge call: {exc}\n")
        return 2


class _CtrlC:
    """Ctrl+C while a command runs: the first press cancels its operation, a second one soon after leaves it
    running (and says how to cancel it later).

    Counted by a signal handler (not KeyboardInterrupt, which would end the
    process with the operation still running and nothing said).
    """

    def __init__(self) -> None:
        self.presses = 0
        self._pressed = asyncio.Event()
        self._loop = asyncio.get_running_loop()

    def __enter__(self) -> _CtrlC:
        self._previous = signal.signal(signal.SIGINT, self._on_signal)
        return self

    def __exit__(self, *exc: object) -> None:
        signal.signal(signal.SIGINT, self._previous)

    def _on_signal(self, signum: int, frame: object) -> None:
        self.presses += 1
        self._loop.call_soon_threadsafe(self._pressed.set)

    async def settle(self, task: asyncio.Future[Any]) -> bool:
        """Wait until ``task`` is done (True) or Ctrl+C is pressed (False)."""
        if not task.done():
            self._pressed.clear()
            pressed = asyncio.ensure_future(self._pressed.wait())
            await asyncio.wait({task, pressed}, return_when=asyncio.FIRST_COMPLETED)
            pressed.cancel()
        return task.done()


async def _watch(handle: OperationHandle, ctrl_c: _CtrlC, timeout: float | None) -> int:
    """Follow an operation to its end; Ctrl+C cancels it on the backend, a second one leaves it running."""
    follow = asyncio.ensure_future(asyncio.wait_for(_follow(handle), timeout))
    cancelling: asyncio.Future[bool] | None = None
    while True:
        if ctrl_c.presses >= 2:
            follow.cancel()
            if cancelling is not None and cancelling.done():
                _say(f"stopped waiting: operation {handle.id} was asked to cancel and has not ended yet")
                return 130
            if cancelling is not None:
                cancelling.cancel()
            command = json.dumps({"operation_id": handle.id})
            _say(
                f"operation {handle.id} is left running on the backend; cancel it with: "
                f"deskbridge call CANCEL_OPERATION '{command}'"
            )
            return 130
        if ctrl_c.presses and cancelling is None:
            _say(f"cancelling operation {handle.id}; press Ctrl+C again within {GRACE:g} s to leave it running")
            cancelling = asyncio.ensure_future(_cancel_after(GRACE, handle))
        if await ctrl_c.settle(follow):
            break
    follow.result()
    try:
        _print(await handle.result())
    except OperationFailed as exc:
        if cancelling is None or exc.status != "cancelled":
            raise
        _say(f"operation {handle.id} cancelled")
        return 130
    return 0


GRACE = 1.0
"""Seconds between the first Ctrl+C and the cancel request: a second press within them detaches instead."""


async def _cancel_after(delay: float, handle: OperationHandle) -> bool:
    await asyncio.sleep(delay)
    return await handle.cancel()


def _say(text: str) -> None:
    sys.stderr.write(f"deskbridge: {text}\n")
    sys.stderr.flush()


async def events(args: argparse.Namespace) -> int:
    """Events after ``--after``; with ``--follow``, then every new one as it comes, until interrupted.

    ``--follow`` alone starts at the live end: a log holds up to 100,000 events, and someone watching wants
    what happens next (``--from-start`` or ``--after N`` print the history first).
    """
    types = set(args.types.split(",")) if args.types else None

    def show(event: dict[str, Any]) -> None:
        if types is None or event.get("type") in types:
            _print(event)

    try:
        async with open_client(args) as client:
            held: list[dict[str, Any]] | None = []  # live events, attached before history is read

            def live(event: dict[str, Any]) -> None:
                if held is None:
                    show(event)
                else:
                    held.append(event)

            client.session.on_event(live)
            cursor, epoch = args.after or 0, args.epoch
            from_now = args.follow and args.after is None and not args.from_start
            while not from_now:  # history, page by page
                page = await client.call("GET_EVENTS", {"after": cursor, "epoch": epoch, "limit": 1000})
                for event in page["events"]:
                    show(event)
                cursor, epoch = page["last_seq"], page["epoch"]
                if not page["more"]:
                    break
            if not args.follow:
                return 0
            backlog, held = held or [], None
            for event in backlog:  # merged by seq: what history already showed is skipped
                if event["seq"] > cursor:
                    show(event)
            await asyncio.Event().wait()
    except RemoteError as exc:
        _print({"error_code": exc.error_code, "error": exc.message})
        return 1
    except (ClientError, OSError) as exc:
        sys.stderr.write(f"deskbridge events: {exc}\n")
        return 2
    return 0
