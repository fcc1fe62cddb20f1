"""Real MP3, WAV, M4A/MP4 and JPEG files, made in code, for the stand-in to serve.

Nothing is downloaded and no codec is needed. The MP3 is a stream of silent
MPEG-1 Layer III frames: a frame header followed by zeroed side information
and main data, which every decoder plays as silence and mutagen reads as a
128 kbit/s, 44.1 kHz mono file. The WAV is 16-bit stereo PCM silence in a
RIFF/WAVE container. The M4A (and the MP4 "video", brand ``isom``) is an ISO
file, ``ftyp``, ``moov`` (one AAC track whose sample tables point into
``mdat``) and ``mdat`` of zeroed samples: its boxes are real, so mutagen
reads its length and moves its ``stco`` offsets when it adds tags. The JPEG is a flat grey 8x8 baseline image
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


_RATE: Final = 44_100
_AAC_FRAME: Final = 1024
_AAC_BYTES: Final = 372
"""One AAC frame's bytes at 128 kbit/s and 44.1 kHz: the size of every sample of the stand-in's MPEG-4 files."""
_MATRIX: Final = struct.pack(">9I", 0x10000, 0, 0, 0, 0x10000, 0, 0, 0, 0x40000000)


def silent_wav(size: int) -> bytes:
    """About ``size`` bytes of 16-bit stereo 44.1 kHz PCM silence in a RIFF/WAVE container."""
    channels, bits = 2, 16
    block = channels * bits // 8
    data = bytes(max(block, size - 44) // block * block)
    fmt = struct.pack("<HHIIHH", 1, channels, _RATE, _RATE * block, block, bits)
    body = b"WAVE" + b"fmt " + struct.pack("<I", len(fmt)) + fmt + b"data" + struct.pack("<I", len(data)) + data
    return b"RIFF" + struct.pack("<I", len(body)) + body


def silent_mp4(size: int, brand: bytes = b"M4A ") -> bytes:
    """About ``size`` bytes of an MPEG-4 file (``ftyp``, ``moov`` with one AAC track, ``mdat``) that mutagen reads.

    ``brand`` is ``M4A `` for the audio file, ``isom`` for the video one;
    the samples are zeros (no player needs to decode them for a test).
    """
    count = max(1, size // _AAC_BYTES)
    duration = count * _AAC_FRAME
    ftyp = _box(b"ftyp", brand + bytes(4) + brand + b"isommp42")
    mvhd = _full(
        b"mvhd",
        struct.pack(">IIIIIH", 0, 0, _RATE, duration, 0x10000, 0x100)
        + bytes(10)
        + _MATRIX
        + bytes(24)
        + struct.pack(">I", 2),
    )
    tkhd = _full(
        b"tkhd",
        struct.pack(">IIIII", 0, 0, 1, 0, duration)
        + bytes(8)
        + struct.pack(">HHHH", 0, 0, 0x100, 0)
        + _MATRIX
        + bytes(8),
        flags=7,
    )
    mdhd = _full(b"mdhd", struct.pack(">IIIIHH", 0, 0, _RATE, duration, 0x55C4, 0))
    hdlr = _full(b"hdlr", struct.pack(">I4s", 0, b"soun") + bytes(12) + b"SoundHandler\x00")
    # An ES descriptor for AAC LC, 44.1 kHz, stereo (AudioSpecificConfig 0x1210).
    decoder = (
        bytes([0x04, 17, 0x40, 0x15]) + bytes(3) + struct.pack(">II", 128_000, 128_000) + bytes([0x05, 2, 0x12, 0x10])
    )
    esds = _full(
        b"esds", bytes([0x03, 3 + len(decoder) + 3]) + struct.pack(">HB", 1, 0) + decoder + bytes([0x06, 1, 2])
    )
    mp4a = _box(
        b"mp4a", bytes(6) + struct.pack(">H", 1) + bytes(8) + struct.pack(">HHHHI", 2, 16, 0, 0, _RATE << 16) + esds
    )
    tables = (
        _full(b"stsd", struct.pack(">I", 1) + mp4a)
        + _full(b"stts", struct.pack(">III", 1, count, _AAC_FRAME))
        + _full(b"stsc", struct.pack(">IIII", 1, 1, count, 1))
        + _full(b"stsz", struct.pack(">II", _AAC_BYTES, count))
    )
    media_info = _full(b"smhd", bytes(4)) + _box(
        b"dinf", _full(b"dref", struct.pack(">I", 1) + _full(b"url ", b"", flags=1))
    )

    def moov(data_offset: int) -> bytes:
        stbl = _box(b"stbl", tables + _full(b"stco", struct.pack(">II", 1, data_offset)))
        mdia = _box(b"mdia", mdhd + hdlr + _box(b"minf", media_info + stbl))
        return _box(b"moov", mvhd + _box(b"trak", tkhd + mdia))

    data_offset = len(ftyp) + len(moov(0)) + 8
    return ftyp + moov(data_offset) + _box(b"mdat", bytes(_AAC_BYTES * count))


def _box(kind: bytes, payload: bytes) -> bytes:
    return struct.pack(">I4s", 8 + len(payload), kind) + payload


def _full(kind: bytes, payload: bytes, version: int = 0, flags: int = 0) -> bytes:
    return _box(kind, struct.pack(">I", (version << 24) | flags) + payload)
