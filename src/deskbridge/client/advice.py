"""What ``deskbridge call`` and ``events`` say when they cannot talk to a backend: what they tried, what to do.

"[Errno 111] Connection refused" and "close code 4401" are true but leave a
person stuck; these messages name the URL that was tried, where the token
came from, and the command that fixes it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import httpx

from deskbridge.client.remote import Refused
from deskbridge.paths import default_data_dir

TOKEN_ENV = "DESKBRIDGE_TOKEN"  # cli.py documents it in --token's help
START_HINT = (
    "Start one with `deskbridge serve <apps>` (e.g. `deskbridge serve studio guardian diag`, or `deskbridge demo`), "
    "point --url at the one that runs, or pass --stdio APP to spawn one for this command"
)
TOKEN_HINT = (
    "Pass the server's token with --token or ${env}, or its --data-dir (the token is <data-dir>/token); "
    "`deskbridge serve` prints the dashboard URL with its token when it starts"
).replace("{env}", TOKEN_ENV)


@dataclass(frozen=True)
class Token:
    """The token a client command sends, and where it was found (or looked for)."""

    value: str | None
    source: str

    @classmethod
    def find(cls, given: str | None, data_dir: Path | None) -> Token:
        if given:
            return cls(given, "--token")
        if os.environ.get(TOKEN_ENV):
            return cls(os.environ[TOKEN_ENV], f"${TOKEN_ENV}")
        path = (data_dir or default_data_dir()) / "token"
        try:
            value = path.read_text(encoding="utf-8").strip()
        except OSError:
            return cls(None, f"no --token, no ${TOKEN_ENV}, and no token file at {path}")
        return cls(value or None, f"the token file {path}")


def explain(exc: BaseException, url: str, token: Token) -> str | None:
    """A message that says what to do about ``exc``, or None when it is not about reaching the server."""
    if isinstance(exc, Refused):
        if exc.code in (401, 4401):
            if token.value is None:
                return f"the server at {url} wants a token and none was found ({token.source}).\n  {TOKEN_HINT}"
            return f"the server at {url} refused the token from {token.source}.\n  {TOKEN_HINT}"
        return f"the server at {url} refused this client ({exc}): it checks the Origin and Host headers"
    if isinstance(exc, (ConnectionError, httpx.ConnectError)):
        return f"no backend answers at {url} (connection refused).\n  {START_HINT}"
    if isinstance(exc, (OSError, httpx.TransportError)):
        return f"cannot reach {url} ({exc or type(exc).__name__}).\n  {START_HINT}"
    return None
