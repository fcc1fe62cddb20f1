"""``deskbridge guardian install|uninstall``: the three platforms' files from one table each, and on Linux the real
unit written into a scratch root, verified, its ExecStart run as written, killed and started again, then removed."""

from __future__ import annotations

import json
import os
import plistlib
import shlex
import shutil
import signal
import socket
import stat
import subprocess
import threading
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import httpx
import pytest

from deskbridge.guardian import install
from tests.support import DESKBRIDGE

FACTS = install.Facts(python="/opt/py/bin/python3")
TASK = "{http://schemas.microsoft.com/windows/2004/02/mit/task}"


def guardian_cli(*words: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*DESKBRIDGE, "guardian", *words], capture_output=True, text=True, timeout=60)


@pytest.mark.parametrize("platform", ["linux", "macos", "windows"])
def test_a_dry_run_prints_every_file_and_command_and_writes_nothing(platform: str, tmp_path: Path) -> None:
    done = guardian_cli("install", "--dry-run", "--platform", platform, "--root", str(tmp_path / "root"))
    assert done.returncode == 0, done.stderr
    plan = install.plan(platform, install.Facts(root=str((tmp_path / "root").resolve())))  # type: ignore[arg-type]
    for written in plan.files:
        assert f"file: {written.path}" in done.stdout
    for argv in plan.install_commands:
        assert argv[0] in done.stdout
    assert not (tmp_path / "root").exists()
    gone = guardian_cli("uninstall", "--dry-run", "--platform", platform)
    assert f"remove: {install.plan(platform, install.Facts()).service_file}" in gone.stdout  # type: ignore[arg-type]


def test_a_config_with_a_bad_key_is_refused_before_anything_is_written(tmp_path: Path) -> None:
    config = tmp_path / "family.json"
    config.write_text(json.dumps({"children": {"alice": {"weekly_limit_minute": 600}}}))
    done = guardian_cli("install", "--root", str(tmp_path / "root"), "--config", str(config))
    assert done.returncode == 2
    assert "weekly_limit_minute" in done.stderr
    assert "$.children.alice" in done.stderr
    assert not (tmp_path / "root").exists()


def test_linux_a_system_unit_that_restarts_always_as_its_own_account() -> None:
    plan = install.plan("linux", FACTS)
    unit = next(written.content for written in plan.files if written.path == plan.service_file)
    assert str(plan.service_file) == "/etc/systemd/system/deskbridge-guardian.service"
    assert "Restart=always" in unit.splitlines()
    assert "User=deskbridge-guardian" in unit.splitlines()
    assert "ExecStart=/opt/py/bin/python3 -m deskbridge serve guardian --data-dir /var/lib/deskbridge-guardian " \
           "--config /etc/deskbridge-guardian/guardian.json" in unit  # fmt: skip
    assert ("systemctl", "enable", "--now", "deskbridge-guardian.service") in plan.install_commands


def test_macos_a_launchd_daemon_kept_alive_as_its_own_account() -> None:
    plan = install.plan("macos", FACTS)
    plist = plistlib.loads(next(w.content for w in plan.files if w.path == plan.service_file).encode())
    assert str(plan.service_file) == "/Library/LaunchDaemons/com.deskbridge.guardian.plist"
    assert plist["KeepAlive"] is True
    assert plist["RunAtLoad"] is True
    assert plist["UserName"] == "_deskbridgeguardian"
    assert plist["ProgramArguments"][:5] == ["/opt/py/bin/python3", "-m", "deskbridge", "serve", "guardian"]
    assert "/Library/Application Support/deskbridge-guardian" in plist["ProgramArguments"]
    assert ("launchctl", "bootstrap", "system", str(plan.service_file)) in plan.install_commands


def test_windows_a_task_at_boot_as_local_service_started_again_when_killed() -> None:
    plan = install.plan("windows", install.Facts(python=r"C:\Python312\python.exe"))
    task = ET.fromstring(next(w.content for w in plan.files if w.path == plan.service_file).split("\n", 1)[1])
    boot = task.find(f"{TASK}Triggers/{TASK}BootTrigger")
    assert boot is not None
    assert boot.findtext(f"{TASK}Repetition/{TASK}Interval") == "PT1M"
    assert task.findtext(f"{TASK}Principals/{TASK}Principal/{TASK}UserId") == "S-1-5-19"
    assert task.findtext(f"{TASK}Settings/{TASK}MultipleInstancesPolicy") == "IgnoreNew"
    assert task.findtext(f"{TASK}Settings/{TASK}RestartOnFailure/{TASK}Count") == "999"
    assert task.findtext(f"{TASK}Actions/{TASK}Exec/{TASK}Command") == r"C:\Python312\python.exe"
    arguments = task.findtext(f"{TASK}Actions/{TASK}Exec/{TASK}Arguments") or ""
    assert r"--data-dir C:\ProgramData\deskbridge-guardian" in arguments
    icacls = next(argv for argv in plan.install_commands if argv[0] == "icacls")
    assert "/inheritance:r" in icacls


def test_a_frozen_build_starts_itself_without_python() -> None:
    plan = install.plan("linux", install.Facts(python="/opt/deskbridge/deskbridge", frozen=True))
    assert plan.command_line[:3] == ("/opt/deskbridge/deskbridge", "serve", "guardian")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def start_as_written(command_line: list[str]) -> tuple[subprocess.Popen[bytes], dict[str, Any]]:
    """Run the unit's ExecStart as systemd would (no stdin) and wait for its BACKEND_READY line."""
    process = subprocess.Popen(command_line, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                               stderr=subprocess.PIPE)  # fmt: skip
    ready: dict[str, Any] = {}
    got = threading.Event()

    def pump() -> None:
        assert process.stderr is not None
        for raw in process.stderr:
            try:
                message = json.loads(raw)
            except ValueError:
                continue
            if isinstance(message, dict) and message.get("type") in ("BACKEND_READY", "BACKEND_ERROR"):
                ready.update(message)
                got.set()
        got.set()

    threading.Thread(target=pump, daemon=True).start()
    assert got.wait(30)
    return process, ready


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze (Debian's systemd) is absent")
def test_linux_install_verify_run_kill_restart_and_uninstall_leaves_nothing(tmp_path: Path) -> None:
    root, port = tmp_path / "root", free_port()
    config = tmp_path / "family.json"
    config.write_text(json.dumps({"desktop_client": {"websocket": {"port": port}}, "monitor": {"poll_interval": 0.2}}))
    done = guardian_cli("install", "--root", str(root), "--config", str(config), "--platform", "linux")
    assert done.returncode == 0, done.stderr
    unit = root / "etc/systemd/system/deskbridge-guardian.service"
    verified = subprocess.run(["systemd-analyze", "verify", "--man=no", str(unit)], capture_output=True, text=True)
    assert verified.returncode == 0, verified.stderr
    assert verified.stderr == ""
    exec_start = next(line for line in unit.read_text().splitlines() if line.startswith("ExecStart="))
    command_line = shlex.split(exec_start.removeprefix("ExecStart="))

    process, ready = start_as_written(command_line)
    try:
        assert ready["type"] == "BACKEND_READY", ready
        data = root / "var/lib/deskbridge-guardian"
        assert stat.S_IMODE(data.stat().st_mode) == 0o711
        assert stat.S_IMODE((data / "token").stat().st_mode) == 0o600
        assert stat.S_IMODE((data / "client-token").stat().st_mode) == 0o644
        parent = {"Authorization": f"Bearer {(data / 'token').read_text().strip()}"}
        url = f"http://127.0.0.1:{port}"
        limit = {"id": "1", "type": "SET_DAILY_LIMIT", "payload": {"minutes": 42}}
        assert httpx.post(f"{url}/api/command", json=limit, headers=parent).json()["success"] is True

        process.send_signal(signal.SIGKILL)  # killed from the task manager
        process.wait(10)
        process, ready = start_as_written(command_line)  # what Restart=always does
        assert ready["type"] == "BACKEND_READY", ready
        asked = {"id": "2", "type": "GET_CONFIG", "payload": {}}
        answer = httpx.post(f"{url}/api/command", json=asked, headers=parent).json()
        assert answer["data"]["children"]["default_child"]["daily_limit_minutes"] == 42
    finally:
        process.kill()
        process.wait(10)

    gone = guardian_cli("uninstall", "--root", str(root), "--platform", "linux")
    assert gone.returncode == 0, gone.stderr
    assert [path for path in root.rglob("*") if not path.is_dir()] == []


def test_a_guardian_whose_data_other_accounts_can_write_refuses_to_start(tmp_path: Path) -> None:
    data = tmp_path / "data"
    (data / "guardian").mkdir(parents=True)
    os.chmod(data / "guardian", 0o777)
    done = subprocess.run([*DESKBRIDGE, "stdio", "guardian", "--data-dir", str(data)], stdin=subprocess.DEVNULL,
                          capture_output=True, text=True, timeout=60)  # fmt: skip
    errors = [json.loads(line) for line in done.stderr.splitlines() if line.startswith("{")]
    failed = next(message for message in errors if message.get("type") == "BACKEND_ERROR")
    assert "can be written by other accounts (mode 0777)" in failed["error"]
    assert str(data / "guardian") in failed["error"]
