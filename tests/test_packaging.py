"""The layer installs without the apps' weight, and a third party's app installs beside it.

One virtual environment per test session: ``pip install`` of this checkout (the bare layer: no Playwright, no
psutil) and of ``examples/notes`` (the app of docs/apps.md, found through the ``deskbridge.apps`` entry point).
"""

from __future__ import annotations

import json
import subprocess
import sys
import venv
from pathlib import Path

import httpx
import pytest
from websockets.sync.client import connect

from tests.support import BackendProcess, stderr_json

ROOT = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.slow


@pytest.fixture(scope="session")
def bare(tmp_path_factory: pytest.TempPathFactory) -> str:
    """The python of a venv with the bare layer and the example app (this venv's pip installs into it: no
    ensurepip; pip's cache keeps it to seconds of CPU)."""
    where = tmp_path_factory.mktemp("bare-venv")
    venv.create(where, with_pip=False)
    python = str(where / "bin" / "python")
    pip = [sys.executable, "-m", "pip", "--python", python, "install", "--quiet", "--disable-pip-version-check"]
    subprocess.run([*pip, str(ROOT), str(ROOT / "examples" / "notes")], check=True, timeout=600)
    return python


def test_the_bare_layer_has_none_of_the_apps_weight(bare: str, tmp_path: Path) -> None:
    for module in ("playwright", "psutil", "mutagen", "aiohttp"):
        found = subprocess.run([bare, "-c", f"import {module}"], capture_output=True, check=False)
        assert found.returncode != 0, module
    proc = subprocess.run(
        [bare, "-m", "deskbridge", "stdio", "studio", "--data-dir", str(tmp_path)],
        input=b"", capture_output=True, timeout=60, check=False,
    )  # fmt: skip
    assert proc.returncode != 0
    failure = json.loads(proc.stderr.splitlines()[0])  # the one line a front end waits for
    assert failure["type"] == "BACKEND_ERROR"
    assert "pip install 'deskbridge[studio]'" in failure["error"]
    listed = subprocess.run([bare, "-m", "deskbridge", "apps"], capture_output=True, text=True, check=True).stdout
    assert "notes\t0.1.0" in listed
    assert "deskbridge[guardian]" in listed


def test_the_example_app_over_both_doors_with_diag(bare: str, tmp_path: Path) -> None:
    backend = BackendProcess(["notes", "diag"], tmp_path, "--web-port", "0", command=[bare, "-m", "deskbridge"])
    try:
        ready = backend.ready
        assert ready["error_codes"]["NOTE_NOT_FOUND"] == "no note has this id"
        assert backend.ok("ECHO", {"a": 1}) == {"a": 1}
        assert backend.ok("ADD_NOTE", {"text": "milk"}) == {"id": 1, "text": "milk"}
        added = backend.wait_event(lambda e: e["type"] == "NOTE_ADDED")
        assert added["payload"] == {"id": 1, "text": "milk"}
        assert backend.error("GET_NOTE", {"id": 7})["error_code"] == "NOTE_NOT_FOUND"

        token = Path(ready["token_file"]).read_text().strip()
        with httpx.Client(base_url=ready["url"], headers={"Authorization": f"Bearer {token}"}) as web:
            assert web.get("/notes").json() == [{"id": 1, "text": "milk"}]
            missing = web.post("/api/command", json={"id": "g", "type": "GET_NOTE", "payload": {"id": 7}})
            assert (missing.status_code, missing.json()["error_code"]) == (404, "NOTE_NOT_FOUND")
            started = web.post(
                "/api/command", json={"id": "x", "type": "EXPORT_NOTES", "payload": {"seconds_per_note": 5}}
            ).json()
            with connect(f"{ready['ws']}?token={token}") as ws:
                ws.send(json.dumps({"id": "w", "type": "GET_NOTE", "payload": {"id": 7}}))
                answer = json.loads(ws.recv(10))
                while answer.get("id") != "w":
                    answer = json.loads(ws.recv(10))
                assert answer["error_code"] == "NOTE_NOT_FOUND"
            codes = web.get("/openapi.json").json()["components"]["schemas"]["ErrorCode"]["oneOf"]
            assert {"const": "NOTE_NOT_FOUND", "description": "no note has this id"} in codes
        operation_id = started["data"]["operation_id"]
        assert backend.ok("CANCEL_OPERATION", {"operation_id": operation_id})["cancelled"] is True
        backend.wait_event(
            lambda e: e["type"] == "EXPORT_PROGRESS" and e["payload"]["status"] == "cancelled"
            and e["payload"]["operation_id"] == operation_id
        )  # fmt: skip
        assert backend.close() == 0
    finally:
        backend.kill()
    assert not [m for m in stderr_json(backend.stderr_lines) if m.get("type") == "BACKEND_ERROR"]
    schema = json.loads(subprocess.run([bare, "-m", "deskbridge", "schema", "notes"], capture_output=True,
                                       check=True, timeout=60).stdout)  # fmt: skip
    assert schema["error_codes"]["NOTE_NOT_FOUND"] == {"meaning": "no note has this id", "http_status": 404,
                                                       "app": "notes"}  # fmt: skip
