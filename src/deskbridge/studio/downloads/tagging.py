"""Tags for a downloaded song, in the place its format keeps them, so any player (and Windows Explorer) shows it.

MP3 and WAV get ID3 v2.3 (Windows Explorer reads it best; text in UTF-16,
the one Unicode encoding v2.3 has): TIT2 title, TPE1 the creator's display
name, TCON the style (``metadata.tags``), WOAR the song's page on Suno, USLT
the lyrics (``metadata.prompt``), TDRC the creation date (written as v2.3's
TYER/TDAT) and, when there is one, APIC the front cover (picture type 3). An
MP3 carries it at the start; a WAV in an ``id3 `` chunk of its RIFF
container. M4A and MP4 get the iTunes atoms: ``©nam``, ``©ART``, ``©gen``,
``©lyr``, ``©day``, ``covr``, and the song's page as the freeform
``----:com.apple.iTunes:WEBSITE``. Tags of these kinds already in the file
are replaced; others are kept. :func:`song_page` reads back which song a
file is (the WOAR, or the freeform atom) and whether it has a cover.
"""

from __future__ import annotations

from pathlib import Path
from typing import BinaryIO, Final

import msgspec
from mutagen.id3 import APIC, ID3, TCON, TDRC, TIT2, TPE1, USLT, WOAR, Encoding, ID3NoHeaderError, PictureType
from mutagen.mp4 import MP4, MP4Cover, MP4FreeForm
from mutagen.wave import WAVE

from deskbridge.studio.suno.models import Clip, Format

_OURS: Final = ("TIT2", "TPE1", "TCON", "WOAR", "USLT", "APIC", "TDRC", "TYER", "TDAT")
SONG_URL_ATOM: Final = "----:com.apple.iTunes:WEBSITE"
_MP4_COVERS: Final = {"image/jpeg": MP4Cover.FORMAT_JPEG, "image/png": MP4Cover.FORMAT_PNG}


class Cover(msgspec.Struct, frozen=True):
    data: bytes
    mime: str
    """``image/jpeg`` or ``image/png``."""


def title_of(clip: Clip) -> str:
    return (clip.title or "").strip() or f"Untitled {clip.id}"


def write_tags(path: Path, clip: Clip, song_url: str, cover: Cover | None) -> None:
    """Tag the MP3 at ``path`` in place (its ID3 tag is at the start)."""
    try:
        tags = ID3(path)
    except ID3NoHeaderError:
        tags = ID3()
    _id3(tags, clip, song_url, cover)
    tags.save(path, v2_version=3)


def tag_file(path: Path, fmt: Format, clip: Clip, song_url: str, cover: Cover | None) -> None:
    """Tag a finished file of any format in place."""
    if fmt == "mp3":
        write_tags(path, clip, song_url, cover)
    elif fmt == "wav":
        wave = WAVE(path)
        if wave.tags is None:
            wave.add_tags()
        assert wave.tags is not None
        _id3(wave.tags, clip, song_url, cover)
        wave.save(v2_version=3)
    else:
        _tag_mp4(path, clip, song_url, cover)


def song_page(file: BinaryIO, fmt: Format) -> tuple[set[str], bool]:
    """The song pages a file's tags name, and whether it has a cover (any tag error propagates)."""
    if fmt == "mp4" or fmt == "m4a":
        tags = MP4(file).tags or {}
        pages = {bytes(value).decode("utf-8", "replace") for value in tags.get(SONG_URL_ATOM, [])}
        return pages, bool(tags.get("covr"))
    id3 = ID3(file) if fmt == "mp3" else WAVE(file).tags
    if id3 is None:
        return set(), False
    return {frame.url for frame in id3.getall("WOAR")}, bool(id3.getall("APIC"))


def _id3(tags: ID3, clip: Clip, song_url: str, cover: Cover | None) -> None:
    for frame in _OURS:
        tags.delall(frame)
    text = Encoding.UTF16
    tags.add(TIT2(encoding=text, text=title_of(clip)))
    if clip.display_name:
        tags.add(TPE1(encoding=text, text=clip.display_name))
    if clip.metadata.tags:
        tags.add(TCON(encoding=text, text=clip.metadata.tags))
    tags.add(WOAR(url=song_url))
    if clip.metadata.prompt:
        tags.add(USLT(encoding=text, lang="eng", desc="", text=clip.metadata.prompt))
    if (day := _day(clip)) is not None:
        tags.add(TDRC(encoding=text, text=day))
    if cover is not None:
        tags.add(APIC(encoding=text, mime=cover.mime, type=PictureType.COVER_FRONT, desc="Cover", data=cover.data))


def _tag_mp4(path: Path, clip: Clip, song_url: str, cover: Cover | None) -> None:
    mp4 = MP4(path)
    if mp4.tags is None:
        mp4.add_tags()
    tags = mp4.tags
    assert tags is not None
    fields: dict[str, object] = {
        "\xa9nam": [title_of(clip)],
        "\xa9ART": [clip.display_name] if clip.display_name else None,
        "\xa9gen": [clip.metadata.tags] if clip.metadata.tags else None,
        "\xa9lyr": [clip.metadata.prompt] if clip.metadata.prompt else None,
        "\xa9day": [day] if (day := _day(clip)) else None,
        "covr": [MP4Cover(cover.data, _MP4_COVERS[cover.mime])] if cover else None,
        SONG_URL_ATOM: [MP4FreeForm(song_url.encode("utf-8"))],
    }
    for key, value in fields.items():
        tags.pop(key, None)
        if value is not None:
            tags[key] = value
    mp4.save()


def _day(clip: Clip) -> str | None:
    """``YYYY-MM-DD`` of the clip's creation, if Suno gave one that starts with a date."""
    created = (clip.created_at or "")[:10]
    return created if len(created) == 10 and created[4] == "-" and created[7] == "-" else None
