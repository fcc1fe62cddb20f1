"""``deskbridge``: run a backend behind a door, or talk to one."""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import json
import logging
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from deskbridge import __version__, demo, logs, protocol, terminal
from deskbridge.app import BUILTIN_APPS, AppSpec, MissingExtra, UnknownApp, available_apps, load_app
from deskbridge.backend import Backend
from deskbridge.config import ConfigError
from deskbridge.door_policy import DoorPolicy, PolicyConflict
from deskbridge.paths import default_data_dir

if TYPE_CHECKING:
    from deskbridge.host import StdioPipes
    from deskbridge.transports.web.config import WebConfig

log = logging.getLogger("deskbridge.cli")


APPS_HELP = f"one or more of: {', '.join(BUILTIN_APPS)}, or an installed app (see `deskbridge apps`)"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="deskbridge", description=__doc__, epilog="An app's own commands: deskbridge guardian --help"
    )
    parser.add_argument("--version", action="version", version=f"deskbridge {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    stdio = sub.add_parser("stdio", help="serve apps over stdin/stdout (NDJSON), as a desktop app spawns it")
    stdio.add_argument("apps", nargs="+", metavar="app", help=APPS_HELP)
    stdio.add_argument(
        "--web", action="store_true", help="also serve the web door (dashboard, WebSocket, HTTP) on the same backend"
    )
    stdio.add_argument("--web-port", type=int, metavar="N", help="the web door's port (default 8001; 0 picks one)")
    _backend_options(stdio)

    serve = sub.add_parser("serve", help="serve apps over WebSocket and HTTP on one port")
    serve.add_argument("apps", nargs="+", metavar="app", help=APPS_HELP)
    serve.add_argument("--host", help="address to bind (default: the app's config, else 127.0.0.1)")
    serve.add_argument("--port", type=int, help="port (default: the app's config, else 8001; 0 picks a free one)")
    serve.add_argument("--no-auth", action="store_true", help="accept requests without the token (not advised)")
    serve.add_argument(
        "--allow-remote", action="store_true", help="allow binding a non-loopback address (other machines can reach it)"
    )
    serve.add_argument("--open", action="store_true", help="open the dashboard in a browser if there is a display")
    _backend_options(serve)

    call = sub.add_parser("call", help="send one command to a backend and print its answer as JSON")
    call.add_argument("type", help="the command type, e.g. PING")
    call.add_argument("payload", nargs="?", help="the payload as JSON (default {})")
    call.add_argument("--timeout", type=float, help="give up after this many seconds")
    _target_options(call)

    events = sub.add_parser("events", help="print a backend's events as JSON lines")
    events.add_argument(
        "--after", type=int, help="the last seq already seen (default: all; with --follow, only events from now)"
    )
    events.add_argument("--from-start", action="store_true", help="with --follow: print the whole log first")
    events.add_argument("--epoch", help="the epoch that seq belongs to")
    events.add_argument("--follow", "-f", action="store_true", help="keep printing new events as they arrive")
    events.add_argument("--types", help="only these event types (comma-separated)")
    _target_options(events)

    sub.add_parser("apps", help="list the apps this installation can serve")

    schema = sub.add_parser(
        "schema",
        help="print JSON Schemas of these apps' commands (payload, data; an operation's result and progress) "
        "and the names of their events",
    )
    schema.add_argument("apps", nargs="+", metavar="app", help=APPS_HELP)

    demo.add_parser(sub)
    return parser


def _print_schema(args: argparse.Namespace) -> int:
    """Build the apps on a throwaway data directory, just long enough to read their handlers."""
    import tempfile

    async def run() -> int:
        with tempfile.TemporaryDirectory(prefix="deskbridge-schema-") as scratch:
            args.data_dir, args.config, args.max_line = Path(scratch), None, protocol.DEFAULT_MAX_LINE
            try:
                backend = _make_backend(args)
            except UnknownApp as exc:
                raise SystemExit(f"deskbridge: {exc}") from None
            await backend.start()
            try:
                print(json.dumps(backend.schema(), indent=2, ensure_ascii=False))
            finally:
                await backend.aclose(timeout=0.5)
        return 0

    logging.disable(logging.WARNING)
    return _run_loop(run())


def _target_options(parser: argparse.ArgumentParser) -> None:
    """Which backend a client command talks to: a running server, or one it spawns over stdio."""
    where = parser.add_mutually_exclusive_group()
    where.add_argument(
        "--url", default="http://127.0.0.1:8001", help="a running `deskbridge serve` (default %(default)s)"
    )
    where.add_argument("--stdio", metavar="APP", action="append", help="spawn `deskbridge stdio APP` instead")
    parser.add_argument("--token", help="the server's token (default: $DESKBRIDGE_TOKEN, else <data-dir>/token)")
    parser.add_argument("--data-dir", type=Path, help="where the token file (or the spawned backend's data) lives")
    parser.add_argument("--transport", choices=["auto", "websocket", "polling"], default="auto")


def _backend_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--data-dir", type=Path, help="where state lives (default: $DESKBRIDGE_DATA_DIR or the user data dir)"
    )
    parser.add_argument("--config", type=Path, help="a JSON configuration file")
    parser.add_argument("--log-level", default=os.environ.get("DESKBRIDGE_LOG_LEVEL", "INFO"))
    parser.add_argument(
        "--max-line", type=int, default=protocol.DEFAULT_MAX_LINE, help="longest accepted line in bytes"
    )
    parser.add_argument("--demo", action="store_true", help=argparse.SUPPRESS)  # set by `deskbridge demo`


def _load_config(path: Path | None) -> dict[str, Any]:
    if path is None:
        return {}
    try:
        value = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise SystemExit(f"deskbridge: cannot read config {path}: {exc}") from None
    if not isinstance(value, dict):
        raise SystemExit(f"deskbridge: config {path} must be a JSON object")
    return value


def _make_backend(args: argparse.Namespace) -> Backend:
    specs: list[AppSpec] = [load_app(name) for name in dict.fromkeys(args.apps)]
    return Backend(
        specs,
        data_dir=args.data_dir or default_data_dir(),
        config=_load_config(args.config),
        max_line=args.max_line,
        demo=getattr(args, "demo", False),
    )


def _start_failed(held: logs.HeldLogs, exc: BaseException) -> int:
    """The one line a front end waits for, when the backend cannot start."""
    failure = {"type": "BACKEND_ERROR", "error": str(exc), "error_code": "INTERNAL_ERROR", "pid": os.getpid()}
    terminal.announce(failure)
    held.let_through()
    return 1


def _run_stdio(args: argparse.Namespace) -> int:
    from deskbridge.host import StdioPipes
    from deskbridge.transports import stdio

    parent = os.getppid()
    pipes = StdioPipes(*stdio.claim_stdio(), parent_pid=parent)
    web = args.web or args.web_port is not None
    return _run_host(args, pipes, web, None, args.web_port)


def _run_serve(args: argparse.Namespace) -> int:
    from deskbridge.transports.web import security

    if args.host is not None and not security.is_loopback(args.host) and not args.allow_remote:
        raise SystemExit(f"deskbridge: {args.host} is not a loopback address; add --allow-remote to bind it anyway")
    return _run_host(args, None, True, args.host, args.port)


def _run_host(args: argparse.Namespace, pipes: StdioPipes | None, web: bool, host: str | None, port: int | None) -> int:
    """Serve a backend behind stdio (``pipes``), the web door (``web``) or both, until the host stops.

    ``host`` and ``port`` are the flags'; the app's config may name them instead (:class:`DoorPolicy`)."""
    from deskbridge.host import Host

    held = logs.setup(args.log_level)
    try:
        backend = _make_backend(args)
    except (UnknownApp, ValueError) as exc:  # a front end waits for one line: which app or extra is missing
        return _start_failed(held, exc)
    no_auth = getattr(args, "no_auth", False)
    token_file: Path | None = None
    token: str | None = None
    config: WebConfig | None = None
    stdio_config: StdioConfig | None = None
    if pipes is not None:
        from deskbridge.transports.stdio import StdioConfig

        try:
            stdio_config = StdioConfig.from_config(backend.config)
        except ConfigError as exc:
            return _start_failed(held, exc)
    if web:
        from deskbridge.paths import ensure_dir
        from deskbridge.transports.web import security
        from deskbridge.transports.web.config import WebConfig

        try:
            client_token = None
            if not no_auth:
                token, token_file = security.load_or_create_token(ensure_dir(backend.data_dir))
                if backend.access.owner_only:  # a second role: its own token, readable by the client's account
                    client_token, _ = security.load_or_create_token(backend.data_dir, security.CLIENT_TOKEN_FILE, 0o644)
            config = WebConfig.from_config(backend.config, token=token, client_token=client_token)
        except (OSError, security.UnsafeTokenFile, ConfigError) as exc:
            return _start_failed(held, exc)

    async def run() -> int:
        nonlocal config
        try:
            await backend.start()
        except Exception as exc:
            return _start_failed(held, exc)
        if config is not None:
            try:
                port_flag = "--port" if pipes is None else "--web-port"
                allow_remote = getattr(args, "allow_remote", False)
                config = _listen(config, backend.door_policy, host, port, port_flag, allow_remote=allow_remote)
            except PolicyConflict as exc:
                await backend.aclose()
                return _start_failed(held, exc)

        def ready(door: dict[str, Any]) -> None:
            message = backend.ready_message("stdio" if pipes is not None else "web")
            if config is not None:
                message.update(door, token_file=str(token_file) if token_file else None)
            terminal.announce(message)
            held.let_through()
            if config is None:
                return
            if token is None:
                log.warning("AUTHENTICATION IS OFF (--no-auth): any local program or web page can drive this backend")
            if not security.is_loopback(config.host):
                log.warning("listening on %s: other machines can reach this backend", config.host)
            from deskbridge import dashboard

            dashboard.announce(door["url"], token, backend, open_browser=getattr(args, "open", False))

        try:
            await Host(backend, stdio=pipes, stdio_config=stdio_config, web=config).run(ready)
        except OSError as exc:  # the port is taken, or the address is not ours
            return _start_failed(held, exc)
        return 0

    return _run_loop(run())


def _listen(
    config: WebConfig, policy: DoorPolicy, host: str | None, port: int | None, port_flag: str, *, allow_remote: bool
) -> WebConfig:
    """Where the web door listens: the flags, else what the app's config names, else 127.0.0.1:8001."""
    from deskbridge.transports.web import security

    host, port = policy.listen(host, port, port_flag=port_flag)
    host = host or config.host
    if not security.is_loopback(host) and not allow_remote:
        raise PolicyConflict(f"{host} is not a loopback address; add --allow-remote to bind it anyway")
    return dataclasses.replace(config, host=host, port=config.port if port is None else port)


def _run_loop(main: Any) -> int:
    if sys.platform != "win32":
        try:
            import uvloop
        except ImportError:
            pass
        else:
            return int(uvloop.run(main))
    return int(asyncio.run(main))


def main(argv: Sequence[str] | None = None) -> int:
    words = list(sys.argv[1:] if argv is None else argv)
    if words and words[0] in BUILTIN_APPS:  # an app's own command line: ``deskbridge guardian install``
        spec = load_app(words[0])
        if spec.command_line is not None:
            return spec.command_line(words[1:])
    args = _parser().parse_args(words)
    if args.command == "stdio":
        return _run_stdio(args)
    if args.command == "serve":
        return _run_serve(args)
    if args.command in ("call", "events"):
        from deskbridge.client import command_line

        runner = command_line.call if args.command == "call" else command_line.events
        try:
            return _run_loop(runner(args))
        except KeyboardInterrupt:
            return 130
    if args.command == "demo":
        return demo.run(args)
    if args.command == "schema":
        return _print_schema(args)
    if args.command == "apps":
        for name in available_apps():
            try:
                spec = load_app(name)
            except MissingExtra as exc:
                print(f"{name}\t-\t(not installed: {exc})")
                continue
            print(f"{spec.name}\t{spec.version}\t{spec.description}")
        return 0
    raise AssertionError(args.command)
