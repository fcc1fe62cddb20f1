"""``deskbridge guardian install|uninstall``: the guardian as a system service (:mod:`.install` holds the tables)."""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import get_args

from deskbridge.config import ConfigError
from deskbridge.guardian import install
from deskbridge.guardian.config import load
from deskbridge.guardian.platforms import PlatformName, this_platform


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="deskbridge guardian",
        description="Install the guardian as a system service (docs/guardian.md), or remove it.",
    )
    sub = parser.add_subparsers(dest="action", required=True)
    for action, said in (("install", "install and start the service"), ("uninstall", "stop it and remove it all")):
        command = sub.add_parser(action, help=said)
        command.add_argument("--dry-run", action="store_true", help="print what would be done, and do nothing")
        command.add_argument(
            "--platform", choices=get_args(PlatformName), default=this_platform(),
            help="whose service to make (default: this machine's; other platforms only with --dry-run or --root)",
        )  # fmt: skip
        command.add_argument(
            "--root", type=Path,
            help="put every system path under this folder and run no service manager command (to inspect or test)",
        )  # fmt: skip
        if action == "install":
            command.add_argument("--config", type=Path, help="the guardian's config (checked now) to install")
        else:
            command.add_argument("--keep-data", action="store_true", help="keep the play history and tokens")
    return parser


def main(argv: list[str]) -> int:
    args = _parser().parse_args(argv)
    config_text = "{}\n"
    if getattr(args, "config", None) is not None:
        try:
            raw = json.loads(args.config.read_text(encoding="utf-8"))
            if not isinstance(raw, dict):
                raise ValueError("must be a JSON object")
            load(raw)
        except (OSError, ValueError, ConfigError) as exc:
            print(f"deskbridge guardian: config {args.config}: {exc}", file=sys.stderr)
            return 2
        config_text = json.dumps(raw, indent=2) + "\n"
    facts = install.Facts(root=str(args.root.resolve()) if args.root is not None else "")
    plan = install.plan(args.platform, facts, config_text)
    uninstall = args.action == "uninstall"
    if args.dry_run:
        print(plan.describe(uninstall=uninstall), end="")
        return 0
    if args.root is None and args.platform != this_platform():
        print(f"deskbridge guardian: this is not {args.platform}; use --dry-run or --root", file=sys.stderr)
        return 2
    if args.root is None and hasattr(os, "geteuid") and os.geteuid() != 0:
        print("deskbridge guardian: installing a system service needs root (sudo)", file=sys.stderr)
        return 2
    run = None if args.root is not None else install.run_command
    try:
        if uninstall:
            install.remove(plan, run, keep_data=args.keep_data)
        else:
            install.apply(plan, run)
    except (OSError, subprocess.CalledProcessError) as exc:
        print(f"deskbridge guardian: {args.action} failed: {exc}", file=sys.stderr)
        return 1
    print(f"{args.action}ed: {plan.service_file}" + ("" if uninstall else f"\nstarts: {' '.join(plan.command_line)}"))
    return 0
