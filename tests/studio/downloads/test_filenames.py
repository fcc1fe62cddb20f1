"""Titles typed by anyone become names that are valid, harmless and recognisable on every desktop."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from deskbridge.studio.downloads.filenames import MAX_STEM_BYTES, candidates, song_stem

CLIP = "0f8fad5b-d9cb-469f-a165-70867728950e"


@pytest.mark.parametrize(
    ("title", "stem"),
    [
        ("Night Drive", "Night Drive"),
        ("../../etc/passwd", "_.._etc_passwd"),
        ("a/b\\c", "a_b_c"),
        ('What? <Yes>: "no" | *', "What_ _Yes__ _no_ _ _"),
        ("CON", "_CON"),
        ("com1.txt", "_com1.txt"),
        ("LPT¹", "_LPT¹"),
        ("Console", "Console"),
        ("trailing dots...", "trailing dots"),
        ("...hidden", "hidden"),
        ("  spaced \t out\n", "spaced out"),
        ("line\u2028break", "line break"),
        ("evil\u202egnp.exe", "evilgnp.exe"),
        ("half\ud800pair", "halfpair"),
        ("Cafe\u0301", "Café"),
        ("夜のドライブ", "夜のドライブ"),
        ("مرحبا بالعالم", "مرحبا بالعالم"),
        ("🎵 🚗", "🎵 🚗"),
    ],
)
def test_titles_become_safe_names(title: str, stem: str) -> None:
    assert song_stem(title, CLIP) == stem


@pytest.mark.parametrize("title", ["", None, "   ", "...", "\x00\x01", "\u202e"])
def test_nothing_left_means_untitled_with_the_id(title: str | None) -> None:
    assert song_stem(title, CLIP) == f"Untitled {CLIP}"
    assert song_stem(title, CLIP, append_uuid=True) == f"Untitled {CLIP}", "the id is there already"


def test_append_uuid_adds_the_short_id() -> None:
    assert song_stem("Song", CLIP, append_uuid=True) == "Song [0f8fad5b]"


def test_long_titles_are_cut_on_a_character_boundary() -> None:
    stem = song_stem("ü" * 500, CLIP)
    assert len(stem.encode()) <= MAX_STEM_BYTES
    assert stem == "ü" * (MAX_STEM_BYTES // 2)


def test_clashes_are_numbered_from_two() -> None:
    assert list(itertools.islice(candidates("Song"), 3)) == ["Song", "Song (2)", "Song (3)"]


@given(st.text(max_size=400), st.booleans())
def test_any_title_gives_a_portable_name(title: str, append_uuid: bool) -> None:
    stem = song_stem(title, CLIP, append_uuid=append_uuid)
    assert stem
    assert not set(stem) & set('<>:"/\\|?*')
    assert all(ord(char) >= 32 and char not in "\x7f\u2028\u2029\u202e" for char in stem)
    assert stem == stem.strip(" ")
    assert not stem.startswith(".")
    assert not stem.endswith(".")
    assert stem not in {".", ".."}
    assert stem.split(".")[0].upper() not in {"CON", "PRN", "AUX", "NUL"}
    assert len(f"{stem} (9999).mp3.part".encode()) <= 255
