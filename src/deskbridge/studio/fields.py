"""Field types the studio's payloads share: every string bounded, no control characters.

The router checks these constraints before a handler runs, so a hostile
payload (megabytes of text, NUL bytes, escape sequences) is answered
``INVALID_PAYLOAD`` with the field's path and never reaches SQLite or the disk.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Final, Generic, TypeVar

import msgspec

from deskbridge.errors import CommandError, ErrorCode

# ``\Z``, not ``$``: ``$`` also matches before a final newline.
SINGLE_LINE: Final = r"^[^\x00-\x1f\x7f-\x9f]*\Z"
"""No control characters at all (C0, DEL, C1)."""
MULTI_LINE: Final = r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]*\Z"
"""Tabs and line breaks allowed, other control characters refused."""

NAME_MAX: Final = 60
"""Account names: 60 characters are at most 240 UTF-8 bytes, under every file system's 255-byte limit."""

SessionTokenField = Annotated[
    str, msgspec.Meta(max_length=16_384, pattern=r"^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$")
]
"""A JWT (what Clerk issues): three base64url parts. Anything else is refused before Suno is asked."""
AccountNameField = Annotated[str, msgspec.Meta(min_length=1, max_length=NAME_MAX)]
Email = Annotated[str, msgspec.Meta(min_length=3, max_length=254)]
TITLE_MAX: Final = 200
LYRICS_MAX: Final = 20_000
STYLE_MAX: Final = 10_000
"""The most characters a title, lyrics or style may hold here: room above Suno's limits (the config's ``limits``,
which may not pass these), so a limit raised in the config lets longer prompts in, and one over a limit is told
as over it, not refused at the door."""
Title = Annotated[str, msgspec.Meta(max_length=TITLE_MAX, pattern=SINGLE_LINE)]
Lyrics = Annotated[str, msgspec.Meta(max_length=LYRICS_MAX, pattern=MULTI_LINE)]
Style = Annotated[str, msgspec.Meta(max_length=STYLE_MAX, pattern=SINGLE_LINE)]
Tag = Annotated[str, msgspec.Meta(min_length=1, max_length=100, pattern=SINGLE_LINE)]
Tags = Annotated[list[Tag], msgspec.Meta(max_length=50)]
Message = Annotated[str, msgspec.Meta(max_length=1_000, pattern=SINGLE_LINE)]
Identifier = Annotated[str, msgspec.Meta(min_length=1, max_length=200, pattern=SINGLE_LINE)]
"""Ids that come from outside: queue ids, song ids, clip ids."""
Workspace = Annotated[str, msgspec.Meta(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9_-]+\Z")]
"""A Suno workspace (its ``project_id``, as in ``/create?wid=``): a UUID, or ``default``."""
FilePath = Annotated[str, msgspec.Meta(min_length=1, max_length=4_096, pattern=SINGLE_LINE)]
Timestamp = Annotated[str, msgspec.Meta(min_length=10, max_length=40, pattern=SINGLE_LINE)]
Limit = Annotated[int, msgspec.Meta(ge=1, le=1_000)]
Offset = Annotated[int, msgspec.Meta(ge=0, le=2**63 - 1)]  # SQLite INTEGER

T = TypeVar("T")


class OffsetPage(msgspec.Struct, Generic[T]):
    """One page of a short list by offset (the prompt library), with the ``total`` across all pages."""

    items: list[T]
    total: int
    limit: int
    offset: int


def invalid(field: str, message: str, **details: object) -> CommandError:
    """``INVALID_PAYLOAD`` for a value the type allowed but a rule refuses, with its path like the router's."""
    return CommandError(ErrorCode.INVALID_PAYLOAD, message, {"fields": [field], **details})


def _limit(name: str, default: int) -> int:
    try:
        return int(os.pathconf("/", name))
    except (AttributeError, OSError, ValueError):  # Windows: no pathconf
        return default


NAME_BYTES: Final = _limit("PC_NAME_MAX", 255)
"""The longest name (one part of a path) the system takes, in bytes: 255 on every common file system."""
PATH_BYTES: Final = _limit("PC_PATH_MAX", 32_767) - 1
"""The longest path the system takes, in bytes (4095 on Linux, 1023 on macOS)."""


def local_path(value: str, field: str) -> Path:
    """``value`` as an absolute path of this machine, or ``INVALID_PAYLOAD`` at ``field`` for any path the system
    would refuse (a name over :data:`NAME_BYTES`, the whole over :data:`PATH_BYTES`, text it cannot encode):
    the same answer a relative path gets, never an ``OSError`` from the first call that touches it."""
    path = Path(value)
    if not path.is_absolute():
        raise invalid(field, f"{value!r} is not an absolute path")
    try:
        encoded = os.fsencode(path)
    except UnicodeEncodeError:
        raise invalid(field, f"{value!r} cannot be a path on this system") from None
    if len(encoded) > PATH_BYTES:
        raise invalid(field, f"the path is {len(encoded)} bytes long; the system takes at most {PATH_BYTES}")
    longest = max((os.fsencode(part) for part in path.parts), key=len)
    if len(longest) > NAME_BYTES:
        shown = longest[:40].decode(errors="replace")
        raise invalid(
            field, f"the name {shown + '...'!r} is {len(longest)} bytes long; the system takes at most {NAME_BYTES}"
        )
    return path
