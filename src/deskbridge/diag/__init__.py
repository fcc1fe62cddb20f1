"""diag: commands that exercise every part of the protocol, for tests, demos and benchmarks.

Nothing here is specific to a product: ``COUNT`` is an operation with real
progress, ``STRAY_OUTPUT`` writes to stdout the way a careless library or a
child process would, ``CRASH`` raises, ``EMIT`` publishes a burst of events.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time
from typing import Annotated, Any, TypedDict

import msgspec

from deskbridge.app import AppContext, AppSpec
from deskbridge.operations import Operation
from deskbridge.payloads import Payload
from deskbridge.router import Commands

EMIT_BURST = 1000


class CountPayload(Payload):
    to: Annotated[int, msgspec.Meta(ge=0, le=1_000_000)] = 10
    interval: Annotated[float, msgspec.Meta(ge=0, le=60)] = 0.01
    blocking: bool = False
    fail_at: int | None = None


class Counted(TypedDict):
    counted: int


class CountProgress(TypedDict):
    current: int
    total: int
    progress: int
    message: str


class SleepPayload(Payload):
    seconds: Annotated[float, msgspec.Meta(ge=0, le=3600)]


class EmitPayload(Payload):
    count: Annotated[int, msgspec.Meta(ge=1, le=1_000_000)] = 1
    type: Annotated[str, msgspec.Meta(min_length=1, max_length=100)] = "DIAG_EVENT"


class StrayPayload(Payload):
    text: Annotated[str, msgspec.Meta(max_length=10_000)] = "stray output"


class CrashPayload(Payload):
    message: Annotated[str, msgspec.Meta(max_length=1000)] = "boom"


def build(context: AppContext) -> Commands:
    commands = Commands()

    @commands.command("ECHO", inline=True)
    def echo(payload: dict[str, Any]) -> dict[str, Any]:
        """Answers with the payload it was sent (inline: on the loop, no thread, no coroutine)."""
        return payload

    @commands.command("SLEEP")
    async def sleep(payload: SleepPayload) -> dict[str, Any]:
        """Waits on the event loop, then answers: shows that commands run concurrently.

        ``in_task`` says the handler ran inside an asyncio task from its first
        line, as libraries that ask for the current task (sniffio, httpx,
        ``asyncio.timeout``) need.
        """
        in_task = asyncio.current_task() is not None
        await asyncio.sleep(payload.seconds)
        return {"slept": payload.seconds, "in_task": in_task}

    @commands.command("BLOCKING_SLEEP")
    def blocking_sleep(payload: SleepPayload) -> dict[str, float]:
        """Blocks a worker thread, then answers: the loop keeps serving meanwhile."""
        time.sleep(payload.seconds)
        return {"slept": payload.seconds}

    @commands.command("COUNT", result=Counted, progress=CountProgress)
    async def count(payload: CountPayload) -> Operation:
        """An operation counting to ``to``, one step per ``interval``, reporting progress."""

        def step(op: Operation, i: int) -> None:
            if payload.fail_at is not None and i == payload.fail_at:
                raise RuntimeError(f"failed at {i} as asked")
            op.progress(
                current=i, total=payload.to, progress=round(100 * i / max(payload.to, 1)), message=f"{i}/{payload.to}"
            )

        async def run(op: Operation) -> Counted:
            for i in range(1, payload.to + 1):
                await asyncio.sleep(payload.interval)
                step(op, i)
            return {"counted": payload.to}

        def run_blocking(op: Operation) -> Counted:
            for i in range(1, payload.to + 1):
                time.sleep(payload.interval)
                op.check()
                step(op, i)
            return {"counted": payload.to}

        return context.operations.prepare("COUNT", "COUNT_PROGRESS", run_blocking if payload.blocking else run)

    @commands.command("EMIT")
    async def emit(payload: EmitPayload) -> dict[str, int]:
        """Publishes ``count`` events of ``type``, a burst of ``EMIT_BURST`` per turn of the loop: each burst is
        committed and delivered before the next, so a million neither stall the loop nor sit in memory."""
        for i in range(payload.count):
            context.events.emit({"type": payload.type, "data": {"index": i}})
            if i % EMIT_BURST == EMIT_BURST - 1:
                await asyncio.sleep(0)
        return {"emitted": payload.count}

    @commands.command("STRAY_OUTPUT")
    def stray_output(payload: StrayPayload) -> dict[str, int]:
        """Prints to stdout and runs a child that writes to fd 1: neither may reach the protocol stream."""
        print(payload.text)
        sys.stdout.flush()
        child = subprocess.run(  # the text goes by stdin: an argument cannot hold a NUL
            [sys.executable, "-c", "import os, sys; os.write(1, sys.stdin.buffer.read() + b'\\n')"],
            input=payload.text.encode(),
            check=False,
        )
        return {"child_exit": child.returncode}

    @commands.command("CRASH")
    def crash(payload: CrashPayload) -> None:
        """Raises an unexpected exception: answered INTERNAL_ERROR, and the backend lives on."""
        raise RuntimeError(payload.message)

    return commands


app = AppSpec(
    name="diag",
    version="0.1.0",
    description="Diagnostics: echo, sleep, a counting operation, stray output, a crash, event bursts",
    build=build,
    event_types=("COUNT_PROGRESS", "DIAG_EVENT"),
)
