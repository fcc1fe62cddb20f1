"""What a Suno session JWT says of itself: when it expires, and whose it is.

Reports of the JWT's lifetime disagree (60 s to 1 h), so the client reads
``exp`` and refreshes a little early instead of guessing. The signature is
not checked: the token is ours, from Clerk, and only Suno can verify it;
all we want is its expiry and its account (``suno.com/claims/user_id`` is
the ``user_id`` of the account's own clips; ``sub`` is Clerk's id and is
not). A token that cannot be read counts as one with no known expiry (the
server's 401 is then the signal). Tokens never appear in an exception
message or a log line.
"""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any


def claims(token: str) -> dict[str, Any]:
    """The claims of a JWT (unverified); empty if it is not a JWT."""
    parts = token.split(".")
    if len(parts) != 3:
        return {}
    payload = parts[1] + "=" * (-len(parts[1]) % 4)
    try:
        found = json.loads(base64.urlsafe_b64decode(payload))
    except (binascii.Error, ValueError):
        return {}
    return found if isinstance(found, dict) else {}


def expires_at(token: str) -> float | None:
    """The ``exp`` claim (seconds since the epoch) of a JWT, or ``None`` if it has none or is not a JWT."""
    exp = claims(token).get("exp")
    return float(exp) if isinstance(exp, int | float) and not isinstance(exp, bool) else None


def string_claim(token: str, name: str) -> str | None:
    """A claim of the token that is a non-empty string (``suno.com/claims/user_id``), else ``None``."""
    value = claims(token).get(name)
    return value if isinstance(value, str) and value else None


def expires_within(token: str, seconds: float, now: float) -> bool:
    """True when ``token`` has a known expiry less than ``seconds`` after ``now``."""
    exp = expires_at(token)
    return exp is not None and exp - now < seconds
