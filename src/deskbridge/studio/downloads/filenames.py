"""File names for downloaded songs, made from titles anyone may have typed.

A title becomes a name that is valid and harmless on Windows, macOS and
Linux: letters of every script are kept; path separators, the characters
Windows forbids (``<>:"/\\|?*``), control and bidi-override characters
become ``_`` or go (as do lone surrogates, which no file system stores);
runs of white space become one space; leading dots (hidden files, ``..``)
and trailing dots and spaces (Windows drops them) go;
a Windows device name (``CON``, ``com1.txt``) gets a ``_`` in front; the name
is cut to :data:`MAX_STEM_BYTES` of UTF-8 so that suffixes still fit in the
255-byte limit. An empty title gives ``Untitled <id>``. The result never
contains a separator, so it cannot leave the output directory by itself;
the downloader still checks the joined path (symbolic links).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterator
from typing import Final

MAX_STEM_BYTES: Final = 180
"""Leaves room for `` [1234abcd]``, `` (999)`` and ``.mp3.part`` under the usual 255-byte limit."""
MAX_CLASHES: Final = 9_999
SHORT_ID: Final = 8

_FORBIDDEN: Final = frozenset('<>:"/\\|?*')
_BIDI: Final = frozenset("\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
_DEVICES: Final = frozenset(
    {"CON", "PRN", "AUX", "NUL", "CONIN$", "CONOUT$"}
    | {f"{port}{n}" for port in ("COM", "LPT") for n in [*"0123456789", "¹", "²", "³"]}
)


def song_stem(title: str | None, clip_id: str, *, append_uuid: bool = False) -> str:
    """The file name (without extension) for a clip; ``append_uuid`` adds ``[<first 8 of the id>]``."""
    stem = _clean(title or "")
    if not stem:
        return f"Untitled {clip_id}"
    return f"{stem} [{clip_id[:SHORT_ID]}]" if append_uuid else stem


def candidates(stem: str) -> Iterator[str]:
    """``stem``, then ``stem (2)``, ``stem (3)``... for when a name is taken."""
    yield stem
    for n in range(2, MAX_CLASHES + 1):
        yield f"{stem} ({n})"


def _clean(title: str) -> str:
    kept = []
    for char in unicodedata.normalize("NFC", title):
        category = unicodedata.category(char)
        if char in _FORBIDDEN:
            kept.append("_")
        elif char in _BIDI or category == "Cs":
            continue
        elif category in ("Cc", "Zl", "Zp"):
            kept.append(" ")
        else:
            kept.append(char)
    name = _trim(" ".join("".join(kept).split()))
    name = _trim(name.encode("utf-8")[:MAX_STEM_BYTES].decode("utf-8", "ignore"))
    if name.split(".", 1)[0].rstrip(" ").upper() in _DEVICES:
        name = "_" + name
    return name


def _trim(name: str) -> str:
    return name.lstrip(". ").rstrip(". ")
