"""Who may talk to the web door: the token, the Origin allowlist and the Host check.

A server on localhost is reachable by every web page the user opens: a page
can open ``ws://localhost:8001`` (cross-site WebSocket hijacking) or rebind a
DNS name of its own to 127.0.0.1. So every request must carry the per-install
token (``Authorization: Bearer`` or ``?token=``, since browsers cannot set
headers on a WebSocket), a WebSocket handshake's ``Origin`` must be on the
allowlist, and every ``Host`` must name this server on a loopback address.
These checks are pure functions of the ASGI scope.
"""

from __future__ import annotations

import errno
import hmac
import ipaddress
import os
import secrets
import stat
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final
from urllib.parse import parse_qsl

from deskbridge import logs
from deskbridge.closecodes import CloseCode
from deskbridge.roles import Role

TOKEN_FILE: Final = "token"
CLIENT_TOKEN_FILE: Final = "client-token"
"""The client role's token (:mod:`deskbridge.roles`), made only when an app has owner-only commands."""
LOOPBACK_NAMES: Final = frozenset({"localhost", "127.0.0.1", "::1"})
_NOFOLLOW: Final = getattr(os, "O_NOFOLLOW", 0)


class UnsafeTokenFile(Exception):
    """The token file is not a private regular file of its own: refused rather than read through."""


def load_or_create_token(data_dir: Path, name: str = TOKEN_FILE, mode: int = 0o600) -> tuple[str, Path]:
    """The install's token from ``<data_dir>/token`` (or the client's, ``name``), made with ``mode`` on first start.

    The owner's token is private (0600); the client's is readable by every local
    account (0644), so the desktop client in a child's session can read it when
    the backend runs as a service. The file is opened without following a
    link: through one, another file's first line would become the token and
    that file would be chmod-ed.
    """
    path = data_dir / name
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | _NOFOLLOW, mode)
    except FileExistsError:
        token = _read_token(path, mode)
    else:
        token = secrets.token_urlsafe(32)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            if os.name == "posix":
                os.fchmod(handle.fileno(), mode)  # the umask may have taken bits the client's token needs
            handle.write(token + "\n")
    logs.mask_everywhere(token)
    return token, path


def _read_token(path: Path, mode: int) -> str:
    try:
        fd = os.open(path, os.O_RDONLY | _NOFOLLOW | getattr(os, "O_NONBLOCK", 0))
    except OSError as exc:
        if exc.errno != errno.ELOOP:
            raise
        raise UnsafeTokenFile(f"{path} is a symbolic link; remove it (deskbridge makes its own token file)") from None
    try:
        status = os.fstat(fd)
        if not stat.S_ISREG(status.st_mode):
            raise UnsafeTokenFile(f"{path} is not a regular file; remove it (deskbridge makes its own token file)")
        token = os.read(fd, 4096).decode("utf-8", "replace").strip()
        if not token:
            raise UnsafeTokenFile(f"{path} is empty; delete it to make a new token")
        if os.name == "posix" and status.st_mode & 0o777 != mode:
            os.fchmod(fd, mode)
    finally:
        os.close(fd)
    return token


def is_loopback(host: str) -> bool:
    if host in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


@dataclass(frozen=True)
class Refusal:
    """Why a request is refused, as an HTTP status and as a WebSocket close code."""

    status: int
    close_code: CloseCode
    message: str


def _header(scope: Mapping[str, Any], name: bytes) -> str | None:
    for key, value in scope["headers"]:
        if key == name:
            return str(value.decode("latin-1"))
    return None


def query_params(scope: Mapping[str, Any]) -> dict[str, str]:
    """The query string as a dict (the last value wins when a name repeats)."""
    raw = scope.get("query_string", b"")
    return dict(parse_qsl(raw.decode("latin-1"), keep_blank_values=True)) if raw else {}


class Guard:
    """Checks one server's requests; ``token=None`` turns authentication off."""

    def __init__(
        self,
        *,
        token: str | None,
        port: int,
        bound_host: str,
        allowed_origins: Iterable[str] = (),
        allowed_hosts: Iterable[str] = (),
        tokenless: Callable[[Mapping[str, Any]], bool] = lambda scope: False,
        client_token: str | None = None,
    ) -> None:
        self._token = token.encode() if token is not None else None
        self._client_token = client_token.encode() if client_token is not None and token is not None else None
        self._tokenless = tokenless
        self.port = port
        names = set(LOOPBACK_NAMES) | {h.lower() for h in allowed_hosts}
        if bound_host not in ("0.0.0.0", "::", ""):
            names.add(bound_host.lower())
        self._host_names = frozenset(names)
        own = {f"http://{name}:{port}" for name in ("localhost", "127.0.0.1", "[::1]")}
        self._origins = frozenset(own | {"null"} | {o.rstrip("/") for o in allowed_origins if not o.endswith("*")})
        self._origin_prefixes = ("file://", *(o[:-1] for o in allowed_origins if o.endswith("*")))

    def check(self, scope: Mapping[str, Any]) -> Refusal | None:
        """The first reason to refuse this HTTP request or WebSocket handshake, or None."""
        return self.check_host(scope) or self.check_origin(scope) or self.check_token(scope)

    def check_host(self, scope: Mapping[str, Any]) -> Refusal | None:
        host = _header(scope, b"host")
        if not host:
            return Refusal(400, CloseCode.BAD_REQUEST, "missing Host header")
        name, sep, port = host.rpartition(":")
        if not sep or "]" in port or not port.isdigit():
            return Refusal(400, CloseCode.BAD_REQUEST, "the Host header must name the port")
        if int(port) != self.port or name.strip("[]").lower() not in self._host_names:
            return Refusal(421, CloseCode.MISDIRECTED, "this server answers only to its loopback address and port")
        return None

    def origin_allowed(self, origin: str | None) -> bool:
        if origin is None:
            return True
        return origin.startswith(self._origin_prefixes) or origin.rstrip("/") in self._origins

    def check_origin(self, scope: Mapping[str, Any]) -> Refusal | None:
        if self.origin_allowed(_header(scope, b"origin")):
            return None
        return Refusal(403, CloseCode.FORBIDDEN_ORIGIN, "origin not allowed")

    def check_token(self, scope: Mapping[str, Any]) -> Refusal | None:
        if self._token is None:
            return None
        client = scope.get("client")
        if client and is_loopback(str(client[0])) and self._tokenless(scope):
            return None  # a path the app opened to loopback clients without the token (docs/guardian.md)
        given = _given_token(scope)
        if given is not None and any(hmac.compare_digest(given, known) for known in self._tokens()):
            return None
        return Refusal(401, CloseCode.UNAUTHORIZED, "missing or wrong token")

    def role(self, scope: Mapping[str, Any]) -> Role:
        """The role of a request :meth:`check` let in: the owner's token (or no authentication) is the owner."""
        if self._token is None:
            return Role.OWNER
        given = _given_token(scope)
        return Role.OWNER if given is not None and hmac.compare_digest(given, self._token) else Role.CLIENT

    def _tokens(self) -> tuple[bytes, ...]:
        assert self._token is not None
        return (self._token,) if self._client_token is None else (self._token, self._client_token)


def _given_token(scope: Mapping[str, Any]) -> bytes | None:
    authorization = _header(scope, b"authorization")
    if authorization is not None:
        scheme, _, value = authorization.partition(" ")
        if scheme.lower() == "bearer":
            return value.strip().encode()
    given = query_params(scope).get("token")
    return None if given is None else given.encode()
