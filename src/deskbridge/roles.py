"""Who may run what: the owner runs every command, a client all but the owner-only ones apps declare.

One policy for every door. A door says which role its caller holds
(:class:`~deskbridge.caller.Caller`): the web door from the token presented, the
stdio door always the owner (whoever spawned the backend owns its data folder,
tokens included). Apps declare their owner-only commands
(:attr:`~deskbridge.app.AppSpec.owner_only`); the router asks this policy before
a handler runs, for a command on the wire and for one run from another command
(:meth:`~deskbridge.router.Router.call`), so a forwarding command cannot launder it.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Final

from deskbridge.errors import CommandError, ErrorCode


class Role(enum.StrEnum):
    OWNER = "owner"
    """Every command (the guardian's parent)."""
    CLIENT = "client"
    """Every command but the owner-only ones (the guardian's desktop client in the child's session)."""


@dataclass(frozen=True)
class AccessPolicy:
    owner_only: frozenset[str] = frozenset()

    @classmethod
    def of(cls, declared: Iterable[Iterable[str]]) -> AccessPolicy:
        return cls(frozenset(command for commands in declared for command in commands))

    def check(self, command_type: str, role: Role) -> None:
        """Raise ``PERMISSION_DENIED`` when ``role`` may not run ``command_type``."""
        if role is not Role.OWNER and command_type in self.owner_only:
            raise CommandError(
                ErrorCode.PERMISSION_DENIED,
                f"{command_type} needs the owner's token; this caller holds the client's",
                {"command": command_type, "role": str(role)},
            )


EVERYONE: Final = AccessPolicy()
"""No owner-only command: every role runs everything (a backend whose apps declare none)."""
