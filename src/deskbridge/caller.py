"""Who sent the command being handled: the door and the client, for apps that keep a trace of who did what.

A door sets it before dispatching; the router copies the context into the
handler (thread or task), so a handler reads the caller of its own command.
"""

from __future__ import annotations

from contextvars import ContextVar
from dataclasses import dataclass

from deskbridge.roles import Role


@dataclass(frozen=True)
class Caller:
    door: str
    """``stdio``, ``ws`` or ``http``."""
    client_id: str | None = None
    role: Role = Role.OWNER
    """What this caller may run (:mod:`deskbridge.roles`)."""


CALLER: ContextVar[Caller | None] = ContextVar("deskbridge_caller", default=None)
_UNKNOWN = Caller("unknown")


def current() -> Caller:
    return CALLER.get() or _UNKNOWN
