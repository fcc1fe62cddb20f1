"""A CSV file a spreadsheet program opens correctly, written all at once where the user asked.

UTF-8 with a byte order mark (Excel reads accents only then), RFC 4180
quoting of commas, quotes and line breaks, CRLF rows. The file is written
beside its target and renamed over it, so a reader never sees half a file;
the one a killed export left is removed by the next export to that target.
Cells that a spreadsheet would run as formulas (``=``, ``+``, ``-``, ``@``)
are prefixed with ``'`` unless the caller opts out (CSV injection).
"""

from __future__ import annotations

import contextlib
import csv
import os
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Final

from deskbridge.studio.fields import invalid
from deskbridge.studio.library import locked_temp

_FORMULA_START: Final = ("=", "+", "-", "@", "\t", "\r")
TEMP_SUFFIX: Final = ".tmp"


def target(value: str, overwrite: bool, field: str) -> Path:
    """The path to write, or ``INVALID_PAYLOAD`` saying why it cannot be written there."""
    path = Path(value)
    if not path.is_absolute():
        raise invalid(field, f"{value!r} is not an absolute path")
    if path.suffix.lower() != ".csv":
        raise invalid(field, f"{value!r} does not end in .csv")
    if not path.parent.is_dir():
        raise invalid(field, f"the folder {str(path.parent)!r} does not exist")
    if path.is_dir():
        raise invalid(field, f"{value!r} is a folder")
    if (path.exists() or path.is_symlink()) and not overwrite:
        raise invalid(field, f"{value!r} already exists; send overwrite: true to replace it")
    return path


def write(path: Path, header: Sequence[str], rows: Iterable[Sequence[object]], *, escape_formulas: bool) -> int:
    """Write the file atomically; returns the number of data rows. Raises ``OSError``.

    The temporary file is ``.<stem>.<8 random characters>.tmp`` beside
    ``path``, locked while it is written (:mod:`.locked_temp`). Those an
    export killed half-way left to the same target are removed first: only
    names made exactly so, regular files, whose lock nobody holds.
    """
    prefix = f".{path.stem}."
    locked_temp.reclaim_unique(path.parent, prefix, TEMP_SUFFIX)
    with locked_temp.create_unique(path.parent, prefix, TEMP_SUFFIX) as temp:
        try:
            with open(temp.writer(), "w", encoding="utf-8-sig", newline="") as out:
                writer = csv.writer(out)
                writer.writerow(header)
                count = 0
                for row in rows:
                    writer.writerow([_cell(value, escape_formulas) for value in row])
                    count += 1
                out.flush()
                os.fsync(out.fileno())
            os.replace(temp.path, path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(temp.path)
            raise
    return count


def _cell(value: object, escape_formulas: bool) -> object:
    if escape_formulas and isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value
