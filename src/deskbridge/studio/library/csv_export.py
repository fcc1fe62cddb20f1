"""A CSV file a spreadsheet program opens correctly, written all at once where the user asked.

UTF-8 with a byte order mark (Excel reads accents only then), RFC 4180
quoting (every text cell in double quotes, quotes doubled, so commas and line
breaks survive), CRLF rows. The file is written
beside its target and renamed over it, so a reader never sees half a file;
the one a killed export left is removed by the next export to that target.
Cells that a spreadsheet would run as formulas (``=``, ``+``, ``-``, ``@``)
are prefixed with ``'`` unless the caller opts out (CSV injection).

SQLite itself writes each line (:func:`line`), as UTF-8 bytes: rows go from
the database to the file without a Python call per row or per cell, which made
the export 3-5x slower than the ``sqlite3`` tool's, nor a decoding to ``str``
and encoding back per line (another third of its time; bench/scale.py).
"""

from __future__ import annotations

import codecs
import contextlib
import os
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Final

import msgspec

from deskbridge.studio.fields import invalid, local_path
from deskbridge.studio.library import locked_temp

_FORMULA_START: Final = "(61, 43, 45, 64, 9, 13)"
"""The code points of ``=``, ``+``, ``-``, ``@``, tab and CR, for SQLite's ``unicode()``."""
TEMP_SUFFIX: Final = ".tmp"


def target(value: str, overwrite: bool, field: str) -> Path:
    """The path to write, or ``INVALID_PAYLOAD`` saying why it cannot be written there."""
    path = local_path(value, field)
    if path.suffix.lower() != ".csv":
        raise invalid(field, f"{value!r} does not end in .csv")
    try:
        if not path.parent.is_dir():
            raise invalid(field, f"the folder {str(path.parent)!r} does not exist")
        if path.is_dir():
            raise invalid(field, f"{value!r} is a folder")
        if (path.exists() or path.is_symlink()) and not overwrite:
            raise invalid(field, f"{value!r} already exists; send overwrite: true to replace it")
    except OSError as exc:  # whatever else the system says about this path (permissions, a loop of links)
        raise invalid(field, f"cannot write {value!r}: {exc.strerror or exc}") from None
    return path


class Cell(msgspec.Struct, frozen=True):
    """One column of a CSV line: the SQL that reads it, and what it can hold (each check costs per row)."""

    expression: str
    text: bool = True
    """False for numbers: written as they are, unquoted."""
    nullable: bool = False
    """NULL is written as an empty cell."""
    formula: bool = True
    """False for text that never starts with a formula character (times, statuses): no check."""
    starts: str | None = None
    """SQL whose first character is the cell's, when it costs less than ``expression`` (the check reads it)."""


def line(cells: Sequence[Cell], *, escape_formulas: bool) -> str:
    """SQL for one CSV line (CRLF ended) of ``cells``, as UTF-8 bytes.

    One ``format()`` per row: its ``%w`` doubles the quotes of a text in C, as the ``sqlite3`` tool
    does; built from ``||``, ``replace`` and ``CASE`` per cell the same line cost twice as much.
    """
    spec: list[str] = []
    args: list[str] = []
    for cell in cells:
        value = f"coalesce({cell.expression}, '')" if cell.nullable else cell.expression
        if not cell.text:
            spec.append("%s")
            args.append(value)
        elif escape_formulas and cell.formula:
            spec.append('"%s%w"')
            args += [f"iif(unicode({cell.starts or value}) IN {_FORMULA_START}, '''', '')", value]
        else:
            spec.append('"%w"')
            args.append(value)
    return f"CAST(format('{','.join(spec)}\r\n', {', '.join(args)}) AS BLOB)"  # CR LF in the literal: no concat


def write(path: Path, header: Sequence[str], chunks: Iterable[Sequence[bytes]]) -> int:
    """Write the file atomically, lines a chunk at a time; returns the number of data rows. Raises ``OSError``.

    The temporary file is ``.<stem>.<8 random characters>.tmp`` beside
    ``path``, locked while it is written (:mod:`.locked_temp`). Those an
    export killed half-way left to the same target are removed first: only
    names made exactly so, regular files, whose lock nobody holds.
    """
    prefix = f".{path.stem}."
    locked_temp.reclaim_unique(path.parent, prefix, TEMP_SUFFIX)
    with locked_temp.create_unique(path.parent, prefix, TEMP_SUFFIX) as temp:
        try:
            with open(temp.writer(), "wb") as out:
                out.write(codecs.BOM_UTF8 + ",".join(header).encode() + b"\r\n")
                count = 0
                for lines in chunks:
                    out.write(b"".join(lines))
                    count += len(lines)
                out.flush()
                os.fsync(out.fileno())
            os.replace(temp.path, path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(temp.path)
            raise
    return count
