"""HS256 JSON Web Tokens, as short-lived as the stand-in is told to make them.

Only the stand-in signs and verifies; the studio merely reads ``exp``
(``deskbridge.studio.suno.tokens``), as it does with Suno's real tokens.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from typing import Any


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _sign(secret: bytes, signing_input: str) -> str:
    return _b64(hmac.new(secret, signing_input.encode("ascii"), hashlib.sha256).digest())


def encode(claims: dict[str, Any], secret: bytes) -> str:
    header = _b64(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    payload = _b64(json.dumps(claims, separators=(",", ":")).encode())
    return f"{header}.{payload}.{_sign(secret, f'{header}.{payload}')}"


def decode(token: str, secret: bytes, now: float) -> dict[str, Any] | None:
    """The claims of a token signed with ``secret`` and not expired at ``now``; ``None`` otherwise."""
    try:
        header, payload, signature = token.split(".")
        if not hmac.compare_digest(signature, _sign(secret, f"{header}.{payload}")):
            return None
        claims = json.loads(_unb64(payload))
    except ValueError:
        return None
    if not isinstance(claims, dict) or not isinstance(claims.get("exp"), int | float) or claims["exp"] <= now:
        return None
    return claims
