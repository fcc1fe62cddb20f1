"""Temporary files locked while written: what is reclaimed, what never is, and the race with a reclaimer."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from deskbridge.studio.library import locked_temp
from tests.studio.writers import killed_writer, live_writer

pytestmark = pytest.mark.skipif(not locked_temp.CAN_LOCK, reason="no flock: nothing is ever reclaimed here")


def test_create_is_exclusive_and_never_goes_through_a_link(tmp_path: Path) -> None:
    (tmp_path / "file.part").write_text("mine")
    (tmp_path / "link.part").symlink_to(tmp_path / "elsewhere")
    assert locked_temp.create(tmp_path / "file.part") is None
    assert locked_temp.create(tmp_path / "link.part") is None
    assert not (tmp_path / "elsewhere").exists()
    assert (tmp_path / "file.part").read_text() == "mine"


def test_a_file_this_process_writes_is_reclaimed_only_once_closed(tmp_path: Path) -> None:
    path = tmp_path / "song.part"
    temp = locked_temp.create(path)
    assert temp is not None
    with temp:
        with os.fdopen(temp.writer(), "wb") as out:
            out.write(b"half")
        assert not locked_temp.reclaim(path), "closing the writer's file object keeps the lock"
        assert path.read_bytes() == b"half"
    assert locked_temp.reclaim(path), "closed without a rename: a leftover"
    assert not path.exists()


def test_a_file_another_process_writes_is_reclaimed_only_once_it_is_killed(tmp_path: Path) -> None:
    path = tmp_path / "song.part"
    with live_writer(path, "theirs"):
        assert not locked_temp.reclaim(path)
        assert path.read_text() == "theirs"
    assert locked_temp.reclaim(path)
    assert not path.exists()
    assert not locked_temp.reclaim(path), "nothing there"


def test_only_lone_regular_files_are_reclaimed(tmp_path: Path) -> None:
    precious = tmp_path / "precious.txt"
    precious.write_text("precious")
    (tmp_path / "symlink.part").symlink_to(precious)
    (tmp_path / "hardlink.part").hardlink_to(precious)
    (tmp_path / "folder.part").mkdir()
    os.mkfifo(tmp_path / "fifo.part")
    for name in ["symlink.part", "hardlink.part", "folder.part", "fifo.part"]:
        assert not locked_temp.reclaim(tmp_path / name), name
        assert os.path.lexists(tmp_path / name), name
    assert precious.read_text() == "precious"


def test_reclaim_unique_takes_only_dead_writers_files_named_as_create_unique_names_them(tmp_path: Path) -> None:
    made = locked_temp.create_unique(tmp_path, ".history.", ".tmp")
    made.close()  # a leftover of this very process
    killed_writer(tmp_path / ".history.k1ll3d_x.tmp")
    with live_writer(tmp_path / ".history.writings.tmp", "being written"):
        others = {
            ".history.tmp": "no random part",
            ".history.abc.tmp": "three characters",
            ".history.ABCDEFGH.tmp": "capitals",
            ".history.abcdefgh.tmp.bak": "another suffix",
            ".other.abcdefgh.tmp": "another target",
            "history.abcdefgh.tmp": "not hidden",
        }
        for name, text in others.items():
            (tmp_path / name).write_text(text)
        removed = locked_temp.reclaim_unique(tmp_path, ".history.", ".tmp")
        assert sorted(path.name for path in removed) == sorted([made.path.name, ".history.k1ll3d_x.tmp"])
        assert (tmp_path / ".history.writings.tmp").read_text() == "being written"
        assert {name: (tmp_path / name).read_text() for name in others} == others


_RECLAIMER = """
import sys, time
from pathlib import Path
from deskbridge.studio.library import locked_temp

path, deadline, removed = Path(sys.argv[1]), time.monotonic() + float(sys.argv[2]), 0
while time.monotonic() < deadline:
    removed += locked_temp.reclaim(path)
print(removed)
"""


def test_a_reclaimer_racing_the_writer_never_removes_a_file_create_gave_out(tmp_path: Path) -> None:
    """Two processes reclaim the name in a loop while this one creates, writes and removes it, for a second."""
    path = tmp_path / "contested.part"
    reclaimers = [
        subprocess.Popen([sys.executable, "-c", _RECLAIMER, str(path), "1.5"], stdout=subprocess.PIPE, text=True)
        for _ in range(2)
    ]
    created = lost = 0
    deadline = time.monotonic() + 1.5
    while time.monotonic() < deadline:
        temp = locked_temp.create(path)
        if temp is None:
            continue  # a reclaimer had it, or has not removed it yet
        with temp:
            created += 1
            with os.fdopen(temp.writer(), "wb") as out:
                out.write(b"x" * 100)
            time.sleep(0.0005)
            if path.exists() and path.read_bytes() == b"x" * 100:
                path.unlink()
            else:
                lost += 1
    removed = [int(reclaimer.communicate(timeout=30)[0]) for reclaimer in reclaimers]
    assert lost == 0, f"{lost} of {created} files were taken from their writer ({removed} reclaimed)"
    assert created > 0
