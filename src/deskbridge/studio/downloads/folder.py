"""The output folder: checked at the start, a free name reserved per song, the finished file published under it,
and a finished file a killed run left behind found again (adopted) instead of fetched twice."""

from __future__ import annotations

import os
import stat
import tempfile
from pathlib import Path
from typing import Final

from deskbridge.paths import contained
from deskbridge.studio.downloads.failures import disk_failure, failed
from deskbridge.studio.downloads.filenames import candidates
from deskbridge.studio.downloads.formats import FileKind
from deskbridge.studio.downloads.tagging import song_page
from deskbridge.studio.fields import invalid, local_path
from deskbridge.studio.library import locked_temp
from deskbridge.studio.library.locked_temp import LockedTemp

_READ_ONLY: Final = (
    os.O_RDONLY
    | getattr(os, "O_NOFOLLOW", 0)
    | getattr(os, "O_NONBLOCK", 0)  # a FIFO swapped in after the look must not hang the open
    | getattr(os, "O_BINARY", 0)
    | getattr(os, "O_CLOEXEC", 0)
)


def prepare_output_dir(output_dir: str | Path) -> Path:
    """``output_dir`` created if missing and resolved; ``INVALID_PAYLOAD`` at ``$.output_dir`` if it is relative or
    cannot be written to."""
    directory = local_path(str(Path(output_dir).expanduser()), "$.output_dir")
    try:
        directory.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=directory):
            pass
    except OSError as exc:
        raise invalid(
            "$.output_dir", f"output_dir {str(directory)!r} cannot be written to: {exc.strerror or exc}"
        ) from None
    return directory.resolve()


def reserve(directory: Path, stem: str, kind: FileKind) -> tuple[Path, LockedTemp]:
    """The first free ``<name>.<extension>`` and its ``.part``, created exclusively (never through a link) and
    locked.

    A ``.part`` without its finished file is free if it is a dead download's (a
    regular file that no one, in this process or another, holds locked:
    :func:`.locked_temp.reclaim` removes it), so a download killed half-way
    leaves its name to the next one; any other ``.part`` (a download running
    now, a link) makes the name taken.
    """
    for name in candidates(stem):
        final = directory / f"{name}{kind.extension}"
        part = directory / f"{name}{kind.extension}.part"
        if os.path.lexists(final) or (os.path.lexists(part) and not locked_temp.reclaim(part)):
            continue
        try:
            contained(directory, part.name)
            reserved = locked_temp.create(part)
        except ValueError:
            raise failed(f"refusing to write {part.name!r} outside {directory}") from None
        except OSError as exc:
            raise disk_failure(exc, final) from None
        if reserved is not None:
            return final, reserved
    raise failed(f"every name like {stem!r} is taken in {directory}")


def publish(part: Path, final: Path) -> Path:
    """Rename the finished ``.part``; if its name was taken meanwhile, the next free one."""
    stem, extension = final.name.removesuffix(final.suffix), final.suffix
    for name in candidates(stem):
        target = final.with_name(f"{name}{extension}")
        reserved = target != final and os.path.lexists(target.with_name(target.name + ".part"))
        if not reserved and not os.path.lexists(target):
            part.replace(target)
            return target
    raise failed(f"every name like {stem!r} is taken in {final.parent}")


def finished_file(directory: Path, stem: str, song_url: str, kind: FileKind) -> tuple[Path, int, bool] | None:
    """A finished file of the song whose page is ``song_url``, under a name :func:`.reserve` would try for ``stem``.

    The names are walked as :func:`.reserve` walks them, up to the first
    free one (no file, no ``.part``): where the song would go now.
    Found: ``(path, bytes, has a cover)``. A link, a folder, a file of
    another song (another song page in its tags, or none), a file whose
    tags cannot be read or that is not whole (:attr:`.FileKind.problem`),
    and any error leave the name taken.
    """
    for name in candidates(stem):
        final = directory / f"{name}{kind.extension}"
        try:
            seen = os.lstat(final)
        except FileNotFoundError:
            if os.path.lexists(final.with_name(f"{final.name}.part")):
                continue
            return None
        except OSError:  # a name too long, a folder that cannot be searched: the download says why
            return None
        if stat.S_ISREG(seen.st_mode) and (found := song_file(final, seen, song_url, kind)) is not None:
            return final, *found
    return None


def song_file(path: Path, seen: os.stat_result, song_url: str, kind: FileKind) -> tuple[int, bool] | None:
    """``(bytes, has a cover)`` if ``path`` (the regular file ``seen``, never followed) is a whole file of
    ``song_url``: its tags name that page only (:func:`.tagging.song_page`) and it is whole
    (:attr:`.FileKind.problem`: an MP3's frames, a container's boxes or chunks)."""
    try:
        descriptor = os.open(path, _READ_ONLY)
    except OSError:
        return None
    with os.fdopen(descriptor, "rb") as file:
        try:
            opened = os.fstat(descriptor)
            if not stat.S_ISREG(opened.st_mode) or (opened.st_dev, opened.st_ino) != (seen.st_dev, seen.st_ino):
                return None  # swapped between the look and the open
            pages, cover = song_page(file, kind.format)
            if pages != {song_url}:
                return None
            file.seek(0)
            if kind.problem(file) is not None:
                return None
        except Exception:  # whatever a file makes mutagen raise: not provably ours, and no batch stops for it
            return None
    return opened.st_size, cover
