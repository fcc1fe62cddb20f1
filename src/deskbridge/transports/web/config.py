"""The web door's settings: what the command line gave, plus the config file's ``"web"`` section."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Annotated, Any

import msgspec

from deskbridge.clients import POLL_IDLE
from deskbridge.config import convert


@dataclass
class WebConfig:
    host: str = "127.0.0.1"
    port: int = 8001
    token: str | None = None
    client_token: str | None = None
    """The client role's token (:mod:`deskbridge.roles`); None: only the owner's token is accepted."""
    allowed_origins: tuple[str, ...] = ()
    allowed_hosts: tuple[str, ...] = ()
    outbox_bytes: int = 8 * 1024 * 1024
    subscribe_grace: float = 0.5
    poll_idle: float = POLL_IDLE

    @classmethod
    def from_config(cls, config: Mapping[str, Any], **given: Any) -> WebConfig:
        """The config file's ``"web"`` section with what the command line gave; a ``ConfigError`` naming a bad key."""
        section = convert(config.get("web", {}), _WebSection, owner="web", where="$.web")
        return cls(**msgspec.structs.asdict(section), **given)


class _WebSection(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    allowed_origins: tuple[str, ...] = WebConfig.allowed_origins
    """Origins allowed besides the server's own, ``file://`` and ``null``; ``app://desk*`` is a prefix."""
    allowed_hosts: tuple[str, ...] = WebConfig.allowed_hosts
    """Host names this server answers to besides its loopback names."""
    outbox_bytes: Annotated[int, msgspec.Meta(ge=64 * 1024, le=1024**3)] = WebConfig.outbox_bytes
    """Past half of it queued, a connection's events wait in the log and its messages are not read."""
    subscribe_grace: Annotated[float, msgspec.Meta(ge=0, le=60)] = WebConfig.subscribe_grace
    """How long a WebSocket without a cursor may take to send SUBSCRIBE before the live stream starts."""
    poll_idle: Annotated[float, msgspec.Meta(ge=1, le=3600)] = WebConfig.poll_idle
    """How long after its last poll a polling client is still listed as connected."""
