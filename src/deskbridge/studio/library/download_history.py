"""Download history: which clips each account already has, keyed by clip id.

Suno meters downloads, so this history is what keeps the studio from fetching
(and paying for) a clip twice: :meth:`DownloadHistory.new_clips` is the filter
every download goes through. It belongs to the account and goes with it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Any, Final

import msgspec

from deskbridge import protocol
from deskbridge.clock import Clock
from deskbridge.payloads import Payload
from deskbridge.store import Database
from deskbridge.studio.fields import FilePath, Identifier, Page, Title, invalid
from deskbridge.studio.library import timestamps
from deskbridge.studio.library.account_lookup import find_account

MAX_CLIPS: Final = 100_000
_CHUNK: Final = 500


class ClipRef(msgspec.Struct):
    """What a clip must have, whatever else Suno sends with it."""

    id: Identifier


class DownloadedClip(Payload):
    id: Identifier
    title: Title = ""
    file_path: FilePath | None = None


class Download(msgspec.Struct):
    clip_id: str
    title: str
    file_path: str | None
    downloaded_at: str


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
                "INSERT OR REPLACE INTO downloads (account_name, clip_id, title, file_path, downloaded_at)"
                " VALUES (?, ?, ?, ?, ?)",
                [(account, clip.id, clip.title, clip.file_path, now) for clip in clips],
            )
            (total,) = conn.execute("SELECT COUNT(*) FROM downloads WHERE account_name = ?", (account,)).fetchone()
        return RecordedDownloads(account, len(clips), total)

    def page(self, account_name: str, limit: int, offset: int) -> Page[Download]:
        """An account's downloads, newest first."""
        with self._db.transaction() as conn:
            account = find_account(conn, account_name, "$.account_name")
            (total,) = conn.execute("SELECT COUNT(*) FROM downloads WHERE account_name = ?", (account,)).fetchone()
            rows = conn.execute(
                "SELECT * FROM downloads WHERE account_name = ?"
                " ORDER BY downloaded_at DESC, rowid DESC LIMIT ? OFFSET ?",
                (account, limit, offset),
            ).fetchall()
        items = [Download(row["clip_id"], row["title"], row["file_path"], row["downloaded_at"]) for row in rows]
        return Page(items, total, limit, offset)

    def new_clips(self, account_name: str, all_clips: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """The clips of ``all_clips`` not downloaded yet, as given and in their order, each id once."""
        try:
            refs = msgspec.convert(all_clips, list[ClipRef])
        except msgspec.ValidationError as exc:
            message, details = protocol.validation_details(exc)
            raise invalid("$.all_clips" + details["fields"][0][1:], f"every clip needs an id: {message}") from None
        ids = list(dict.fromkeys(ref.id for ref in refs))
        with self._db.transaction() as conn:
            account = find_account(conn, account_name, "$.account_name")
            known: set[str] = set()
            for start in range(0, len(ids), _CHUNK):
                chunk = ids[start : start + _CHUNK]
                marks = ",".join("?" * len(chunk))
                rows = conn.execute(
                    f"SELECT clip_id FROM downloads WHERE account_name = ? AND clip_id IN ({marks})", (account, *chunk)
                )
                known.update(row["clip_id"] for row in rows)
        new = []
        for ref, clip in zip(refs, all_clips, strict=True):
            if ref.id not in known:
                known.add(ref.id)
                new.append(clip)
        return new

    def clear(self, account_name: str) -> ClearedDownloads:
        with self._db.transaction() as conn:
            account = find_account(conn, account_name, "$.account_name")
            cursor = conn.execute("DELETE FROM downloads WHERE account_name = ?", (account,))
        return ClearedDownloads(account, cursor.rowcount)
