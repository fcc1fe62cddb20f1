"""Commands every backend answers, whatever its apps: liveness, version, operations, event history."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Annotated, Any

import msgspec

from deskbridge import __version__, protocol
from deskbridge.clients import ClientRegistry
from deskbridge.events import DEFAULT_PAGE, EventLog
from deskbridge.operations import Operations
from deskbridge.payloads import Payload
from deskbridge.router import Commands, Route

OperationId = Annotated[str, msgspec.Meta(min_length=1, max_length=100)]
ClientId = Annotated[str, msgspec.Meta(min_length=1, max_length=200)]


class OperationRef(Payload):
    operation_id: OperationId


class ListOperationsPayload(Payload):
    active_only: bool = False


class GetEventsPayload(Payload):
    """A resume cursor: the epoch and the last ``seq`` the client saw (``epoch`` omitted: trust the cursor)."""

    after: Annotated[int, msgspec.Meta(ge=0)] = 0
    epoch: str | None = None
    limit: Annotated[int, msgspec.Meta(ge=1, le=10_000)] = DEFAULT_PAGE


class AckPayload(Payload):
    """``last_seq`` is cumulative: the client holds every event up to it."""

    client_id: ClientId
    last_seq: Annotated[int, msgspec.Meta(ge=0)]


class Pong(msgspec.Struct):
    pong: bool
    time: int


class VersionInfo(msgspec.Struct):
    version: str
    protocol: str
    apps: dict[str, str]
    demo: bool = False
    """True for ``deskbridge demo``: made-up data, a stand-in Suno, a fake game."""


class CancelResult(msgspec.Struct):
    operation_id: str
    cancelled: bool
    status: str


def build(
    *,
    app_versions: Mapping[str, str],
    routes: Mapping[str, Route],
    schema: Callable[[], dict[str, Any]],
    operations: Operations,
    events: EventLog,
    clients: ClientRegistry,
    demo: bool = False,
) -> Commands:
    """The built-in commands, over what they read: ``routes`` is the router's live table (filled after this)."""
    commands = Commands()

    @commands.command("PING", inline=True)
    def ping() -> Pong:
        """Liveness: answers at once with the backend's clock."""
        return Pong(True, protocol.now_ms())

    @commands.command("GET_VERSION")
    async def get_version() -> VersionInfo:
        """deskbridge's version, the protocol version, each app's version, and whether this is the demo."""
        return VersionInfo(__version__, protocol.PROTOCOL_VERSION, dict(app_versions), demo)

    @commands.command("GET_OPERATION")
    async def get_operation(payload: OperationRef) -> dict[str, Any]:
        """One operation's status, latest progress, and result or error."""
        return operations.get(payload.operation_id).snapshot()

    @commands.command("LIST_OPERATIONS")
    async def list_operations(payload: ListOperationsPayload) -> list[dict[str, Any]]:
        """Operations of this run, oldest first; ``active_only`` keeps the unfinished."""
        return [op.snapshot() for op in operations.list(active_only=payload.active_only)]

    @commands.command("CANCEL_OPERATION")
    async def cancel_operation(payload: OperationRef) -> CancelResult:
        """Ask an operation to stop; ``cancelled`` is false when it had already finished."""
        cancelled = operations.cancel(payload.operation_id)
        return CancelResult(payload.operation_id, cancelled, operations.get(payload.operation_id).status)

    @commands.command("GET_COMMANDS")
    async def get_commands() -> list[Mapping[str, str]]:
        """Every command this backend answers, with its description."""
        return [{"type": r.type, "doc": r.doc} for r in routes.values()]

    @commands.command("GET_SCHEMA")
    async def get_schema() -> dict[str, Any]:
        """A JSON Schema of every command's payload and data, and the event types: clients generate types from it."""
        return schema()

    @commands.command("GET_EVENTS")
    async def get_events(payload: GetEventsPayload) -> dict[str, Any]:
        """Events after a cursor: ``{recovered, epoch, events, last_seq, more}`` (docs/web.md, resume)."""
        return events.resume(payload.epoch, payload.after, payload.limit).as_data()

    @commands.command("ACK_EVENTS")
    async def ack_events(payload: AckPayload) -> dict[str, int]:
        """Acknowledge every event up to ``last_seq``: retention keeps what a known client has not acknowledged."""
        events.acknowledge(payload.client_id, payload.last_seq)
        clients.seen(payload.client_id, payload.last_seq)
        return {"last_seq": payload.last_seq}

    return commands
