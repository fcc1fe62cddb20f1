"""Download history: which clips each account already has, in which format, and which clips Suno unlocked for it.

Suno meters downloads, so this history is what keeps the studio from fetching
(and paying for) a clip twice: :meth:`DownloadHistory.new_clips` is the filter
every download goes through. An entry is one file: the MP3 and the WAV of a
song are two. A clip in the history in any format, or one the studio had
Suno unlock (:meth:`DownloadHistory.record_unlock`, kept when the history is
cleared: the clip stays unlocked on Suno), is never authorized again. It
belongs to the account and goes with it.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from typing import Annotated, Any, Final

import msgspec

from deskbridge import protocol
from deskbridge.clock import Clock
from deskbridge.payloads import Payload
from deskbridge.store import Database
from deskbridge.studio.fields import FilePath, Identifier, Title, invalid
from deskbridge.studio.library import paging, timestamps
from deskbridge.studio.library.account_lookup import find_account
from deskbridge.studio.library.paging import Keyset, Page, Paging
from deskbridge.studio.suno.models import Format

MAX_CLIPS: Final = 100_000
_CHUNK: Final = 500
_NEWEST_FIRST: Final = Keyset("GET_DOWNLOAD_HISTORY", ("downloaded_at", "rowid"), ("downloaded_at", "position"), True)


class ClipRef(msgspec.Struct):
    """What a clip must have, whatever else Suno sends with it."""

    id: Identifier


class DownloadedClip(Payload):
    id: Identifier
    title: Title = ""
    file_path: FilePath | None = None
    format: Format = "mp3"


class Download(msgspec.Struct):
    clip_id: str
    title: str
    file_path: str | None
    downloaded_at: str
    format: str


class RecordedDownloads(msgspec.Struct):
    account_name: str
    recorded: int
    total: int


class ClearedDownloads(msgspec.Struct):
    account_name: str
    cleared: int


Clips = Annotated[list[dict[str, Any]], msgspec.Meta(max_length=MAX_CLIPS)]


class DownloadHistory:
    def __init__(self, db: Database, clock: Clock) -> None:
        self._db = db
        self._clock = clock

    def record(self, account_name: str, clips: Sequence[DownloadedClip]) -> RecordedDownloads:
        """Remember clips as downloaded; a clip downloaded again is replaced by its newest entry."""
        now = timestamps.now(self._clock)
        with self._db.transaction() as conn:
            account = find_account(conn, account_name, "$.account_name")
            conn.executemany(
                "INSERT OR REPLACE INTO downloads (account_name, clip_id, format, title, file_path, downloaded_at)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                [(account, clip.id, clip.format, clip.title, clip.file_path, now) for clip in clips],
            )
            (total,) = conn.execute("SELECT COUNT(*) FROM downloads WHERE account_name = ?", (account,)).fetchone()
        return RecordedDownloads(account, len(clips), total)

    def page(self, account_name: str, request: Paging) -> Page[Download]:
        """An account's downloads, newest first."""
        with self._db.transaction() as conn:
            account = find_account(conn, account_name, "$.account_name")

            def query(after: str, params: list[Any], limit: int) -> list[sqlite3.Row]:
                return conn.execute(
                    f"SELECT rowid AS position, * FROM downloads WHERE account_name = ? AND {after}"
                    f" {_NEWEST_FIRST.order_by} LIMIT ?",
                    [account, *params, limit],
                ).fetchall()

            return paging.page(query, _NEWEST_FIRST, request, _download)

    def new_clips(
        self, account_name: str, all_clips: list[dict[str, Any]], file_format: str | None = None
    ) -> list[dict[str, Any]]:
        """The clips of ``all_clips`` not downloaded yet (in ``file_format``, or in any), as given and in their
        order, each id once."""
        try:
            refs = msgspec.convert(all_clips, list[ClipRef])
        except msgspec.ValidationError as exc:
            message, details = protocol.validation_details(exc)
            raise invalid("$.all_clips" + details["fields"][0][1:], f"every clip needs an id: {message}") from None
        known = self.downloaded(account_name, [ref.id for ref in refs], file_format)
        new = []
        for ref, clip in zip(refs, all_clips, strict=True):
            if ref.id not in known:
                known.add(ref.id)
                new.append(clip)
        return new

    def downloaded(self, account_name: str, clip_ids: Sequence[str], file_format: str | None = None) -> set[str]:
        """Which of ``clip_ids`` the account has downloaded (in ``file_format``, or in any)."""
        ids = list(dict.fromkeys(clip_ids))
        which = "" if file_format is None else " AND format = ?"
        known: set[str] = set()
        with self._db.transaction() as conn:
            account = find_account(conn, account_name, "$.account_name")
            for start in range(0, len(ids), _CHUNK):
                chunk = ids[start : start + _CHUNK]
                marks = ",".join("?" * len(chunk))
                wanted = (file_format,) if file_format is not None else ()
                rows = conn.execute(
                    f"SELECT clip_id FROM downloads WHERE account_name = ?{which} AND clip_id IN ({marks})",
                    (account, *wanted, *chunk),
                )
                known.update(row["clip_id"] for row in rows)
        return known

    def unlocked(self, account_name: str, clip_ids: Sequence[str]) -> set[str]:
        """Which of ``clip_ids`` are known to be unlocked for the account: downloaded in any format, or unlocked by
        the studio."""
        ids = list(dict.fromkeys(clip_ids))
        known = self.downloaded(account_name, ids)
        with self._db.transaction() as conn:
            account = find_account(conn, account_name, "$.account_name")
            for start in range(0, len(ids), _CHUNK):
                chunk = ids[start : start + _CHUNK]
                marks = ",".join("?" * len(chunk))
                rows = conn.execute(
                    f"SELECT clip_id FROM unlocked_clips WHERE account_name = ? AND clip_id IN ({marks})",
                    (account, *chunk),
                )
                known.update(row["clip_id"] for row in rows)
        return known

    def record_unlock(self, account_name: str, clip_id: str) -> None:
        """Remember that Suno unlocked ``clip_id`` for the account (an authorization was spent on it)."""
        with self._db.transaction() as conn:
            account = find_account(conn, account_name, "$.account_name")
            conn.execute(
                "INSERT OR IGNORE INTO unlocked_clips (account_name, clip_id, unlocked_at) VALUES (?, ?, ?)",
                (account, clip_id, timestamps.now(self._clock)),
            )

    def clear(self, account_name: str) -> ClearedDownloads:
        with self._db.transaction() as conn:
            account = find_account(conn, account_name, "$.account_name")
            cursor = conn.execute("DELETE FROM downloads WHERE account_name = ?", (account,))
        return ClearedDownloads(account, cursor.rowcount)


def _download(row: sqlite3.Row) -> Download:
    return Download(row["clip_id"], row["title"], row["file_path"], row["downloaded_at"], row["format"])
