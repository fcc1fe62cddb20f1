#!/usr/bin/env python3
"""Set up and run deskbridge from a fresh clone: ``python3 dev.py run`` or ``python3 dev.py test``.

``run`` serves the studio, the guardian and diag on http://127.0.0.1:8001 and
prints the dashboard's address (with its token); ``run --demo`` does so offline
on made-up data (``deskbridge demo``); ``run ARGS...`` runs ``deskbridge ARGS...``
instead.

``freeze [apps...]`` builds the backend as desktop apps ship it: a one-folder
PyInstaller bundle, ``dist/deskbridge/deskbridge`` (``.exe`` on Windows), that
needs no Python on the machine; ``--dist DIR`` puts it elsewhere (DIR/deskbridge).
See docs/freezing.md.

Both commands first make sure ``.venv/`` exists and holds this checkout
installed with its development tools (redone only when ``pyproject.toml``
changes), then do their job. Needs only Python 3.11+, git, and the package
registries.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
PYTHON = BIN / ("python.exe" if os.name == "nt" else "python")
STAMP = VENV / ".deskbridge-setup-stamp"
JS_LOCK = ROOT / "clients" / "js" / "package-lock.json"
PYTEST_NO_TESTS = 5
PYTEST_PROCESSES = ("-n", "2", "--dist", "loadfile")
"""The suite mostly waits on the backends, browsers and sockets it starts, so two pytest processes take ~2/3 of
one's time even on two cores; each test file stays in one process, so its module fixtures (the frozen bundle,
the bare-layer venv, a stand-in Suno) are built once. Later options win: ``dev.py test -n 0`` runs in one."""


def say(message: str) -> None:
    print(f"dev.py: {message}", file=sys.stderr, flush=True)


def run(*argv: str | Path, check: bool = True) -> int:
    return subprocess.run([str(a) for a in argv], cwd=ROOT, check=check).returncode


def setup() -> None:
    """Create the venv and install the project into it, unless nothing changed since last time."""
    if sys.version_info < (3, 11):
        sys.exit("dev.py: deskbridge needs Python 3.11 or newer")
    if not PYTHON.exists():
        say("creating .venv")
        run(sys.executable, "-m", "venv", VENV)
    wanted = hashlib.sha256((ROOT / "pyproject.toml").read_bytes() + JS_LOCK.read_bytes()).hexdigest()
    if STAMP.exists() and STAMP.read_text() == wanted:
        return
    say("installing deskbridge and its tools into .venv")
    run(PYTHON, "-m", "pip", "install", "--quiet", "--upgrade", "pip")
    run(PYTHON, "-m", "pip", "install", "--quiet", "-e", ".[studio,guardian,dev,bench,freeze]")
    say("installing the JavaScript client's packages (ws, typescript) into clients/js/node_modules")
    npm = BIN / ("npm.cmd" if os.name == "nt" else "npm")
    subprocess.run(
        [str(npm if npm.exists() else "npm"), "ci", "--no-audit", "--no-fund", "--loglevel=error"],
        cwd=JS_LOCK.parent,
        check=True,
        env={**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}"},
    )
    STAMP.write_text(wanted)


def ensure_program(names: tuple[str, ...], packages: tuple[str, ...], used_by: str) -> None:
    """Install Debian's ``packages`` when none of ``names`` is on the PATH (tests that need it skip without it)."""
    if any(shutil.which(name) for name in names):
        return
    if shutil.which("apt-get") and hasattr(os, "geteuid") and os.geteuid() == 0:
        say(f"installing {' '.join(packages)} (Debian packages) for {used_by}")
        run("apt-get", "update", "-qq", check=False)
        run("apt-get", "install", "-y", "-qq", "--no-install-recommends", *packages, check=False)
    else:
        say(f"no {names[0]} found: {used_by} will be skipped")


def ensure_chromium() -> None:
    """Browser tests use the system's Chromium."""
    browsers = ("chromium", "chromium-browser", "google-chrome")
    ensure_program(browsers, ("chromium", "chromium-driver"), "the browser tests")


def ensure_systemd_analyze() -> None:
    """The guardian's Linux unit is checked with ``systemd-analyze verify`` (it needs no running systemd)."""
    ensure_program(("systemd-analyze",), ("systemd",), "the guardian's service unit check")


def test(extra: list[str]) -> int:
    say("ruff")
    run(PYTHON, "-m", "ruff", "check", "src", "tests", "bench", "fuzz", "tools")
    run(PYTHON, "-m", "ruff", "format", "--check", "src", "tests", "bench", "fuzz", "tools")
    say("mypy --strict src")
    run(PYTHON, "-m", "mypy", "src")
    say("pytest")
    code = run(PYTHON, "-m", "pytest", *PYTEST_PROCESSES, *extra, check=False)
    if code == PYTEST_NO_TESTS:
        say("pytest collected no test: that is a failure, not a pass")
        return 1
    say("node --test clients/js/test (the JavaScript client against the real backend)")
    node = BIN / ("node.exe" if os.name == "nt" else "node")
    js_tests = sorted((ROOT / "clients" / "js" / "test").glob("*.test.mjs"))
    node_cmd = node if node.exists() else "node"
    js_code = run(node_cmd, "--test", *js_tests, check=False)
    say("node --test again without a global WebSocket (Node 18/20, Electron's main process): the ws package")
    without = ROOT / "clients" / "js" / "test" / "without-global-websocket.mjs"
    web_tests = [ROOT / "clients" / "js" / "test" / name for name in ("web.test.mjs", "fallback.test.mjs")]
    js_code = run(node_cmd, "--import", without.as_uri(), "--test", *web_tests, check=False) or js_code
    return code or js_code


def freeze(argv: list[str]) -> int:
    """PyInstaller's one-folder build of the named apps (default all), from the spec and hooks in packaging/."""
    dist = ROOT / "dist"
    if argv[:1] == ["--dist"] and len(argv) > 1:
        dist, argv = Path(argv[1]).resolve(), argv[2:]
    work = ROOT / "build" / "pyinstaller" if dist == ROOT / "dist" else dist / "build"
    spec = ROOT / "packaging" / "pyinstaller" / "deskbridge.spec"
    say(f"freezing {', '.join(argv) or 'every app'} into {dist / 'deskbridge'}")
    began = time.monotonic()
    code = run(PYTHON, "-m", "PyInstaller", "--noconfirm", "--clean", "--log-level", "WARN",
               "--distpath", dist, "--workpath", work, spec, "--", *argv, check=False)  # fmt: skip
    if code == 0:
        folder = dist / "deskbridge"
        size = sum(f.stat().st_size for f in folder.rglob("*") if f.is_file() and not f.is_symlink())
        executable = folder / ("deskbridge.exe" if os.name == "nt" else "deskbridge")
        say(f"built {executable} in {time.monotonic() - began:.0f} s ({size / 1e6:.0f} MB)")
    return code


def serve(argv: list[str]) -> int:
    """Run deskbridge until it stops; Ctrl+C reaches it too, and it gets the time to stop cleanly."""
    process = subprocess.Popen([str(BIN / "deskbridge"), *argv], cwd=ROOT)
    while True:
        try:
            return process.wait()
        except KeyboardInterrupt:
            continue


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in {"run", "test", "setup", "freeze"}:
        print(__doc__)
        return 2
    command, extra = argv[0], argv[1:]
    setup()
    if command == "setup":
        return 0
    if command == "freeze":
        return freeze(extra)
    if command == "test":
        ensure_chromium()
        if sys.platform.startswith("linux"):
            ensure_systemd_analyze()
        try:
            return test(extra)
        except subprocess.CalledProcessError as exc:
            return exc.returncode or 1
    if extra[:1] == ["--demo"]:  # offline, on made-up data: a stand-in Suno, a demo account, a fake game
        return serve(["demo", "--open", *extra[1:]])
    return serve(extra or ["serve", "studio", "guardian", "diag", "--open"])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
