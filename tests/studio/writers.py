"""Another process writing a temporary file the way the studio does: alive (its lock held), or killed.

The child creates the file with :func:`deskbridge.studio.library.locked_temp.create`
(exclusive, locked), writes ``contents`` and says so on stdout, then waits.
``killed_writer`` SIGKILLs it at that point: what a backend killed
mid-download or mid-export leaves behind, for real.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

_CHILD = """
import os, sys, time
from pathlib import Path
from deskbridge.studio.library import locked_temp

temp = locked_temp.create(Path(sys.argv[1]))
assert temp is not None, "the name is taken"
with os.fdopen(temp.writer(), "wb") as out:
    out.write(sys.argv[2].encode())
print("writing", flush=True)
time.sleep(120)
"""


@contextmanager
def live_writer(path: Path, contents: str = "half a file") -> Iterator[subprocess.Popen[str]]:
    """A process holding ``path`` created, written and locked for as long as the block runs."""
    child = subprocess.Popen([sys.executable, "-c", _CHILD, str(path), contents], stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout is not None
        assert child.stdout.readline() == "writing\n", "the writer did not start"
        yield child
    finally:
        child.kill()
        child.wait(10)


def killed_writer(path: Path, contents: str = "half a file") -> None:
    """Leave ``path`` as a writer killed half-way leaves it: written, its lock gone with its process."""
    with live_writer(path, contents):
        pass
    assert path.read_bytes() == contents.encode()
