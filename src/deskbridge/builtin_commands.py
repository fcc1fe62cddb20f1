"""Commands every backend answers, whatever its apps: liveness, version, operations."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Annotated, Any

import msgspec

from deskbridge import __version__, protocol
from deskbridge.router import Commands

if TYPE_CHECKING:
    from deskbridge.backend import Backend

OperationId = Annotated[str, msgspec.Meta(min_length=1, max_length=100)]


class OperationRef(msgspec.Struct, kw_only=True):
    operation_id: OperationId


class ListOperationsPayload(msgspec.Struct, kw_only=True):
    active_only: bool = False


class Pong(msgspec.Struct):
    pong: bool
    time: int


class VersionInfo(msgspec.Struct):
    version: str
    protocol: str
    apps: dict[str, str]


class CancelResult(msgspec.Struct):
    operation_id: str
    cancelled: bool
    status: str


def build(backend: Backend) -> Commands:
    commands = Commands()

    @commands.command("PING")
    async def ping() -> Pong:
        """Liveness: answers at once with the backend's clock."""
        return Pong(True, protocol.now_ms())

    @commands.command("GET_VERSION")
    async def get_version() -> VersionInfo:
        """deskbridge's version, the protocol version and each app's version."""
        return VersionInfo(__version__, protocol.PROTOCOL_VERSION, {a.name: a.version for a in backend.apps})

    @commands.command("GET_OPERATION")
    async def get_operation(payload: OperationRef) -> dict[str, Any]:
        """One operation's status, latest progress, and result or error."""
        return backend.operations.get(payload.operation_id).snapshot()

    @commands.command("LIST_OPERATIONS")
    async def list_operations(payload: ListOperationsPayload) -> list[dict[str, Any]]:
        """Operations of this run, oldest first; ``active_only`` keeps the unfinished."""
        return [op.snapshot() for op in backend.operations.list(active_only=payload.active_only)]

    @commands.command("CANCEL_OPERATION")
    async def cancel_operation(payload: OperationRef) -> CancelResult:
        """Ask an operation to stop; ``cancelled`` is false when it had already finished."""
        cancelled = backend.operations.cancel(payload.operation_id)
        return CancelResult(payload.operation_id, cancelled, backend.operations.get(payload.operation_id).status)

    @commands.command("GET_COMMANDS")
    async def get_commands() -> list[Mapping[str, str]]:
        """Every command this backend answers, with its description."""
        return [{"type": r.type, "doc": r.doc} for r in backend.router.routes.values()]

    return commands
