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
from typing import Annotated, Any, Final, Literal

import msgspec

from deskbridge.clock import Clock
from deskbridge.store import Database
from deskbridge.studio.fields import (
    AccountNameField,
    Identifier,
    Lyrics,
    Message,
    Page,
    Style,
    Tags,
    Timestamp,
    Title,
    invalid,
)
from deskbridge.studio.library import csv_export, names, timestamps
from deskbridge.studio.library.account_lookup import find_account

RecordStatus = Literal["pending", "submitted", "queued", "processing", "completed", "failed", "cancelled"]

_ORDER: Final = "ORDER BY r.created_at DESC, r.id DESC"
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


class RecordIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """A record as the front end sends it: the seed's five fields, then optional details."""

    song_id: Identifier
    title: Title
    prompt_index: Annotated[int, msgspec.Meta(ge=0, le=1_000_000)]
    account_name: AccountNameField
    status: RecordStatus
    lyrics: Lyrics = ""
    style: Style = ""
    tags: Tags = []
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
            row = conn.execute("SELECT * FROM creation_records WHERE song_id = ?", (record.song_id,)).fetchone()
        return _record(row)

    def page(self, account_name: str | None, status: str | None, limit: int, offset: int) -> Page[Record]:
        """Records newest first, of one account (by name, even a deleted one) or of all."""
        where, params = self._account_filter(account_name)
        if status is not None:
            where += " AND r.status = ?"
            params.append(status)
        return self._page("creation_records r", where, params, limit, offset)

    def search(self, keyword: str, account_name: str | None, limit: int, offset: int) -> Page[Record]:
        """Records whose title, lyrics, style or tags hold every word of ``keyword`` (as a word prefix)."""
        words = keyword.split()
        if not words:
            raise invalid("$.keyword", "the keyword is blank")
        where, params = self._account_filter(account_name)
        query = " ".join('"' + word.replace('"', '""') + '"*' for word in words)
        return self._page(
            "creation_search JOIN creation_records r ON r.id = creation_search.rowid",
            f"creation_search MATCH ? AND {where}",
            [query, *params],
            limit,
            offset,
        )

    def export(self, output_path: str, account_name: str | None, overwrite: bool, escape_formulas: bool) -> Exported:
        """Write the history (oldest first) to a new CSV file."""
        path = csv_export.target(output_path, overwrite, "$.output_path")
        where, params = self._account_filter(account_name)
        rows = self._db.query(f"SELECT * FROM creation_records r WHERE {where} ORDER BY r.created_at, r.id", params)
        records = (_record(row) for row in rows)
        lines = (
            [getattr(record, column) if column != "tags" else ", ".join(record.tags) for column in _CSV_COLUMNS]
            for record in records
        )
        try:
            count = csv_export.write(path, _CSV_COLUMNS, lines, escape_formulas=escape_formulas)
        except OSError as exc:
            raise invalid("$.output_path", f"cannot write {str(path)!r}: {exc.strerror or exc}") from None
        return Exported(str(path), count)

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

    def _page(self, source: str, where: str, params: list[Any], limit: int, offset: int) -> Page[Record]:
        (total,) = self._db.query(f"SELECT COUNT(*) FROM {source} WHERE {where}", params)[0]
        rows = self._db.query(
            f"SELECT r.* FROM {source} WHERE {where} {_ORDER} LIMIT ? OFFSET ?", [*params, limit, offset]
        )
        return Page([_record(row) for row in rows], total, limit, offset)


def _record(row: Any) -> Record:
    return Record(
        row["song_id"],
        row["title"],
        row["prompt_index"],
        row["account_name"],
        row["status"],
        row["lyrics"],
        row["style"],
        json.loads(row["tags"]),
        row["queue_id"],
        row["error"],
        row["created_at"],
        row["updated_at"],
    )
