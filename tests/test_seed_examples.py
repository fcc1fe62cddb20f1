"""Seed 000's own client code, run unchanged against ``deskbridge stdio studio``."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support import DESKBRIDGE, NODE, run_seed_backend_service


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


@pytest.mark.skipif(NODE is None, reason="needs Node.js (the dev extra installs it)")
def test_the_seed_electron_backend_service(tmp_path: Path) -> None:
    command = [*DESKBRIDGE, "stdio", "studio", "--data-dir", str(tmp_path)]
    run_seed_backend_service(command, {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)})
