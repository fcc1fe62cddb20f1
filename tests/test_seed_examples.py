"""Seed 000's own client code, run unchanged against ``deskbridge stdio studio``."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support import DESKBRIDGE

SEED_JS = Path(__file__).parent / "seed" / "backend_service.js"


def test_the_seed_python_usage_example(tmp_path: Path) -> None:
    """The seed's "Basic Account Management" example, line for line but for the command it spawns."""
    process = subprocess.Popen(
        [*DESKBRIDGE, "stdio", "studio", "--data-dir", str(tmp_path)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stdin is not None
    assert process.stdout is not None
    assert process.stderr is not None
    try:
        ready_line = process.stderr.readline()
        ready_data = json.loads(ready_line.strip())
        assert ready_data["type"] == "BACKEND_READY"

        command = {
            "id": "create-account-1",
            "type": "CREATE_ACCOUNT",
            "payload": {"name": "my_account", "email": "user@example.com"},
        }
        process.stdin.write(json.dumps(command) + "\n")
        process.stdin.flush()

        response_line = process.stdout.readline()
        response = json.loads(response_line.strip())
        assert response["success"], response
        assert response["data"]["name"] == "my_account"
        assert response["id"] == "create-account-1"
        assert response["type"] == "CREATE_ACCOUNT_RESPONSE"
    finally:
        process.terminate()
        assert process.wait(5) == 0, "SIGTERM is a graceful shutdown"


NODE = shutil.which("node", path=str(Path(sys.executable).parent)) or shutil.which("node")


@pytest.mark.skipif(NODE is None, reason="needs Node.js (the dev extra installs it)")
def test_the_seed_electron_backend_service(tmp_path: Path) -> None:
    command = [*DESKBRIDGE, "stdio", "studio", "--data-dir", str(tmp_path)]
    result = subprocess.run(
        [str(NODE), str(SEED_JS)],
        env={**os.environ, "DESKBRIDGE_COMMAND": json.dumps(command), "PYTHONPATH": os.pathsep.join(sys.path)},
        capture_output=True,
        text=True,
        timeout=60,
    )
    steps = [json.loads(line) for line in result.stdout.splitlines()]
    assert steps[0] == {"step": "ready", "value": True}, result.stdout + result.stderr
    assert steps[1] == {"step": "accounts", "value": []}
    assert steps[2]["step"] == "created"
    assert steps[2]["value"]["name"] == "test_account"
    assert steps[3]["step"] == "duplicate"
    assert "test_account" in steps[3]["value"]
    assert [a["name"] for a in steps[4]["value"]] == ["test_account"]
