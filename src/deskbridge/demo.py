"""``deskbridge demo``: the studio, the guardian and diag on made-up data, with no network at all.

Everything the apps would reach outside is local and started alongside:

* the stand-in Suno (a separate process, ``python -m`` :data:`STANDIN`: kept apart from the product, as in
  the tests), with a library of a few songs; the studio is configured for it, and a ``demo`` account is
  created and signed in through its browser (the stand-in's sign-in page signs in at once);
* a fake game: a copy of ``sleep`` (of Python on Windows) named :data:`GAME`, which the guardian is told to
  watch, so play time, warnings and closing the game can be tried;
* a data directory of its own (``<data dir>/demo``), so the demo never touches real accounts or history.

The backend is ``deskbridge serve studio guardian diag --demo``: its ready line says ``"demo": true``,
``GET_VERSION`` says so, and so do the serve banner and the dashboard's banner.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any, Final

from deskbridge import logs
from deskbridge.paths import default_data_dir, ensure_dir

STANDIN: Final = "deskbridge_standins.suno"
"""The stand-in Suno's module, run as its own process."""
GAME: Final = "deskbridge-game"
"""The fake game's process name (15 characters: Linux keeps no more)."""
APPS: Final = ("studio", "guardian", "diag")
ACCOUNT: Final = "demo"
SONGS: Final = 6
CHILD: Final = "demo_child"
PROMPTS: Final = (
    {"title": "Harbour Lights", "style": "indie folk, warm", "lyrics": "Boats come home at dusk"},
    {"title": "Neon Rain", "style": "synthwave", "lyrics": "City sleeps in violet light"},
    {"title": "Mountain Air", "style": "acoustic, bright", "lyrics": "Up where the pines talk to the wind"},
)


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    demo = sub.add_parser(
        "demo", help="try studio, guardian and diag offline: a stand-in Suno, a demo account, a fake game"
    )
    demo.add_argument("--port", type=int, default=8001, help="port (default 8001; 0 picks a free one)")
    demo.add_argument("--data-dir", type=Path, help="where the demo's state lives (default: <user data dir>/demo)")
    demo.add_argument("--open", action="store_true", help="open the dashboard in a browser if there is a display")


def run(args: argparse.Namespace) -> int:
    data_dir: Path = ensure_dir(args.data_dir or default_data_dir() / "demo")
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))  # stop the children too
    with contextlib.ExitStack() as stack:
        say("starting the stand-in Suno")
        standin_argv = [sys.executable, "-m", STANDIN, "--port", "0", "--clips", str(SONGS)]
        standin = stack.enter_context(_process(standin_argv, stdout=subprocess.PIPE))
        endpoints = json.loads(_first_line(standin.stdout))["endpoints"]
        game = stack.enter_context(_process([str(_game_program(data_dir)), "86400"], stdout=subprocess.DEVNULL))
        config = data_dir / "config.json"
        config.write_text(json.dumps(_config(endpoints), indent=2), encoding="utf-8")
        command = [sys.executable, "-m", "deskbridge", "serve", *APPS, "--port", str(args.port)]
        command += ["--data-dir", str(data_dir), "--config", str(config), "--demo", *(["--open"] if args.open else [])]
        # Its stderr comes through us: it is for people when ours is.
        env = {**os.environ, logs.FORMAT_ENV: "human" if logs.for_people(sys.stderr) else "json"}
        server = stack.enter_context(_process(command, stdout=None, stderr=subprocess.PIPE, env=env))
        ready = _relay_until_ready(server)
        if ready.get("type") != "BACKEND_READY":
            return server.wait()
        _seed(ready["url"], (data_dir / "token").read_text(encoding="utf-8").strip())
        say(
            f"ready: account `{ACCOUNT}` signed in to the stand-in Suno at {endpoints['site_origin']} "
            f"({SONGS} songs in its library); a fake game `{GAME}` (pid {game.pid}) that the guardian watches "
            f"for `{CHILD}`; data in {data_dir}. Ctrl+C stops it all."
        )
        while True:
            try:
                return server.wait()
            except KeyboardInterrupt:  # it got the Ctrl+C too, and stops by itself
                continue
    return 0


def say(text: str) -> None:
    sys.stderr.write(f"deskbridge demo: {text}\n")
    sys.stderr.flush()


@contextlib.contextmanager
def _process(
    argv: list[str], *, stdout: int | None, stderr: int | None = None, env: dict[str, str] | None = None
) -> Iterator[subprocess.Popen[str]]:
    """A child that is stopped (SIGTERM, then SIGKILL) when the demo ends, however it ends."""
    process = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=stdout, stderr=stderr, text=True, env=env)
    try:
        yield process
    finally:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def _first_line(stream: IO[str] | None) -> str:
    assert stream is not None
    line = stream.readline()
    if not line:
        raise SystemExit("deskbridge demo: the stand-in Suno did not start")
    return line


def _game_program(data_dir: Path) -> Path:
    """A copy of a harmless program under the game's name: what the guardian sees is a process called so."""
    windows = os.name == "nt"
    source = Path(sys.executable if windows else shutil.which("sleep") or "/bin/sleep")
    target = ensure_dir(data_dir / "fake-game") / (GAME + (".exe" if windows else ""))
    if not target.exists():
        shutil.copy2(source, target)
    return target


def _config(endpoints: dict[str, str]) -> dict[str, Any]:
    """The studio pointed at the stand-in, and the guardian watching the fake game for one demo child."""
    suno = {key: endpoints[key] for key in ("site_origin", "clerk_base", "api_base", "cdn_base")}
    return {
        "studio": {"suno": suno, "browser": {"headless": True, "session_wait": 10.0}, "page_delay": 0},
        "monitor": {"process_names": [GAME], "close_also": [], "poll_interval": 1.0},
        "children": {CHILD: {"daily_limit_minutes": 30, "warning_minutes": [10, 5], "grace_seconds": 30}},
        "active_child": CHILD,
    }


def _relay_until_ready(server: subprocess.Popen[str]) -> dict[str, Any]:
    """Copy the server's stderr to ours (its ready line included); return its ready (or error) line."""
    assert server.stderr is not None
    stream = server.stderr
    for line in stream:
        sys.stderr.write(line)
        with contextlib.suppress(ValueError):
            message = json.loads(line)
            if isinstance(message, dict) and message.get("type") in ("BACKEND_READY", "BACKEND_ERROR"):
                threading.Thread(target=_relay, args=(stream,), daemon=True).start()
                return message
    return {}


def _relay(stream: IO[str]) -> None:
    for line in stream:
        sys.stderr.write(line)


def _seed(url: str, token: str) -> None:
    """The demo account, signed in, and a few prompts: through the protocol, as any front end would."""
    from deskbridge.client import RemoteError, connect

    async def seed() -> None:
        async with await connect(url, token=token) as client:
            with contextlib.suppress(RemoteError):  # it exists from an earlier demo
                await client.call("CREATE_ACCOUNT", {"name": ACCOUNT, "email": "demo@example.com"})
            try:
                await client.call("LAUNCH_BROWSER", {"account_name": ACCOUNT, "headless": True}, timeout=90)
            except RemoteError as exc:
                say(f"the demo account's browser did not start ({exc.message}): the studio's Suno flows need Chromium")
            prompts = await client.call("GET_PROMPTS", {"status": "all", "limit": 1})
            if not prompts.get("prompts"):
                await client.call("ADD_PROMPTS", {"prompts": list(PROMPTS)})

    asyncio.run(seed())
