"""What an app's contract asks of the web door, set while the app is built and read when the door opens.

Seed 004's config names where its WebSocket listens and whether WebSocket and
polling are on; the app says so here, the door obeys, and the core stays
ignorant of the app.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


class PolicyConflict(ValueError):
    """Two settings say different things; the message names both."""


@dataclass
class DoorPolicy:
    host: str | None = None
    port: int | None = None
    source: str = ""
    """Where ``host`` and ``port`` were said (``guardian config desktop_client.websocket``), for errors."""
    websocket: bool = True
    """False: WebSocket upgrades are refused."""
    polling: bool = True
    """False: the event polling paths are refused."""
    tokenless: tuple[str, ...] = ()
    """HTTP paths a loopback client may reach without the token (a path ending in ``/`` is a prefix)."""
    tokenless_websocket: tuple[str, ...] = ()
    """WebSocket paths a loopback client may open without the token."""
    cursorless: bool = False
    """True: a WebSocket client that neither sends a cursor nor subscribes reads from the cursor the server
    keeps for it (:mod:`deskbridge.cursors`), as a polling client without ``after`` always does."""

    def listen(
        self, flag_host: str | None, flag_port: int | None, *, port_flag: str = "--port"
    ) -> tuple[str | None, int | None]:
        """The address to bind: a flag overrides the app's; both given and different is a :class:`PolicyConflict`."""
        for name, flag, said in (("--host", flag_host, self.host), (port_flag, flag_port, self.port)):
            if flag is not None and said is not None and flag != said:
                raise PolicyConflict(f"{name} {flag} differs from {self.source} ({said}); give one, or the same")
        return (flag_host if flag_host is not None else self.host, flag_port if flag_port is not None else self.port)

    def is_tokenless(self, scope: Mapping[str, Any]) -> bool:
        """Whether this request's path is open without the token (the caller checks that it comes from loopback)."""
        path = str(scope.get("path", ""))
        if scope.get("type") == "websocket":
            return path in self.tokenless_websocket
        return any(path == open_path or (open_path.endswith("/") and path.startswith(open_path))
                   for open_path in self.tokenless)  # fmt: skip
