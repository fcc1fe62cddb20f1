"""Prompts from a file the user picked: JSON, CSV or plain text (docs/studio.md shows each).

* JSON: a list of prompt objects, or ``{"prompts": [...]}``.
* CSV: a header row naming ``title``, ``lyrics``, ``style``, ``tags`` (any
  case, any order, other columns ignored); tags are separated by commas.
* Text: prompts separated by a line of three or more dashes; a prompt may
  start with ``Title:``, ``Style:`` and ``Tags:`` lines, the rest is lyrics.

Every prompt is checked like one sent in a command; the first bad one is
reported with its place and nothing is imported. A place is what the user
finds in the tool the file was written with: ``row 5`` of a CSV (a
spreadsheet's row: the header is row 1, blank rows count, a cell's line
breaks do not), ``line 12`` of a text file, ``$[3]`` of a JSON file.
"""

from __future__ import annotations

import csv
import io
import os
import re
import stat
from collections.abc import Callable
from pathlib import Path
from typing import Any, Final, Literal

import msgspec

from deskbridge import protocol
from deskbridge.studio.fields import invalid, local_path
from deskbridge.studio.library.prompts import PromptIn

FileFormat = Literal["json", "csv", "text"]
MAX_BYTES: Final = 10 * 1024 * 1024
MAX_PROMPTS: Final = 10_000
_BY_SUFFIX: Final[dict[str, FileFormat]] = {".json": "json", ".csv": "csv", ".txt": "text"}
_COLUMNS: Final = ("title", "lyrics", "style", "tags")
_SEPARATOR: Final = re.compile(r"^-{3,}[ \t]*$", re.MULTILINE)
_HEADER: Final = re.compile(r"(title|style|tags)[ \t]*:[ \t]*(.*)", re.IGNORECASE)
_ITEM: Final = re.compile(r"\$\[(\d+)\]")

Placed = list[tuple[str, Any]]
"""Each item read, after its place in the file."""


class PromptFile(msgspec.Struct, frozen=True):
    prompts: list[PromptIn]
    places: list[str]
    """Where each prompt is in the file, in the same order."""


def read(path_text: str, file_format: FileFormat | None) -> PromptFile:
    """The prompts in the file at ``path_text`` (absolute), or ``INVALID_PAYLOAD`` saying what is wrong."""
    path = local_path(path_text, "$.path")
    text = _read_text(path)
    kind = file_format or _BY_SUFFIX.get(path.suffix.lower())
    if kind is None:
        raise invalid(
            "$.format", f"cannot tell the format of {path.name!r} from its name; send format: json, csv or text"
        )
    try:
        placed = _PARSERS[kind](text)
    except (ValueError, csv.Error) as exc:
        raise invalid("$.path", f"{path_text!r} is not a valid {kind} prompt file: {exc}") from None
    if not placed:
        raise invalid("$.path", f"{path_text!r} holds no prompts")
    if len(placed) > MAX_PROMPTS:
        raise invalid("$.path", f"{path_text!r} holds {len(placed)} prompts; import at most {MAX_PROMPTS} at a time")
    places = [place for place, _ in placed]
    # A file may carry fields of its own (another tool's ids, dates): only ours are read. A payload is
    # strict about them (a typo there is the sender's), a file is not.
    ours = set(PromptIn.__struct_fields__)
    items = [{k: v for k, v in item.items() if k in ours} if isinstance(item, dict) else item for _, item in placed]
    try:
        return PromptFile(msgspec.convert(items, list[PromptIn]), places)
    except msgspec.ValidationError as exc:
        message, details = protocol.validation_details(exc)
        where = details["fields"][0]
        index = _ITEM.match(where)
        place = places[int(index[1])] if index else where
        raise invalid(
            "$.path", f"the prompt at {place} of {path_text!r} is not valid: {message}", item=where, place=place
        ) from None


def _read_text(path: Path) -> str:
    """The file's text; a folder, FIFO or device is refused without blocking on it."""
    try:
        handle = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
        try:
            info = os.fstat(handle)
            if not stat.S_ISREG(info.st_mode):
                raise invalid("$.path", f"{str(path)!r} is not a regular file")
            if info.st_size > MAX_BYTES:
                raise invalid("$.path", f"{str(path)!r} is larger than {MAX_BYTES // (1024 * 1024)} MB")
            with open(handle, "rb", closefd=False) as file:
                data = file.read(MAX_BYTES + 1)
        finally:
            os.close(handle)
    except OSError as exc:
        raise invalid("$.path", f"cannot read {str(path)!r}: {exc.strerror or exc}") from None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise invalid("$.path", f"{str(path)!r} is not UTF-8 text (byte {exc.start})") from None


def _from_json(text: str) -> Placed:
    try:
        value = msgspec.json.decode(text)
    except msgspec.DecodeError as exc:
        raise ValueError(exc) from None
    within = "$"
    if isinstance(value, dict) and isinstance(value.get("prompts"), list):
        value, within = value["prompts"], "$.prompts"
    if not isinstance(value, list):
        raise ValueError('expected a list of prompts or {"prompts": [...]}')
    return [(f"{within}[{index}]", item) for index, item in enumerate(value)]


def _from_csv(text: str) -> Placed:
    reader = csv.reader(io.StringIO(text, newline=""))
    header = [name.strip().lower() for name in next(reader, [])]
    if not {"lyrics", "style"} & set(header):
        raise ValueError("the first row must name the columns, with at least 'lyrics' or 'style'")
    columns = {name: header.index(name) for name in _COLUMNS if name in header}
    items: Placed = []
    for number, row in enumerate(reader, start=2):
        if not any(cell.strip() for cell in row):
            continue
        cells: dict[str, Any] = {name: row[index] if index < len(row) else "" for name, index in columns.items()}
        if "tags" in cells:
            cells["tags"] = _split_tags(cells["tags"])
        items.append((f"row {number}", cells))
    return items


def _from_text(text: str) -> Placed:
    items: Placed = []
    line = 1  # where the next block starts: the file's first line, or the rest of a separator's line
    for block in _SEPARATOR.split(text.replace("\r\n", "\n").replace("\r", "\n")):
        first = line + len(block) - len(block.lstrip("\n"))
        line += block.count("\n")
        lines = block.strip("\n").split("\n")
        item: dict[str, Any] = {}
        while lines and (header := _HEADER.fullmatch(lines[0].strip())):
            key, value = header[1].lower(), header[2].strip()
            item[key] = _split_tags(value) if key == "tags" else value
            lines.pop(0)
        lyrics = "\n".join(lines).strip("\n")
        if lyrics.strip():
            item["lyrics"] = lyrics
        if item:
            items.append((f"line {first}", item))
    return items


def _split_tags(cell: str) -> list[str]:
    return [tag.strip() for tag in cell.split(",") if tag.strip()]


_PARSERS: Final[dict[str, Callable[[str], Placed]]] = {"json": _from_json, "csv": _from_csv, "text": _from_text}
