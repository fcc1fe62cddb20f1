"""Installing the guardian as a system service, outside the child's reach: one table per platform.

A guardian the child can stop, or whose token and database the child can
write, guards nothing. So it runs as the system's service, as its own account,
restarted when it dies: a systemd system unit on Linux (``Restart=always``), a
launchd daemon on macOS (``KeepAlive``), and on Windows a Task Scheduler task
that starts at boot as LOCAL SERVICE and is started again every minute (a
running one is left alone), since a task's "restart on failure" does not see a
killed process. Its data, token and config live in a system folder, writable
by that account only. Everything that differs between platforms is in the
:class:`Platform` rows below; :func:`plan` turns one into the files, folders
and commands an install makes, and :func:`apply` / :func:`remove` carry it out
(under a scratch ``root``, without running any command, to inspect or test).
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePath, PurePosixPath, PureWindowsPath
from typing import Final
from xml.sax.saxutils import escape

from deskbridge.guardian.platforms import PlatformName

SERVICE: Final = "deskbridge-guardian"


@dataclass(frozen=True)
class Facts:
    """What an install depends on besides the platform: injected, so each platform's plan is made anywhere."""

    python: str = sys.executable
    """The interpreter that has deskbridge installed (the service runs ``python -m deskbridge``), or the frozen
    ``deskbridge`` executable itself."""
    frozen: bool = bool(getattr(sys, "frozen", False))
    """A frozen build (docs/freezing.md): ``python`` is deskbridge, run without ``-m deskbridge``."""
    root: str = ""
    """A folder every system path is put under (tests; a packager's staging root); empty: the system's own."""


@dataclass(frozen=True)
class Written:
    path: PurePath
    content: str
    mode: int


@dataclass(frozen=True)
class Plan:
    """What an install makes; an uninstall undoes exactly this."""

    platform: PlatformName
    account: str
    data_dir: PurePath
    config_file: PurePath
    service_file: PurePath
    command_line: tuple[str, ...]
    """The guardian as the service manager starts it."""
    folders: tuple[tuple[PurePath, int], ...]
    files: tuple[Written, ...]
    install_commands: tuple[tuple[str, ...], ...]
    uninstall_commands: tuple[tuple[str, ...], ...]

    def describe(self, uninstall: bool = False) -> str:
        """What ``--dry-run`` prints: every folder, file (with its text) and command, in order."""
        if uninstall:
            lines = [f"run: {_shown(self.platform, argv)}" for argv in self.uninstall_commands]
            lines += [f"remove: {written.path}" for written in self.files]
            lines += [f"remove folder: {folder}" for folder, _ in reversed(self.folders)]
            return "\n".join(lines) + "\n"
        lines = [f"folder: {folder} (mode {mode:04o})" for folder, mode in self.folders]
        for written in self.files:
            lines += [f"file: {written.path} (mode {written.mode:04o})", *("    " + line for line in
                      written.content.splitlines())]  # fmt: skip
        lines += [f"run: {_shown(self.platform, argv)}" for argv in self.install_commands]
        return "\n".join(lines) + "\n"


@dataclass(frozen=True)
class Platform:
    """One platform's row: where things go, who runs the guardian, and how its service manager is told."""

    name: PlatformName
    path: Callable[[str], PurePath]
    data_dir: str
    config_dir: str
    service_file: str
    account: str
    render: Callable[[Plan], str]
    """The service manager's file for a plan (its ``service_file`` and ``command_line`` are set)."""
    install_commands: Callable[[Plan], list[tuple[str, ...]]]
    uninstall_commands: Callable[[Plan], list[tuple[str, ...]]]
    data_mode: int = 0o711
    """The data folder: the service's; others may reach the client's token by its name, and list nothing."""


def _systemd_unit(plan: Plan) -> str:
    return f"""[Unit]
Description=deskbridge guardian: Roblox play time limits
After=network.target

[Service]
Type=simple
ExecStart={shlex.join(plan.command_line)}
User={plan.account}
Restart=always
RestartSec=2
UMask=0077
NoNewPrivileges=true
ProtectSystem=full
ReadWritePaths={plan.data_dir}

[Install]
WantedBy=multi-user.target
"""


def _launchd_plist(plan: Plan) -> str:
    arguments = "\n".join(f"        <string>{escape(argument)}</string>" for argument in plan.command_line)
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">
<plist version="1.0">
<dict>
    <key>Label</key>
    <string>com.deskbridge.guardian</string>
    <key>ProgramArguments</key>
    <array>
{arguments}
    </array>
    <key>UserName</key>
    <string>{plan.account}</string>
    <key>RunAtLoad</key>
    <true/>
    <key>KeepAlive</key>
    <true/>
    <key>Umask</key>
    <integer>63</integer>
    <key>StandardErrorPath</key>
    <string>{escape(str(plan.data_dir / "guardian.log"))}</string>
</dict>
</plist>
"""


def _scheduled_task(plan: Plan) -> str:
    program, *arguments = plan.command_line
    return f"""<?xml version="1.0" encoding="UTF-16"?>
<Task version="1.2" xmlns="http://schemas.microsoft.com/windows/2004/02/mit/task">
  <RegistrationInfo>
    <Description>deskbridge guardian: Roblox play time limits</Description>
  </RegistrationInfo>
  <Triggers>
    <BootTrigger>
      <Enabled>true</Enabled>
      <Repetition>
        <Interval>PT1M</Interval>
        <StopAtDurationEnd>false</StopAtDurationEnd>
      </Repetition>
    </BootTrigger>
  </Triggers>
  <Principals>
    <Principal id="Author">
      <UserId>S-1-5-19</UserId>
      <RunLevel>LeastPrivilege</RunLevel>
    </Principal>
  </Principals>
  <Settings>
    <MultipleInstancesPolicy>IgnoreNew</MultipleInstancesPolicy>
    <DisallowStartIfOnBatteries>false</DisallowStartIfOnBatteries>
    <StopIfGoingOnBatteries>false</StopIfGoingOnBatteries>
    <AllowHardTerminate>false</AllowHardTerminate>
    <StartWhenAvailable>true</StartWhenAvailable>
    <ExecutionTimeLimit>PT0S</ExecutionTimeLimit>
    <RestartOnFailure>
      <Interval>PT1M</Interval>
      <Count>999</Count>
    </RestartOnFailure>
  </Settings>
  <Actions Context="Author">
    <Exec>
      <Command>{escape(program)}</Command>
      <Arguments>{escape(subprocess.list2cmdline(arguments))}</Arguments>
    </Exec>
  </Actions>
</Task>
"""


def _linux_install(plan: Plan) -> list[tuple[str, ...]]:
    return [
        ("useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", plan.account),
        ("chown", "-R", f"{plan.account}:", str(plan.data_dir)),
        ("systemctl", "daemon-reload"),
        ("systemctl", "enable", "--now", f"{SERVICE}.service"),
    ]


def _linux_uninstall(plan: Plan) -> list[tuple[str, ...]]:
    return [("systemctl", "disable", "--now", f"{SERVICE}.service"), ("userdel", plan.account)]


MACOS_UID: Final = "497"
"""The service account's id (below 500: hidden from the login window, as role accounts are)."""


def _macos_install(plan: Plan) -> list[tuple[str, ...]]:
    user = f"/Users/{plan.account}"
    return [
        ("dscl", ".", "-create", user),
        ("dscl", ".", "-create", user, "UniqueID", MACOS_UID),
        ("dscl", ".", "-create", user, "PrimaryGroupID", "-2"),
        ("dscl", ".", "-create", user, "UserShell", "/usr/bin/false"),
        ("dscl", ".", "-create", user, "IsHidden", "1"),
        ("chown", "-R", plan.account, str(plan.data_dir)),
        ("launchctl", "bootstrap", "system", str(plan.service_file)),
    ]


def _macos_uninstall(plan: Plan) -> list[tuple[str, ...]]:
    return [
        ("launchctl", "bootout", "system/com.deskbridge.guardian"),
        ("dscl", ".", "-delete", f"/Users/{plan.account}"),
    ]


def _windows_install(plan: Plan) -> list[tuple[str, ...]]:
    return [
        # the folder: LOCAL SERVICE and Administrators only, nothing inherited from ProgramData (readable by Users)
        ("icacls", str(plan.data_dir), "/inheritance:r", "/grant:r", "*S-1-5-19:(OI)(CI)F", "*S-1-5-32-544:(OI)(CI)F"),
        ("schtasks", "/Create", "/TN", SERVICE, "/XML", str(plan.service_file), "/F"),
        ("schtasks", "/Run", "/TN", SERVICE),
    ]


def _windows_uninstall(plan: Plan) -> list[tuple[str, ...]]:
    return [("schtasks", "/End", "/TN", SERVICE), ("schtasks", "/Delete", "/TN", SERVICE, "/F")]


LINUX: Final = Platform(
    name="linux",
    path=PurePosixPath,
    data_dir="/var/lib/deskbridge-guardian",
    config_dir="/etc/deskbridge-guardian",
    service_file=f"/etc/systemd/system/{SERVICE}.service",
    account=SERVICE,
    render=_systemd_unit,
    install_commands=_linux_install,
    uninstall_commands=_linux_uninstall,
)
MACOS: Final = Platform(
    name="macos",
    path=PurePosixPath,
    data_dir="/Library/Application Support/deskbridge-guardian",
    config_dir="/Library/Application Support/deskbridge-guardian-config",
    service_file="/Library/LaunchDaemons/com.deskbridge.guardian.plist",
    account="_deskbridgeguardian",
    render=_launchd_plist,
    install_commands=_macos_install,
    uninstall_commands=_macos_uninstall,
)
WINDOWS: Final = Platform(
    name="windows",
    path=PureWindowsPath,
    data_dir=r"C:\ProgramData\deskbridge-guardian",
    config_dir=r"C:\ProgramData\deskbridge-guardian-config",
    service_file=r"C:\ProgramData\deskbridge-guardian-config\task.xml",
    account=r"NT AUTHORITY\LocalService",
    render=_scheduled_task,
    install_commands=_windows_install,
    uninstall_commands=_windows_uninstall,
)
PLATFORMS: Final[dict[PlatformName, Platform]] = {"linux": LINUX, "macos": MACOS, "windows": WINDOWS}


def plan(name: PlatformName, facts: Facts, config_text: str = "{}\n") -> Plan:
    """The install of ``name`` with ``facts``; ``config_text`` is the guardian's config (checked by the caller)."""
    table = PLATFORMS[name]

    def placed(system_path: str) -> PurePath:
        path = table.path(system_path)
        return table.path(facts.root) / path.relative_to(path.anchor) if facts.root else path

    data_dir, config_dir, service_file = placed(table.data_dir), placed(table.config_dir), placed(table.service_file)
    config_file = config_dir / "guardian.json"
    program = (facts.python,) if facts.frozen else (facts.python, "-m", "deskbridge")
    command_line = (*program, "serve", "guardian", "--data-dir", str(data_dir), "--config", str(config_file))
    draft = Plan(name, table.account, data_dir, config_file, service_file, command_line, (), (), (), ())
    files = [Written(config_file, config_text, 0o644), Written(service_file, table.render(draft), 0o644)]
    folders = [(config_dir, 0o755), (data_dir, table.data_mode)]
    return Plan(
        name, table.account, data_dir, config_file, service_file, command_line,
        folders=tuple(folders), files=tuple(files),
        install_commands=tuple(table.install_commands(draft)),
        uninstall_commands=tuple(table.uninstall_commands(draft)),
    )  # fmt: skip


Runner = Callable[[Sequence[str]], None]


def run_command(argv: Sequence[str]) -> None:
    subprocess.run(list(argv), check=True)


def apply(plan: Plan, run: Runner | None = run_command) -> None:
    """Make the folders and files, then run the service manager's commands (``run=None``: none, as under a root)."""
    for folder, mode in plan.folders:
        Path(folder).mkdir(parents=True, exist_ok=True)
        if os.name == "posix":
            os.chmod(folder, mode)
    for written in plan.files:
        Path(written.path).parent.mkdir(parents=True, exist_ok=True)
        Path(written.path).write_text(written.content, encoding="utf-8")
        if os.name == "posix":
            os.chmod(written.path, written.mode)
    if run is not None:
        for argv in plan.install_commands:
            run(argv)


def remove(plan: Plan, run: Runner | None = run_command, keep_data: bool = False) -> None:
    """Stop and unregister the service, then remove what the install made (the data too, unless ``keep_data``)."""
    if run is not None:
        for argv in plan.uninstall_commands:
            try:
                run(argv)
            except (OSError, subprocess.CalledProcessError) as exc:  # already stopped or gone: go on removing
                print(f"deskbridge: {_shown(plan.platform, argv)}: {exc}", file=sys.stderr)
    for written in plan.files:
        Path(written.path).unlink(missing_ok=True)
    for folder, _ in reversed(plan.folders):
        if folder == plan.data_dir and keep_data:
            continue
        shutil.rmtree(folder, ignore_errors=True)


def _shown(platform: PlatformName, argv: Sequence[str]) -> str:
    return subprocess.list2cmdline(list(argv)) if platform == "windows" else shlex.join(argv)
