"""Refuse to guard from data the child could change: checked at every start, before the database opens.

A guardian whose database or token another account can write (a data folder
made 0777, a copy placed in the child's own folder by someone else) would let
the child edit the minutes played or the limits. The data folder, the app's
folder and the event log's must belong to the account the guardian runs as
and be writable by it alone; so must every file in them. POSIX only: on
Windows the install sets the folder's access list (docs/guardian.md).
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterable
from pathlib import Path


class UnsafeData(ValueError):
    """The message names every path at fault, why, and the command that mends it."""


def problems(folders: Iterable[Path]) -> list[str]:
    """What is wrong with ``folders`` and the files directly in them (empty: all private enough)."""
    if os.name != "posix":
        return []
    me = os.geteuid()
    found = []
    for folder in folders:
        if not folder.exists():
            continue
        for path in (folder, *(child for child in folder.iterdir() if not child.is_dir())):
            status = path.lstat()
            if status.st_uid != me:
                found.append(f"{path} belongs to uid {status.st_uid}, not to the guardian's account (uid {me})")
            elif status.st_mode & 0o022:
                mode = stat.S_IMODE(status.st_mode)
                found.append(f"{path} can be written by other accounts (mode {mode:04o}): chmod go-w {path}")
    return found


def check(folders: Iterable[Path]) -> None:
    found = problems(folders)
    if found:
        raise UnsafeData("the guardian refuses to run on data other accounts can change: " + "; ".join(found))
