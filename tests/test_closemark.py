"""A database closed cleanly is not read in full at the next start; any doubt about the file is.

Each test stops a real backend cleanly, then damages a page of one of its
files the way the disk itself would (the same size, the mtime put back), so
that only whether the start ran ``quick_check`` tells the outcomes apart:
the start skips it after a clean stop (damage is then met by the command that
reads the page), and runs it in full after a kill -9, a touched, grown,
copied or WAL-carrying file, or a mark nobody can read.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.support import BackendProcess, start_failure

APPS = ["studio", "diag"]
STUDIO = "studio/studio.db"
LOG = "events/diag+studio.db"
READS = {STUDIO: ("GET_PROMPTS", {"limit": 1000}), LOG: ("GET_EVENTS", {"after": 0, "limit": 1000})}


def stopped_cleanly(data: Path) -> Path:
    """A data dir with prompts and events, its backend stopped the way a front end stops it."""
    backend = BackendProcess(APPS, data)
    try:
        backend.ok("CREATE_ACCOUNT", {"name": "ada"})
        backend.ok("EMIT", {"count": 100})
        backend.ok("ADD_PROMPTS", {"prompts": [{"lyrics": "words " * 300}] * 50})
        assert backend.close() == 0
    finally:
        backend.kill()
    return data


def mark_of(db: Path) -> Path:
    return db.with_name(db.name + ".closed")


def damage_a_page(db: Path) -> None:
    """Flip every bit of a data page no start reads (the second leaf of the prompts or of the events), keeping
    the file's size and mtime as a fault of the disk would."""
    table = "prompts" if db.name == "studio.db" else "events"
    with contextlib.closing(sqlite3.connect(f"file:{db}?immutable=1", uri=True)) as reader:
        (page,) = reader.execute(
            "SELECT pageno FROM dbstat WHERE name = ? AND pagetype = 'leaf' ORDER BY pageno LIMIT 1 OFFSET 1", (table,)
        ).fetchone()
    before = db.stat()
    image = bytearray(db.read_bytes())
    for at in range((page - 1) * 4096, page * 4096):
        image[at] ^= 0xFF
    db.write_bytes(bytes(image))
    os.utime(db, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert db.stat().st_size == before.st_size


def refused_naming(data: Path, db: Path) -> None:
    """The start stops with BACKEND_ERROR naming ``db`` as damaged, and leaves its bytes as they were."""
    image = db.read_bytes()
    status, first = start_failure(APPS, data)
    assert status == 1
    assert first["type"] == "BACKEND_ERROR"
    assert f"{db} is not a usable SQLite database: it is damaged" in first["error"]
    assert db.read_bytes() == image, "the damaged file was changed"


@pytest.mark.parametrize("name", [STUDIO, LOG])
def test_after_a_clean_stop_the_start_does_not_read_the_whole_file_and_a_command_meets_the_damage(
    name: str, tmp_path: Path
) -> None:
    """The trade-off: damage the disk made while the backend was stopped is found by the command that reads
    the page, which names the file. The run that met it leaves no mark, so the start after it checks in full
    and names the file too."""
    data = stopped_cleanly(tmp_path / "data")
    db = data / name
    assert mark_of(db).exists()
    damage_a_page(db)
    backend = BackendProcess(APPS, data)
    try:
        assert not mark_of(db).exists(), "a mark left while the file is open would vouch for it after a crash"
        command, payload = READS[name]
        failed = backend.error(command, payload)
        assert (failed["error_code"], failed["details"]) == ("DATABASE_DAMAGED", {"path": str(db)})
        assert failed["error"].startswith(f"{db} is damaged (database disk image is malformed): restore it from")
        assert backend.ok("PING")["pong"] is True, "the backend lives on"
        assert backend.close() == 0
    finally:
        backend.kill()
    assert not mark_of(db).exists()
    refused_naming(data, db)


@pytest.mark.parametrize("name", [STUDIO, LOG])
def test_after_a_kill_the_start_checks_the_whole_file(name: str, tmp_path: Path) -> None:
    data = stopped_cleanly(tmp_path / "data")
    db = data / name
    backend = BackendProcess(APPS, data)
    backend.kill()
    assert not mark_of(db).exists()
    damage_a_page(db)
    refused_naming(data, db)


def touched(db: Path) -> None:
    os.utime(db, ns=(db.stat().st_atime_ns, db.stat().st_mtime_ns + 1_000_000_000))


def grown(db: Path) -> None:
    before = db.stat()
    with db.open("ab") as handle:
        handle.write(bytes(4096))
    os.utime(db, ns=(before.st_atime_ns, before.st_mtime_ns))


def garbled_mark(db: Path) -> None:
    mark_of(db).write_bytes(b'{"not": "a mark"')


def wal_left_over(db: Path) -> None:
    db.with_name(db.name + "-wal").write_bytes(b"left by a process that did not close the file" * 10)


DOUBTS = {"touched": touched, "grown by a page": grown, "mark garbled": garbled_mark, "a WAL left": wal_left_over}


@pytest.mark.parametrize("doubt", DOUBTS.values(), ids=DOUBTS.keys())
def test_a_mark_that_does_not_match_the_file_gets_the_whole_file_checked(
    doubt: Callable[[Path], None], tmp_path: Path
) -> None:
    data = stopped_cleanly(tmp_path / "data")
    db = data / STUDIO
    damage_a_page(db)
    doubt(db)
    refused_naming(data, db)


def test_a_copied_data_dir_gets_its_files_checked_though_the_copy_keeps_mtimes_and_marks(tmp_path: Path) -> None:
    """A copy (a restored backup) is another file, whatever its mtime and size say."""
    data = stopped_cleanly(tmp_path / "data")
    copy = tmp_path / "copy"
    shutil.copytree(data, copy)
    db = copy / STUDIO
    assert mark_of(db).exists()
    assert db.stat().st_mtime_ns == (data / STUDIO).stat().st_mtime_ns
    damage_a_page(db)
    refused_naming(copy, db)


def test_a_mark_that_cannot_be_written_or_removed_never_stops_a_start_and_leaves_the_check_in_full(
    tmp_path: Path,
) -> None:
    data = stopped_cleanly(tmp_path / "data")
    db = data / STUDIO
    mark_of(db).unlink()
    mark_of(db).mkdir()  # neither replaced by a file nor removed: as good as a folder the backend may not write
    for _ in range(2):
        backend = BackendProcess(APPS, data)
        assert backend.ok("GET_ACCOUNTS")[0]["name"] == "ada"
        assert backend.close() == 0
    assert mark_of(db).is_dir()
    damage_a_page(db)
    refused_naming(data, db)
