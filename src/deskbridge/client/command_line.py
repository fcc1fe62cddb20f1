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
import os
import sys
from collections.abc import AsyncIterator
from typing import Any, Protocol

from deskbridge.client.connect import connect
from deskbridge.client.session import ClientError, OperationHandle, RemoteError, Session
from deskbridge.client.stdio import StdioClient
from deskbridge.paths import default_data_dir

TOKEN_ENV = "DESKBRIDGE_TOKEN"  # cli.py documents it in --token's help


class _Client(Protocol):
    session: Session

    async def start(
        self, command_type: str, payload: Any = None, *, timeout: float | None = None
    ) -> OperationHandle: ...

    async def call(self, command_type: str, payload: Any = None, *, timeout: float | None = None) -> Any: ...

    async def aclose(self) -> int: ...


def _token(args: argparse.Namespace) -> str | None:
    if args.token:
        return str(args.token)
    if os.environ.get(TOKEN_ENV):
        return os.environ[TOKEN_ENV]
    path = (args.data_dir or default_data_dir()) / "token"
    with contextlib.suppress(OSError):
        return path.read_text(encoding="utf-8").strip() or None
    return None


@contextlib.asynccontextmanager
async def open_client(args: argparse.Namespace, **options: Any) -> AsyncIterator[_Client]:
    client: _Client
    if args.stdio:
        client = await StdioClient.spawn(args.stdio, data_dir=args.data_dir)
    else:
        client = await connect(args.url, token=_token(args), transport=args.transport, **options)
    try:
        yield client
    finally:
        await client.aclose()


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
    """One command; its data (or an operation's result) on stdout; 1 when it failed."""
    try:
        payload = json.loads(args.payload) if args.payload else {}
    except ValueError as exc:
        raise SystemExit(f"deskbridge call: the payload is not JSON: {exc}") from None
    try:
        async with open_client(args) as client:
            answer = await client.start(args.type, payload, timeout=args.timeout)
            if not isinstance(answer, OperationHandle):
                _print(answer)
                return 0
            await _follow(answer)
            _print(await answer.result(timeout=args.timeout))
            return 0
    except RemoteError as exc:
        _print({"error_code": exc.error_code, "error": exc.message, "details": exc.details})
        return 1
    except (ClientError, OSError) as exc:
        sys.stderr.write(f"deskbridge call: {exc}\n")
        return 2


async def events(args: argparse.Namespace) -> int:
    """Events after ``--after``; with ``--follow``, then every new one as it comes, until interrupted."""
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
            cursor, epoch = args.after, args.epoch
            while True:  # history, page by page
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
