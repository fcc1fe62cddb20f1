"""ID3 tags for a downloaded song, so any player (and Windows Explorer) shows what it is.

ID3 v2.3, because Windows Explorer reads it best; text in UTF-16, the one
Unicode encoding v2.3 has. The frames: TIT2 title, TPE1 the creator's
display name, TCON the style (``metadata.tags``), WOAR the song's page on
Suno, USLT the lyrics (``metadata.prompt``) and, when there is one, APIC the
front cover (picture type 3). Frames of these kinds already in the file are
replaced; others are kept.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Final

from mutagen.id3 import APIC, ID3, TCON, TIT2, TPE1, USLT, WOAR, Encoding, ID3NoHeaderError, PictureType

from deskbridge.studio.suno.models import Clip

_OURS: Final = ("TIT2", "TPE1", "TCON", "WOAR", "USLT", "APIC")


@dataclass(frozen=True)
class Cover:
    data: bytes
    mime: str
    """``image/jpeg`` or ``image/png``."""


def write_tags(path: Path, clip: Clip, song_url: str, cover: Cover | None) -> None:
    """Tag the MP3 at ``path`` in place."""
    try:
        tags = ID3(path)
    except ID3NoHeaderError:
        tags = ID3()
    for frame in _OURS:
        tags.delall(frame)
    text = Encoding.UTF16
    tags.add(TIT2(encoding=text, text=(clip.title or "").strip() or f"Untitled {clip.id}"))
    if clip.display_name:
        tags.add(TPE1(encoding=text, text=clip.display_name))
    if clip.metadata.tags:
        tags.add(TCON(encoding=text, text=clip.metadata.tags))
    tags.add(WOAR(url=song_url))
    if clip.metadata.prompt:
        tags.add(USLT(encoding=text, lang="eng", desc="", text=clip.metadata.prompt))
    if cover is not None:
        tags.add(APIC(encoding=text, mime=cover.mime, type=PictureType.COVER_FRONT, desc="Cover", data=cover.data))
    tags.save(path, v2_version=3)
