"""What counts as an MP3 worth keeping: how it starts, and whether its last frame is whole."""

from __future__ import annotations

from pathlib import Path

import pytest
from mutagen.id3 import ID3, TIT2

from deskbridge.studio.downloads import audiocheck
from deskbridge_standins.suno.media import MP3_FRAME_BYTES, silent_mp3


@pytest.mark.parametrize(
    ("head", "verdict"),
    [
        (b"ID3\x03\x00", None),
        (b"\xff\xfb\x90\xc0", None),
        (b"\xff\xf3\x64\xc4", None),
        (b"<!DOCTYPE html>", "an HTML or XML page"),
        (b"  <html>", "an HTML or XML page"),
        (b'{"detail": "Unauthorized"}', "a JSON document"),
        (b"[]", "a JSON document"),
        (b"RIFF\x00\x00", "data starting with 52 49 46 46 00 00"),
        (b"", "nothing"),
    ],
)
def test_sniffing_the_first_bytes(head: bytes, verdict: str | None) -> None:
    assert audiocheck.sniff(head) == verdict


def write(tmp_path: Path, data: bytes, tagged: bool = False) -> Path:
    path = tmp_path / "song.mp3"
    path.write_bytes(data)
    if tagged:
        tags = ID3()
        tags.add(TIT2(encoding=1, text="t"))
        tags.save(path, v2_version=3)
    return path


@pytest.mark.parametrize("tagged", [False, True])
def test_whole_frames_pass_with_or_without_an_id3_tag(tmp_path: Path, tagged: bool) -> None:
    assert audiocheck.truncation(write(tmp_path, silent_mp3(50_000), tagged)) is None


def test_an_id3v1_tag_after_the_last_frame_is_fine(tmp_path: Path) -> None:
    assert audiocheck.truncation(write(tmp_path, silent_mp3(50_000) + b"TAG" + bytes(125))) is None


@pytest.mark.parametrize("cut", [1, 2, 100, MP3_FRAME_BYTES - 1])
def test_a_file_that_ends_inside_a_frame_is_truncated(tmp_path: Path, cut: int) -> None:
    data = silent_mp3(50_000)
    problem = audiocheck.truncation(write(tmp_path, data[: len(data) - MP3_FRAME_BYTES + cut], tagged=True))
    assert problem is not None
    assert "cut short" in problem or "frame header" in problem


def test_bytes_without_any_frame_are_refused(tmp_path: Path) -> None:
    assert audiocheck.truncation(write(tmp_path, b"ID3" + bytes(7) + b"hello" * 100)) == "no MPEG audio frame found"
