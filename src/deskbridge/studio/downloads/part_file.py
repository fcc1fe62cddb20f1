"""The ``.part`` file a song is written to: an MP3's ID3 tag first, then the server's bytes as they come (the other
formats are tagged once whole, where they keep their tags)."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

from mutagen import MutagenError

from deskbridge.studio.downloads.failures import disk_failure, failed, writing
from deskbridge.studio.downloads.formats import FileKind
from deskbridge.studio.downloads.framechain import FrameChain
from deskbridge.studio.downloads.tagging import Cover

CoverOutcome = tuple[Cover | None, str | None]
"""The cover, or ``None`` and why there is none."""
Tagger = Callable[[Path, Cover | None], None]


def id3_length(head: bytes) -> int | None:
    """Bytes of the ID3v2 tag ``head`` starts with: 0 if none, ``None`` while fewer than 10 bytes cannot tell."""
    if len(head) < 10:
        return None if b"ID3".startswith(head[:3]) else 0
    if not head.startswith(b"ID3"):
        return 0
    size = (head[6] << 21) | (head[7] << 14) | (head[8] << 7) | head[9]
    return 10 + size + (10 if head[5] & 0x10 else 0)


class PartFile:
    """The ``.part`` file: the song's ID3 tag first, then the server's bytes as they come.

    Mutagen puts a tag before audio by moving all of it, i.e. reading and
    writing the whole file again: cheap in the page cache (~0.1 ms per MB),
    not on a slow disk or a network share. So the tag goes in first, into a
    file that holds at most the server's own tag, which ``write_tags`` merges
    with ours as it would at the start of the whole file, and every byte is
    written once and never read back. The server's bytes that come before
    the cover wait in memory. ``size``, ``head`` and ``frames`` are about the
    server's bytes: where a ``Range`` resumes, how the file starts, and
    whether its last frame is whole. A disk error fails the clip at once
    (:func:`~.failures.disk_failure`), before any retry could resume past bytes that
    were never written.
    """

    def __init__(
        self,
        path: Path,
        song: Path,
        file: BinaryIO,
        covering: asyncio.Task[CoverOutcome],
        tag: Tagger,
        kind: FileKind,
    ) -> None:
        self.path = path
        self.song = song
        self.file = file
        self.kind = kind
        self.size = 0
        self.head = b""
        self.frames = FrameChain()
        self._covering = covering
        self._tag = tag
        self._held: list[bytes] | None = [] if kind.tags_first else None

    def write(self, chunk: bytes) -> None:
        self.size += len(chunk)
        if self.kind.tags_first:
            self.frames.feed(chunk)
        if len(self.head) < 16:
            self.head += chunk[: 16 - len(self.head)]
        if self._held is None:
            try:
                self.file.write(chunk)
            except OSError as exc:
                raise disk_failure(exc, self.song) from None
            return
        self._held.append(chunk)
        if self._covering.done() and (lead := id3_length(self.head)) is not None and self.size >= lead:
            self._write_tags(lead)

    async def finish(self) -> CoverOutcome:
        """Tag the file if the cover came after the last byte; the cover, and why there is none."""
        outcome = await self._covering
        if self.kind.tags_first and self._held is not None:
            lead = id3_length(self.head)
            self._write_tags(self.size if lead is None else min(lead, self.size))
        return outcome

    def restart(self) -> None:
        """Back to an empty file, for a server that sends the whole file again."""
        if self.size or self._held is None:
            with writing(self.song):
                self.file.seek(0)
                self.file.truncate()
        self.size = 0
        self.head = b""
        self.frames = FrameChain()
        self._held = [] if self.kind.tags_first else None

    def _write_tags(self, lead: int) -> None:
        """The server's tag (its first ``lead`` bytes), our tag over it, then the bytes held."""
        held, self._held = self._held or [], None
        with writing(self.song):
            if lead:
                data = b"".join(held)
                held = [data[lead:]]
                self.file.write(data[:lead])
                self.file.flush()
            self._tag_file()
            self.file.seek(0, os.SEEK_END)
            for chunk in held:
                self.file.write(chunk)

    def _tag_file(self) -> None:
        """Our tag into the file; mutagen wraps the disk's errors (an ``OSError`` with an errno) in its own."""
        try:
            self._tag(self.path, self._covering.result()[0])
        except MutagenError as exc:
            cause = exc.__context__
            if isinstance(cause, OSError) and cause.errno is not None:
                raise disk_failure(cause, self.song) from None
            raise failed(f"the ID3 tag at the start of the file cannot be read: {exc}") from None
