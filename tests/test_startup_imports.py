"""What a backend imports before ``BACKEND_READY``: only what serving the first command needs.

The front end waits for the ready line (bench/startup.py measures how long);
libraries the first command does not need come with their first use. Read
from ``python -X importtime``, which names every module as an ``import``
statement loads it, on stderr, before the ready line that follows them (the
app's own package, loaded by ``importlib.import_module``, is not named; what
its modules import is).
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from tests.support import DESKBRIDGE

LATER = {
    "web stack": {"starlette", "uvicorn", "websockets", "httptools", "h11"},
    "HTTP clients": {"httpx", "httpcore", "anyio", "aiohttp", "certifi"},
    "browser": {"playwright", "greenlet"},
    "tags": {"mutagen"},
    "processes": {"psutil"},
    "installed apps' metadata": {"importlib.metadata"},
    "the default data dir": {"platformdirs"},
    "terminal output": {"rich", "click", "pygments"},
    "the JSON Schema (GET_SCHEMA)": {"deskbridge.schema"},
}


def imported_before_ready(apps: list[str], data_dir: Path) -> set[str]:
    argv = [DESKBRIDGE[0], "-X", "importtime", *DESKBRIDGE[1:], "stdio", *apps, "--data-dir", str(data_dir)]
    result = subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=60)
    modules: set[str] = set()
    for line in result.stderr.splitlines():
        if line.startswith("import time:"):
            modules.add(line.rsplit("|", 1)[1].strip())
        elif line.startswith("{"):
            assert json.loads(line)["type"] == "BACKEND_READY", line
            return modules
    raise AssertionError(f"no ready line:\n{result.stderr[-2000:]}")


@pytest.mark.parametrize("apps", [["diag"], ["studio"], ["guardian"], ["studio", "guardian", "diag"]])
def test_nothing_the_first_command_does_not_need_is_imported_before_ready(apps: list[str], tmp_path: Path) -> None:
    modules = imported_before_ready(apps, tmp_path / "data")

    early = {what: sorted(modules & names) for what, names in LATER.items() if modules & names}
    assert early == {}
    assert {"deskbridge.cli", "deskbridge.transports.stdio", "msgspec", "sqlite3", "asyncio"} <= modules


@pytest.mark.parametrize("apps", [["diag"], ["studio"], ["guardian"]])
def test_no_app_loads_what_only_its_other_work_needs(apps: list[str], tmp_path: Path) -> None:
    """argparse's own help formatter asks shutil (which brings bz2 and lzma) for every argument; each
    dataclass compiles its methods at import (msgspec Structs do not); secrets brings hmac, hashlib and
    random for a temporary file's name; the guardian's installer serves ``deskbridge guardian install``."""
    later = {"shutil", "bz2", "lzma", "dataclasses", "secrets", "deskbridge.guardian.install"}
    assert imported_before_ready(apps, tmp_path / "data") & later == set()
