"""What a backup keeps next to each song: its metadata as Suno gave it, and its creation time as the file's.

``<file name>.json`` (``Night Drive.mp3.json``) holds the clip exactly as
the command received it (every field Suno sent, not only those the studio
reads), written whole or not at all. The song file's modification time
becomes the clip's ``created_at``, so a folder sorted by date is sorted by
when the songs were made. Both are switchable (``sidecar``, ``file_times``
on ``BATCH_DOWNLOAD`` and ``DOWNLOAD_CLIP``, defaults in
``studio.downloads``); neither ever fails a download: a problem is the
result's ``warning``.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Final

import msgspec

from deskbridge.studio.suno.models import moment

SUFFIX: Final = ".json"


def sidecar_path(song: Path) -> Path:
    return song.with_name(song.name + SUFFIX)


def write_sidecar(song: Path, clip: dict[str, Any]) -> Path:
    """``clip`` as JSON next to ``song``, replacing an older one (written to a temporary name, then renamed)."""
    target = sidecar_path(song)
    temporary = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_BINARY", 0)
    descriptor = os.open(temporary, flags, 0o644)
    try:
        with os.fdopen(descriptor, "wb") as file:
            file.write(msgspec.json.format(msgspec.json.encode(clip), indent=2))
        temporary.replace(target)
    finally:
        temporary.unlink(missing_ok=True)
    return target


def set_file_time(path: Path, created_at: str | None) -> bool:
    """Give ``path`` the modification (and access) time ``created_at``; ``False`` when there is none to give."""
    when = moment(created_at)
    if when is None:
        return False
    seconds = when.timestamp()
    os.utime(path, (seconds, seconds))
    return True
