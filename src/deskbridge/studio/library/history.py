"""Creation history: one record per song the studio made, searchable and exportable.

Records are keyed by ``song_id``: adding a record for a song already recorded
updates it (a song goes from ``submitted`` to ``completed``). Records outlive
the account they name, and follow it when it is renamed. Search is SQLite
FTS5 over title, lyrics, style and tags; every word of the keyword is quoted,
so quotes, operators and SQL in a keyword are only text.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Iterator
from typing import Annotated, Any, Final, Literal

import msgspec

from deskbridge.clock import Clock
from deskbridge.payloads import Payload
from deskbridge.store import Database
from deskbridge.studio.fields import (
    AccountNameField,
    Identifier,
    Lyrics,
    Message,
    Style,
    Tags,
    Timestamp,
    Title,
    invalid,
)
from deskbridge.studio.library import csv_export, names, paging, timestamps
from deskbridge.studio.library.account_lookup import find_account
from deskbridge.studio.library.paging import JsonPage, Keyset, Paging

RecordStatus = Literal["pending", "submitted", "queued", "processing", "completed", "failed", "cancelled"]

_BY_TIME: Final = Keyset("GET_CREATION_HISTORY", ("r.created_at", "r.id"), ("created_at", "id"), descending=True)
# FTS5 hands matches out in rowid order, so search pages newest recorded first and stops at the page:
# ordered by created_at it would sort every match of a common word first (all of them, for each page).
_BY_RECORDING: Final = Keyset("SEARCH_HISTORY", ("creation_search.rowid",), ("id",), descending=True)
_OLDEST_FIRST: Final = Keyset("EXPORT_HISTORY_TO_CSV", ("r.created_at", "r.id"), ("created_at", "id"))
_EXPORT_CHUNK: Final = 2_000
"""Rows read per query while exporting: memory stays flat, and other commands get the database between chunks."""
_READ_STEPS_PER_ROW: Final = 40
"""SQLite steps a page may take on the event loop per record asked for (one takes ~22 through the index)."""
_TAGS: Final = msgspec.json.Decoder(list[str])
_RECORD: Final = (
    "r.song_id, r.title, r.prompt_index, r.account_name, r.status, r.lyrics, r.style, r.tags, r.queue_id, r.error,"
    " r.created_at, r.updated_at"
)
"""The columns :func:`_record` reads, in :class:`Record`'s order."""
_CSV_COLUMNS: Final = (
    "created_at",
    "song_id",
    "title",
    "account_name",
    "status",
    "prompt_index",
    "style",
    "tags",
    "lyrics",
    "queue_id",
    "error",
    "updated_at",
)


_Read = Callable[[str, list[Any], int], list[sqlite3.Row]]
"""Rows of a query, given its parameters and how many rows it asks for."""


class RecordIn(Payload):
    """A record as the front end sends it: the seed's five fields, then optional details."""

    song_id: Identifier
    title: Title
    prompt_index: Annotated[int, msgspec.Meta(ge=0, le=1_000_000)]
    account_name: AccountNameField
    status: RecordStatus
    lyrics: Lyrics = ""
    style: Style = ""
    tags: Tags = msgspec.field(default_factory=list)
    queue_id: Identifier | None = None
    error: Message | None = None
    created_at: Timestamp | None = None


class Record(msgspec.Struct):
    song_id: str
    title: str
    prompt_index: int
    account_name: str
    status: str
    lyrics: str
    style: str
    tags: list[str]
    queue_id: str | None
    error: str | None
    created_at: str
    updated_at: str


def _record_json() -> str:
    """SQL for a record's JSON, as UTF-8 bytes: :class:`Record`'s keys in its order, ``tags`` as the list it
    is stored as. A page of records is read often and long (100-1,000 of them, ~60 kB per 100): written by
    SQLite, it reaches the answer with no Python object per record or field (bench/scale.py, "scale")."""
    fields = (f"'{name}', " + ("json(r.tags)" if name == "tags" else f"r.{name}") for name in Record.__struct_fields__)
    return f"CAST(json_object({', '.join(fields)}) AS BLOB)"


_RECORD_JSON: Final = _record_json()


class Exported(msgspec.Struct):
    output_path: str
    rows: int


class CreationHistory:
    def __init__(self, db: Database, clock: Clock) -> None:
        self._db = db
        self._clock = clock

    def add(self, record: RecordIn) -> Record:
        """Record a song, or update the record of a song already recorded."""
        given = timestamps.parse(record.created_at, "$.record.created_at") if record.created_at else None
        now = timestamps.now(self._clock)
        with self._db.transaction() as conn:
            account = find_account(conn, record.account_name, "$.record.account_name")
            conn.execute(
                """
                INSERT INTO creation_records (song_id, title, prompt_index, account_name, account_key, status,
                    lyrics, style, tags, queue_id, error, created_at, updated_at)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT (song_id) DO UPDATE SET
                    title = excluded.title, prompt_index = excluded.prompt_index,
                    account_name = excluded.account_name, account_key = excluded.account_key,
                    status = excluded.status, lyrics = excluded.lyrics, style = excluded.style,
                    tags = excluded.tags, queue_id = excluded.queue_id, error = excluded.error,
                    created_at = COALESCE(?, creation_records.created_at), updated_at = excluded.updated_at
                """,
                (
                    record.song_id,
                    record.title,
                    record.prompt_index,
                    account,
                    names.name_key(account),
                    record.status,
                    record.lyrics,
                    record.style,
                    json.dumps(record.tags, ensure_ascii=False),
                    record.queue_id,
                    record.error,
                    given or now,
                    now,
                    given,
                ),
            )
            row = conn.execute(f"SELECT {_RECORD} FROM creation_records r WHERE song_id = ?", (record.song_id,))
            return _record(row.fetchone())

    def page(self, account_name: str | None, status: str | None, request: Paging) -> JsonPage:
        """Records newest first, of one account (by name, even a deleted one) or of all.

        Cheap enough for the event loop while an index gives the page at once (:meth:`Database.read`): any
        status but ``completed`` has its own (partial) index; completed records are most records, but where
        they are few among many, looking for them moves to a worker thread.
        """
        where, params = self._account_filter(account_name)
        if status is not None:
            where += " AND r.status = ?"
            params.append(status)
            if status != "completed":  # SQLite takes a partial index only for a query holding its very term
                where += " AND r.status <> 'completed'"

        def read(sql: str, params: list[Any], rows: int) -> list[sqlite3.Row]:
            return self._db.read(sql, params, steps=_READ_STEPS_PER_ROW * rows + 500)

        return self._page(read, "creation_records r", where, params, _BY_TIME, request)

    def search(self, keyword: str, account_name: str | None, request: Paging) -> JsonPage:
        """Records whose title, lyrics, style or tags hold every word of ``keyword`` (as a word prefix).

        Newest recorded first: a record keeps its place when it is updated.
        """
        words = keyword.split()
        if not words:
            raise invalid("$.keyword", "the keyword is blank")
        where, params = self._account_filter(account_name)
        query = " ".join('"' + word.replace('"', '""') + '"*' for word in words)
        return self._page(
            lambda sql, params, _: self._db.query(sql, params),
            "creation_search JOIN creation_records r ON r.id = creation_search.rowid",
            f"creation_search MATCH ? AND {where}",
            [query, *params],
            _BY_RECORDING,
            request,
        )

    def export(self, output_path: str, account_name: str | None, overwrite: bool, escape_formulas: bool) -> Exported:
        """Write the history (oldest first) to a new CSV file."""
        path = csv_export.target(output_path, overwrite, "$.output_path")
        where, params = self._account_filter(account_name)
        chunks = self._oldest_first(_csv_line(escape_formulas), where, params)
        try:
            count = csv_export.write(path, _CSV_COLUMNS, chunks)
        except OSError as exc:
            raise invalid("$.output_path", f"cannot write {str(path)!r}: {exc.strerror or exc}") from None
        return Exported(str(path), count)

    def _oldest_first(self, line: str, where: str, params: list[Any]) -> Iterator[list[bytes]]:
        """The ``line`` of every record that ``where`` keeps, oldest first, a chunk at a time (each record once)."""
        after: tuple[str, list[Any]] = ("1", [])
        while True:
            rows = self._db.query(
                f"SELECT {line}, r.created_at, r.id FROM creation_records r WHERE {where} AND {after[0]}"
                f" {_OLDEST_FIRST.order_by} LIMIT ?",
                [*params, *after[1], _EXPORT_CHUNK],
            )
            if rows:
                yield [row[0] for row in rows]
            if len(rows) < _EXPORT_CHUNK:
                return
            after = _OLDEST_FIRST.after_key(tuple(rows[-1])[-2:])

    def rename_account(self, conn: sqlite3.Connection, old_name: str, new_name: str) -> None:
        """Make the records of ``old_name`` name ``new_name`` (inside the rename's transaction)."""
        conn.execute(
            "UPDATE creation_records SET account_name = ?, account_key = ? WHERE account_key = ?",
            (new_name, names.name_key(new_name), names.name_key(old_name)),
        )

    def _account_filter(self, account_name: str | None) -> tuple[str, list[Any]]:
        if account_name is None:
            return "1", []
        return "r.account_key = ?", [names.name_key(names.account_name(account_name, "$.account_name"))]

    def _page(
        self, read: _Read, source: str, where: str, params: list[Any], keyset: Keyset, request: Paging
    ) -> JsonPage:
        def query(after: str, after_params: list[Any], limit: int) -> list[sqlite3.Row]:
            sql = f"SELECT {_RECORD_JSON}, {keyset.columns[-1]} FROM {source} WHERE {where} AND {after}"
            return read(f"{sql} {keyset.order_by} LIMIT ?", [*params, *after_params, limit], limit)

        return paging.json_page(query, keyset, request)


def _csv_line(escape_formulas: bool) -> str:
    """The SQL that writes a record's CSV line: tags joined by ", ", text formula-safe when asked."""
    cells = []
    for column in _CSV_COLUMNS:
        cell = csv_export.Cell(
            f"r.{column}",
            text=column != "prompt_index",
            nullable=column in ("queue_id", "error"),
            formula=column not in ("created_at", "updated_at", "status"),  # the studio's own times and words
        )
        if column == "tags":  # '["a", "b"]' -> 'a, b' as text while no tag holds a quote or a backslash
            cell = csv_export.Cell(
                "CASE WHEN r.tags = '[]' THEN '' WHEN instr(r.tags, '\\') = 0"
                " THEN replace(substr(r.tags, 3, length(r.tags) - 4), '\", \"', ', ')"
                " ELSE (SELECT group_concat(value, ', ') FROM json_each(r.tags)) END",
                starts="substr(r.tags, 3, 1)",  # the first tag's first character: JSON escapes only \ and " there
            )
        cells.append(cell)
    return csv_export.line(cells, escape_formulas=escape_formulas)


def _record(row: Any) -> Record:
    song_id, title, index, account, status, lyrics, style, tags, queue_id, error, created, updated = row
    tags = _TAGS.decode(tags)
    return Record(song_id, title, index, account, status, lyrics, style, tags, queue_id, error, created, updated)
