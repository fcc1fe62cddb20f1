"""Real MP3 and JPEG files, made in code, for the stand-in to serve.

Nothing is downloaded and no codec is needed. The MP3 is a stream of silent
MPEG-1 Layer III frames: a frame header followed by zeroed side information
and main data, which every decoder plays as silence and mutagen reads as a
128 kbit/s, 44.1 kHz mono file. The JPEG is a flat grey 8x8 baseline image
encoded by hand (one block whose DC difference is 0 and whose AC
coefficients end at once); a comment segment carries a label (the clip id,
so every cover is different) and pads the file to the size asked for.
"""

from __future__ import annotations

import struct
from typing import Final

MP3_FRAME_HEADER: Final = bytes([0xFF, 0xFB, 0x90, 0xC0])
"""Sync, MPEG-1, Layer III, no CRC; 128 kbit/s, 44.1 kHz, no padding; mono."""
MP3_FRAME_BYTES: Final = 144 * 128_000 // 44_100
MP3_FRAME_SECONDS: Final = 1152 / 44_100


def silent_mp3(size: int) -> bytes:
    """About ``size`` bytes of silence (whole frames, at least one)."""
    frame = MP3_FRAME_HEADER + bytes(MP3_FRAME_BYTES - len(MP3_FRAME_HEADER))
    return frame * max(1, size // MP3_FRAME_BYTES)


def _segment(marker: int, payload: bytes) -> bytes:
    return struct.pack(">BBH", 0xFF, marker, len(payload) + 2) + payload


_JFIF: Final = _segment(0xE0, b"JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00")
_QUANTIZATION: Final = _segment(0xDB, b"\x00" + bytes([1] * 64))
_FRAME: Final = _segment(0xC0, struct.pack(">BHHB", 8, 8, 8, 1) + b"\x01\x11\x00")
# The standard luminance DC table (category 0 is the code 00) and an AC table
# holding only end-of-block (the code 0).
_DC_TABLE: Final = _segment(0xC4, b"\x00" + bytes([0, 1, 5, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0]) + bytes(range(12)))
_AC_TABLE: Final = _segment(0xC4, b"\x10" + bytes([1] + [0] * 15) + b"\x00")
_SCAN: Final = _segment(0xDA, b"\x01\x01\x00\x00\x3f\x00")
_ENTROPY: Final = bytes([0b000_11111])
"""DC "00" (no difference from mid-grey), AC "0" (end of block), padded with ones."""
_COMMENT_MAX: Final = 0xFFFF - 2


def flat_jpeg(label: str = "", size: int = 0) -> bytes:
    """A valid grey 8x8 JPEG carrying ``label`` in a comment, padded with comments to about ``size`` bytes."""
    head = b"\xff\xd8" + _JFIF + _QUANTIZATION + _FRAME + _DC_TABLE + _AC_TABLE
    tail = _SCAN + _ENTROPY + b"\xff\xd9"
    comments = [_segment(0xFE, label.encode("utf-8")[:_COMMENT_MAX])] if label else []
    missing = size - len(head) - len(tail) - sum(map(len, comments))
    while missing > 4:
        chunk = min(missing - 4, _COMMENT_MAX)
        comments.append(_segment(0xFE, b" " * chunk))
        missing -= chunk + 4
    return head + b"".join(comments) + tail
