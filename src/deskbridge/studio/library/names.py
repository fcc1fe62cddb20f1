"""What an account may be called and what counts as an email address.

An account's name is also the name of its browser profile directory, so it
must be safe as a directory name on every desktop system: letters of any
script, digits, ``_ - . space``; no separators, no ``..``, no leading dot, no
trailing dot or space (Windows drops them), no Windows device name, bounded
length. Names are compared the way case-insensitive file systems compare them:
``Studio`` and ``studio`` are the same account.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Final

from deskbridge.studio.fields import NAME_MAX, invalid

_PUNCTUATION: Final = frozenset("_-. ")
_WINDOWS_DEVICES: Final = frozenset(
    {"CON", "PRN", "AUX", "NUL"} | {f"{port}{n}" for port in ("COM", "LPT") for n in range(10)}
)
_EMAIL: Final = re.compile(
    r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]{1,64}(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]{1,64})*"
    r"@(?:[^\W_](?:(?:[^\W_]|-){0,61}[^\W_])?\.)+(?:[^\W\d_]{2,63}|xn--[a-z0-9-]{1,59})"
)


def account_name(value: str, field: str) -> str:
    """``value`` in NFC if it is an acceptable account name, else ``INVALID_PAYLOAD`` saying why."""
    name = unicodedata.normalize("NFC", value)
    problem = _name_problem(name)
    if problem:
        raise invalid(field, f"account name {value!r} is not allowed: {problem}")
    return name


def name_key(name: str) -> str:
    """The form two names are compared in (case-folded NFC)."""
    return unicodedata.normalize("NFC", unicodedata.normalize("NFC", name).casefold())


def email(value: str, field: str) -> str:
    local, _, _ = value.rpartition("@")
    if len(local) > 64 or not _EMAIL.fullmatch(value):
        raise invalid(field, f"{value!r} is not a valid email address")
    return value


def _name_problem(name: str) -> str | None:
    if not name:
        return "it is empty"
    if len(name) > NAME_MAX:
        return f"it is longer than {NAME_MAX} characters"
    for char in name:
        category = unicodedata.category(char)
        if not (category[0] in "LM" or category == "Nd" or char in _PUNCTUATION):
            return f"it contains {char!r}; use letters, digits, '_', '-', '.' and spaces"
    if name.startswith("."):
        return "it starts with a dot"
    if ".." in name:
        return "it contains '..'"
    if name[0] == " " or name[-1] in " .":
        return "it starts or ends with a space, or ends with a dot"
    if name.split(".", 1)[0].rstrip(" ").upper() in _WINDOWS_DEVICES:
        return "it is a device name on Windows"
    return None
