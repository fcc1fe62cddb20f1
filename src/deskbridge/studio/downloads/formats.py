"""The four kinds of file Suno hands out, and how the studio tells a whole one from anything else.

``GET /api/download/clip/{id}?format=`` prepares ``mp3``, ``m4a``, ``wav``
or ``mp4`` (the video). Each :class:`FileKind` knows its extension, what its
first bytes look like (so an HTML page or a JSON error served with 200 is
refused at once, :func:`sniff`), and how to judge a finished file without
decoding it (:attr:`FileKind.problem`):

* MP3: a chain of MPEG frames whose last one is whole (:mod:`.framechain`);
* WAV: a RIFF/WAVE container whose chunks (``fmt `` before ``data``) add up
  to the size its header gives, and to the file's;
* M4A and MP4: ISO boxes from ``ftyp`` to the end of the file, with a
  ``moov`` and an ``mdat``, none running past the end.

The container walks read a handful of headers with seeks: a 60 MB WAV is
judged in microseconds. Tags (:mod:`.tagging`) go where the format keeps
them: ID3 at the start of an MP3 (written before the audio arrives) and in
an ``id3 `` chunk at the end of a WAV, MP4 atoms in the ``moov`` of M4A and
MP4.
"""

from __future__ import annotations

import os
import struct
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO, Final

import msgspec

from deskbridge.studio.downloads import audiocheck
from deskbridge.studio.downloads.framechain import FrameChain
from deskbridge.studio.suno.models import Format

OCTET_TYPES: Final = ("application/octet-stream", "binary/octet-stream")
"""Accepted for any kind: what object stores send when nobody set a type."""
_READ_CHUNK: Final = 1024 * 1024
_MAX_BOXES: Final = 10_000
"""A container with more top-level boxes or chunks than this is not one Suno made."""


class FileKind(msgspec.Struct, frozen=True):
    format: Format
    extension: str
    label: str
    """How a message names it: ``an MP3``."""
    head_bytes: int
    """How many first bytes :func:`sniff` needs to judge."""
    media_prefixes: tuple[str, ...]
    """Content types accepted (by prefix) besides :data:`OCTET_TYPES`."""
    starts_right: Callable[[bytes], bool]
    problem: Callable[[BinaryIO], str | None]
    """What is wrong with a finished file, open for reading (``None``: it is whole)."""

    @property
    def tags_first(self) -> bool:
        """MP3's tag goes before the audio while it arrives; the others' are written once the file is whole."""
        return self.format == "mp3"

    def problem_at(self, path: Path) -> str | None:
        with path.open("rb") as file:
            return self.problem(file)

    def accepts(self, media_type: str) -> bool:
        return not media_type or media_type in OCTET_TYPES or media_type.startswith(self.media_prefixes)

    def sniff(self, head: bytes) -> str | None:
        """``None`` if ``head`` (at least :attr:`head_bytes`, or the whole file) can start this kind, else what it
        looks like instead: another kind, an HTML page, a JSON document..."""
        if self.starts_right(head):
            return None
        other = next((kind.label for kind in KINDS.values() if kind.starts_right(head)), None)
        return other or audiocheck.sniff(head) or f"data starting with {head[:8].hex(' ')}"


def _mp3_starts(head: bytes) -> bool:
    return audiocheck.sniff(head) is None


def _wav_starts(head: bytes) -> bool:
    return head[:4] == b"RIFF" and head[8:12] == b"WAVE"


def _iso_starts(head: bytes) -> bool:
    return head[4:8] == b"ftyp"


def _size(file: BinaryIO) -> int:
    return os.fstat(file.fileno()).st_size


def mp3_problem(file: BinaryIO) -> str | None:
    frames = FrameChain()
    while chunk := file.read(_READ_CHUNK):
        frames.feed(chunk)
    return frames.problem()


def wav_problem(file: BinaryIO) -> str | None:
    """The RIFF chunks: ``fmt `` then ``data``, ending where the header and the file say."""
    size = _size(file)
    head = file.read(12)
    if not _wav_starts(head):
        return "no RIFF/WAVE header"
    (riff_size,) = struct.unpack("<I", head[4:8])
    end = 8 + riff_size
    if end > size:
        return f"the RIFF header announces {end} bytes, the file has {size}"
    position, seen = 12, list[bytes]()
    while position + 8 <= end and len(seen) < _MAX_BOXES:
        file.seek(position)
        chunk_id, chunk_size = struct.unpack("<4sI", file.read(8))
        following = position + 8 + chunk_size + (chunk_size & 1)
        if position + 8 + chunk_size > end:
            return f"the {chunk_id.decode('latin-1')!r} chunk is cut short"
        seen.append(chunk_id)
        position = min(following, end)
    if position != end:
        return "bytes after the last chunk do not form one"
    if b"fmt " not in seen or b"data" not in seen or seen.index(b"fmt ") > seen.index(b"data"):
        return "no 'fmt ' chunk before the 'data' chunk"
    return None if end in (size, size - 1) else f"{size - end} bytes follow the RIFF container"


def iso_problem(file: BinaryIO) -> str | None:
    """The top-level boxes: ``ftyp`` first, a ``moov`` and an ``mdat``, the last ending with the file."""
    size = _size(file)
    seen: list[bytes] = []
    position = 0
    while position < size and len(seen) < _MAX_BOXES:
        file.seek(position)
        header = file.read(16)
        if len(header) < 8:
            return "the file ends inside a box header"
        length, kind = struct.unpack(">I4s", header[:8])
        if length == 1:
            if len(header) < 16:
                return "the file ends inside a box header"
            (length,) = struct.unpack(">Q", header[8:16])
        elif length == 0:
            length = size - position
        if length < 8:
            return f"a box {kind.decode('latin-1')!r} of {length} bytes"
        if position + length > size:
            return f"the {kind.decode('latin-1')!r} box is cut short ({size - position} of {length} bytes)"
        seen.append(kind)
        position += length
    if not seen or seen[0] != b"ftyp":
        return "no 'ftyp' box at the start"
    missing = [name for name in (b"moov", b"mdat") if name not in seen]
    if missing:
        return f"no {missing[0].decode()!r} box"
    return None


KINDS: Final[dict[Format, FileKind]] = {
    "mp3": FileKind("mp3", ".mp3", "an MP3", 4, ("audio/",), _mp3_starts, mp3_problem),
    "m4a": FileKind("m4a", ".m4a", "an M4A (MPEG-4 audio)", 12, ("audio/", "video/mp4"), _iso_starts, iso_problem),
    "wav": FileKind("wav", ".wav", "a WAV", 12, ("audio/",), _wav_starts, wav_problem),
    "mp4": FileKind("mp4", ".mp4", "an MP4 video", 12, ("video/", "audio/mp4"), _iso_starts, iso_problem),
}
