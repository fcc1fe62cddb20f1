""":func:`deskbridge.studio.downloads.audiocheck.truncation` for an MP3 that arrives in pieces, run by the regex engine.

The same verdicts, from :mod:`.audiocheck`'s frame arithmetic, made on a
download's bytes as they come, so that the finished file is not read again;
and 4-7x faster: audiocheck reads the file and follows its frames one Python
loop turn each, 0.4-0.6 ms per MB (a quarter of what curl takes to fetch
that MB from a local server), this 0.06-0.15 ms. One compiled pattern,
``(?:<header>.{<rest of frame>}|...)*+``, matches a run of frames of known
kinds (a kind is a header's first three bytes, which fix the frame's length),
and Python only handles where it stops: the end of a piece, a frame of a kind
not in the pattern yet, or bytes that are no frame. The kinds put in the
pattern at the first stop are the header's with and without the padding
byte, which is every frame of a constant-bitrate file; at the next, every
bitrate at that header's sample rate, for a variable-bitrate file. Patterns
are compiled once per set of kinds and kept (0.3-0.8 ms, once).
"""

from __future__ import annotations

import functools
import re
from typing import Final

from deskbridge.studio.downloads.audiocheck import _SEARCH, _after_id3, _first_frame, _frame_length

_PADDING: Final = 0x02
"""The padding bit of a header's third byte: a frame with it is one byte longer."""
_LONGEST_FRAME: Final = 1441
"""MPEG-1 Layer III at 320 kbit/s and 32 kHz, padded."""


class FrameChain:
    """Follows the frames of an MP3 fed piece by piece; :meth:`problem` says what audiocheck would of the whole."""

    def __init__(self) -> None:
        self._size = 0
        self._kept: list[bytes] | None = []
        """The first pieces, until there are enough to look for the first frame as audiocheck does."""
        self._tag_end: int | None = None
        self._lost = False
        """No first frame where audiocheck looks for one."""
        self._next = 0
        """Where the next frame header starts, once the first frame is found."""
        self._header = b""
        """The bytes of that header that came at the end of a piece (fewer than 4)."""
        self._cut = (0, 0)
        """The last frame stepped over (where it starts, its length): cut short if the bytes end before it does."""
        self._kinds: frozenset[bytes] = frozenset()
        self._unknown = False
        """A header audiocheck cannot judge was met: no verdict then."""

    def feed(self, piece: bytes) -> None:
        base, self._size = self._size, self._size + len(piece)
        if self._kept is None:
            self._follow(piece, base)
            return
        self._kept.append(piece)
        if self._tag_end is None and self._size >= 10:
            self._tag_end = _after_id3(b"".join(self._kept)[:10])
        # Enough to search past the tag and to see the frame after the last candidate, as in the whole file.
        if self._tag_end is not None and self._size >= self._tag_end + _SEARCH + 2 * _LONGEST_FRAME + 4:
            self._search()

    def problem(self) -> str | None:
        """``None`` if the bytes fed end on a whole frame (or cannot be judged), else what is wrong."""
        if self._kept is not None:
            self._search()
        if self._lost:
            return "no MPEG audio frame found"
        if self._unknown:
            return None
        if self._next > self._size:
            start, length = self._cut
            return f"the last audio frame is cut short ({self._size - start} of {length} bytes)"
        if self._header[:1] == b"\xff":
            return "the file ends inside a frame header"
        return None

    def _search(self) -> None:
        """Find the first frame in the pieces kept, then follow the chain through them."""
        assert self._kept is not None
        data = b"".join(self._kept)
        self._kept = None
        first = _first_frame(data, _after_id3(data))
        if first is None:
            self._lost = True
            return
        self._next = first
        self._follow(data, 0)

    def _follow(self, piece: bytes, base: int) -> None:
        """Follow the chain through ``piece``, which starts at offset ``base`` of the file."""
        if self._lost or self._unknown:
            return
        if self._header:
            self._header += piece[: 4 - len(self._header)]
            if len(self._header) < 4:
                return
            header, self._header = self._header, b""
            if not self._step(header, 0, self._next):
                return
        end = len(piece)
        while (position := self._next - base) < end:
            if self._kinds:
                run = _chain(self._kinds).match(piece, position)
                assert run is not None, "an empty run matches too"
                position = run.end()
                self._next = base + position
            if position + 4 > end:
                self._header = piece[position:]
                return
            if not self._step(piece, position, self._next):
                return

    def _step(self, data: bytes, position: int, offset: int) -> bool:
        """Past the frame whose header is at ``data[position:]`` and at ``offset`` in the file; ``False`` if none."""
        length = _frame_length(data, position)
        if length is None:
            self._unknown = True
            return False
        kind = data[position : position + 3]
        if kind not in self._kinds:
            self._kinds |= _every_bitrate(kind) if self._kinds else {kind, _toggle_padding(kind)}
        self._cut = (offset, length)
        self._next = offset + length
        return True


def _toggle_padding(header: bytes) -> bytes:
    return header[:2] + bytes([header[2] ^ _PADDING])


def _every_bitrate(header: bytes) -> frozenset[bytes]:
    """The kinds of ``header``'s version, layer and sample rate, at every bitrate, with and without padding."""
    rest = header[2] & 0x0F & ~_PADDING
    return frozenset(
        header[:2] + bytes([bitrate << 4 | rest | padding]) for bitrate in range(1, 15) for padding in (0, 2)
    )


@functools.cache
def _chain(kinds: frozenset[bytes]) -> re.Pattern[bytes]:
    """A pattern matching as many whole frames of ``kinds`` as follow each other."""
    frames = [re.escape(kind) + b".{%d}" % (_length(kind) - 3) for kind in sorted(kinds)]
    return re.compile(b"(?:" + b"|".join(frames) + b")*+", re.DOTALL)


def _length(kind: bytes) -> int:
    length = _frame_length(kind + b"\0", 0)
    assert length is not None, "kinds come from valid headers, with a valid bitrate"
    return length
